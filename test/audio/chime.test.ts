import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { CHIME_CACHE_BYTES, CHIME_NAMES, CHIMES_DIR, ChimeLibrary, MAX_CHIME_FILE_BYTES, MAX_CHIME_PCM_BYTES, MAX_CHIME_SECONDS } from '../../src/audio/chime';
import { AudioInputError, type BitDepth, type PcmFormat } from '../../src/audio/pcm-format';
import { wavHeader } from '../../src/audio/resample';
import { wavFileHeader } from '../support/voice-samples';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'make-chimes.mjs');
/** −3 dBFS, the most a chime may reach (the node's volume goes up to 141 %). */
const PEAK_LIMIT = Math.floor(32768 * 10 ** (-3 / 20));

function samples16(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) out.push(b.readInt16LE(i));
  return out;
}

/** A WAV file of any integer PCM layout: `frames` holds one array of channel values per frame. */
function wavFile(sampleRate: number, bitDepth: number, frames: readonly (readonly number[])[], formatTag = 1): Buffer {
  const channels = frames[0]?.length ?? 1;
  const width = Math.ceil(bitDepth / 8);
  const data = Buffer.alloc(frames.length * channels * width);
  let at = 0;
  for (const frame of frames) {
    for (const v of frame) {
      if (width === 1) data[at] = v + 128;
      else data.writeIntLE(v, at, width);
      at += width;
    }
  }
  return Buffer.concat([wavFileHeader({ sampleRate, channels, bitsPerSample: bitDepth, formatTag }, data.length), data]);
}

function failure(fn: () => unknown): AudioInputError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AudioInputError, `an AudioInputError, got ${String(err)}`);
    assert.equal(err.code, 'ChimeUnavailable');
    return err;
  }
  assert.fail('it did not throw');
}

describe('chimes', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'chime-test-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('the built-in chimes', () => {
    it('are byte for byte what scripts/make-chimes.mjs writes, one file per name in CHIME_NAMES', () => {
      const out = join(tmp, 'made');
      execFileSync(process.execPath, [SCRIPT, out], { stdio: 'pipe' });
      const made = readdirSync(out).sort();
      const shipped = readdirSync(CHIMES_DIR).filter((f) => f.endsWith('.wav')).sort();
      assert.deepEqual(made, [...CHIME_NAMES].map((n) => `${n}.wav`).sort());
      assert.deepEqual(shipped, made);
      for (const file of made) assert.ok(readFileSync(join(out, file)).equals(readFileSync(join(CHIMES_DIR, file))), `${file} differs from what the script writes: run node scripts/make-chimes.mjs`);
    });

    it('has CHIMES_DIR at <package>/chimes', () => {
      assert.equal(CHIMES_DIR, join(ROOT, 'chimes'));
    });

    for (const name of CHIME_NAMES) {
      it(`${name}: 16-bit mono 24 kHz, starts and ends at 0 with its last 100 ms silent, peaks between -6 and -3 dBFS, at most 1.5 s, no click`, () => {
        const bytes = readFileSync(join(CHIMES_DIR, `${name}.wav`));
        assert.ok(bytes.subarray(0, 44).equals(wavHeader(24000, bytes.length - 44)), 'the canonical mono 16-bit 24 kHz header');
        const s = samples16(bytes.subarray(44));
        assert.ok(s.length <= 1.5 * 24000, `${s.length / 24} ms`);
        assert.equal(s[0], 0);
        assert.deepEqual(s.slice(-2400), new Array<number>(2400).fill(0), 'the last 100 ms are silence');
        const peak = Math.max(...s.map(Math.abs));
        assert.ok(peak <= PEAK_LIMIT && peak * 1.41 < 32767, `peak ${peak} (limit ${PEAK_LIMIT})`);
        assert.ok(peak >= 32768 * 10 ** (-6 / 20), `peak ${peak}: too quiet to hear before speech`);
        // No click: the sound rises from and falls back to silence over more than half a millisecond
        // (first and last 12 samples under 5 % of the peak), and no step between two samples is a
        // jump (the steepest the partials make at this level is under 0.45 of the peak).
        let end = s.length - 1;
        while (s[end] === 0) end--;
        const edge = Math.max(...s.slice(0, 12).map(Math.abs), ...s.slice(end - 11, end + 1).map(Math.abs));
        assert.ok(edge < peak * 0.05, `${edge} within 0.5 ms of an edge, peak ${peak}`);
        let step = 0;
        for (let i = 1; i < s.length; i++) step = Math.max(step, Math.abs((s[i] as number) - (s[i - 1] as number)));
        assert.ok(step < peak * 0.5, `largest step ${step}, peak ${peak}`);
        // A real sound: not silence with a short blip.
        assert.ok(s.slice(0, s.length - 2400).filter((v) => Math.abs(v) > 100).length > 2400, 'at least 100 ms of audible sound');
      });
    }

    it('loads each built-in once, with its exact duration, and gives its own samples for 24000 Hz mono 16-bit', () => {
      const library = new ChimeLibrary();
      for (const name of CHIME_NAMES) {
        const chime = library.load(name);
        assert.equal(chime.name, name);
        assert.equal(library.load(name), chime, 'kept, not read again');
        const data = readFileSync(join(CHIMES_DIR, `${name}.wav`)).subarray(44);
        assert.equal(chime.durationMs, data.length / 2 / 24);
        const pcm = chime.pcmFor({ sampleRate: 24000, channels: 1, bitDepth: 16 });
        assert.ok(pcm.equals(data));
        assert.equal(chime.pcmFor({ sampleRate: 24000, channels: 1, bitDepth: 16 }), pcm, 'converted once per format');
      }
    });

    it('converts to 48000 Hz stereo 24-bit: twice the frames, every sample on both channels, shifted to 24 bits', () => {
      const chime = new ChimeLibrary().load('ding');
      const s = samples16(readFileSync(join(CHIMES_DIR, 'ding.wav')).subarray(44));
      const pcm = chime.pcmFor({ sampleRate: 48000, channels: 2, bitDepth: 24 });
      assert.equal(pcm.length, s.length * 2 * 2 * 3);
      const frame = (i: number): [number, number] => [pcm.readIntLE(i * 6, 3), pcm.readIntLE(i * 6 + 3, 3)];
      for (const i of [0, 1, 100, 101, 2000, 5000, s.length - 1]) {
        // Even output frames fall on input samples; odd ones halfway between two.
        assert.deepEqual(frame(2 * i), [(s[i] as number) * 256, (s[i] as number) * 256], `frame ${2 * i}`);
      }
      const a = s[100] as number;
      const b = s[101] as number;
      assert.deepEqual(frame(201), [Math.round((a + b) / 2) * 256, Math.round((a + b) / 2) * 256]);
      assert.deepEqual(frame(s.length * 2 - 1), [0, 0]);
    });

    it('converts to 8-bit unsigned (silence 0x80) and to 16000 Hz 32-bit', () => {
      const chime = new ChimeLibrary().load('ding-dong');
      const s = samples16(readFileSync(join(CHIMES_DIR, 'ding-dong.wav')).subarray(44));
      const u8 = chime.pcmFor({ sampleRate: 24000, channels: 1, bitDepth: 8 });
      assert.equal(u8.length, s.length);
      assert.equal(u8[0], 0x80);
      assert.ok(u8.subarray(-2400).every((v) => v === 0x80), 'the closing silence is 0x80');
      for (const i of [500, 3000, 7000]) assert.equal(u8[i], ((s[i] as number) >> 8) + 128);
      const peak = Math.max(...s.map(Math.abs));
      const peakIndex = s.findIndex((v) => Math.abs(v) === peak);
      assert.ok(Math.abs((u8[peakIndex] as number) - 128) > 64, 'the peak is loud in 8 bits too');

      const s32 = chime.pcmFor({ sampleRate: 16000, channels: 1, bitDepth: 32 });
      assert.equal(s32.length, Math.round((s.length * 16000) / 24000) * 4);
      // Every other output sample falls on an input sample (16000/24000 = 2/3).
      for (const i of [0, 300, 1000, 4000]) assert.equal(s32.readInt32LE(i * 8), (s[i * 3] as number) * 65536);
    });

    it('names a built-in that is missing from the package', () => {
      const err = failure(() => new ChimeLibrary(join(tmp, 'nowhere')).load('ding'));
      assert.match(err.message, /^chime "ding": the built-in chime is missing from the package \(ENOENT\): reinstall it$/);
    });

    it('is found through CHIMES_DIR from a bundle two folders below the package root (nodes/lib/runtime.js)', () => {
      const pkg = join(tmp, 'package');
      const outfile = join(pkg, 'nodes', 'lib', 'runtime.js');
      buildSync({ entryPoints: [join(ROOT, 'src', 'audio', 'chime.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'silent' });
      cpSync(CHIMES_DIR, join(pkg, 'chimes'), { recursive: true });
      const bundled = require(outfile) as typeof import('../../src/audio/chime');
      assert.equal(bundled.CHIMES_DIR, join(pkg, 'chimes'));
      assert.equal(new bundled.ChimeLibrary().load('alert').durationMs, 460);
    });
  });

  describe('chime files', () => {
    let dir: string;
    before(() => {
      dir = join(tmp, 'files');
      mkdirSync(dir);
    });

    it('mixes a stereo 44.1 kHz file down to mono and fades its first and last 3 ms from and to 0', () => {
      const path = join(dir, 'stereo.wav');
      // 100 ms of a constant level: 10000 left, 2000 right (an abrupt start and end).
      writeFileSync(path, wavFile(44100, 16, Array.from({ length: 4410 }, () => [10000, 2000])));
      const chime = new ChimeLibrary().load(path);
      assert.equal(chime.name, path);
      assert.equal(chime.durationMs, 100);
      const s = samples16(chime.pcmFor({ sampleRate: 44100, channels: 1, bitDepth: 16 }));
      assert.equal(s.length, 4410);
      const fade = Math.round(3 * 44.1); // 132 samples
      assert.equal(s[0], 0);
      assert.equal(s[4409], 0);
      assert.equal(s[fade], 6000, 'the middle is the mean of both channels');
      assert.deepEqual(s.slice(fade, 4410 - fade), new Array<number>(4410 - 2 * fade).fill(6000), 'untouched between the fades');
      assert.equal(s[fade / 2], 3000, 'halfway through the raised cosine');
      assert.equal(s[4409 - fade / 2], 3000);
      for (let i = 1; i < fade; i++) assert.ok((s[i] as number) > (s[i - 1] as number), `rising at ${i}`);
      // On a stereo device both channels get the mono chime.
      const stereo = chime.pcmFor({ sampleRate: 44100, channels: 2, bitDepth: 16 });
      assert.deepEqual([stereo.readInt16LE(fade * 4), stereo.readInt16LE(fade * 4 + 2)], [6000, 6000]);
    });

    it('reads 8, 24 and 32-bit files into the same 16-bit samples', () => {
      const frames = (v: number): number[][] => Array.from({ length: 2000 }, () => [v]);
      const library = new ChimeLibrary();
      const cases: [BitDepth, number, number][] = [
        [8, 64, 64 * 256],
        [24, 0x123456, 0x1234],
        [32, -0x12345678, -0x1235], // arithmetic shift: toward -infinity
      ];
      for (const [bits, value, expected] of cases) {
        const path = join(dir, `depth-${bits}.wav`);
        writeFileSync(path, wavFile(8000, bits, frames(value)));
        const s = samples16(library.load(path).pcmFor({ sampleRate: 8000, channels: 1, bitDepth: 16 }));
        assert.equal(s[1000], expected, `${bits}-bit`);
      }
    });

    it('is read again when the file changes (size or modification time), and kept while it does not', () => {
      const path = join(dir, 'changing.wav');
      const format: PcmFormat = { sampleRate: 8000, channels: 1, bitDepth: 16 };
      const level = (chime: { pcmFor(f: PcmFormat): Buffer }): number => chime.pcmFor(format).readInt16LE(1000);
      const library = new ChimeLibrary();
      writeFileSync(path, wavFile(8000, 16, Array.from({ length: 2000 }, () => [1000])));
      const first = library.load(path);
      assert.equal(level(first), 1000);
      assert.equal(library.load(path), first, 'unchanged: kept');

      writeFileSync(path, wavFile(8000, 16, Array.from({ length: 3000 }, () => [2000])));
      const second = library.load(path);
      assert.notEqual(second, first);
      assert.equal(level(second), 2000);
      assert.equal(second.durationMs, 375);

      // Same size, new content: the modification time tells.
      writeFileSync(path, wavFile(8000, 16, Array.from({ length: 3000 }, () => [3000])));
      const later = new Date(Date.now() + 60_000);
      utimesSync(path, later, later);
      const third = library.load(path);
      assert.equal(level(third), 3000);
      assert.equal(library.load(path), third);
    });

    describe('converted within bounds: the message chooses the format, not how much memory a chime takes', () => {
      const MB = 1024 * 1024;
      /** 4096 frames at 4000 Hz: at 256000 Hz (64 times the frames), 8 channels, 32-bit it is exactly 8 MB. */
      const EXACT = { frames: 4096, format: { sampleRate: 256000, channels: 8, bitDepth: 32 } as PcmFormat };
      let exact: string;
      let over: string;
      before(() => {
        exact = join(dir, 'exact.wav');
        over = join(dir, 'over.wav');
        writeFileSync(exact, wavFile(4000, 16, Array.from({ length: EXACT.frames }, () => [1000])));
        writeFileSync(over, wavFile(4000, 16, Array.from({ length: EXACT.frames + 1 }, () => [1000])));
      });

      it('one conversion takes at most MAX_CHIME_PCM_BYTES (8 MB): exactly that plays, a frame more is ChimeUnavailable, saying why', () => {
        assert.equal(MAX_CHIME_PCM_BYTES, 8 * MB);
        const library = new ChimeLibrary();
        assert.equal(library.load(exact).pcmFor(EXACT.format).length, MAX_CHIME_PCM_BYTES);
        const err = failure(() => library.load(over).pcmFor(EXACT.format));
        assert.equal(err.message, 'in 256000 Hz 8 ch 32-bit it would take 8.1 MB, more than the 8 MB a chime may');
        // The same chime in a smaller format still plays.
        assert.equal(library.load(over).pcmFor({ sampleRate: 256000, channels: 4, bitDepth: 32 }).length, (EXACT.frames + 1) * 64 * 16);
        // A built-in too: ding-dong (1.04 s) at 384 kHz, 8 channels, 32-bit would be 12.2 MB.
        assert.equal(failure(() => library.load('ding-dong').pcmFor({ sampleRate: 384000, channels: 8, bitDepth: 32 })).message, 'in 384000 Hz 8 ch 32-bit it would take 12.2 MB, more than the 8 MB a chime may');
      });

      it('a library keeps at most CHIME_CACHE_BYTES (32 MB) of conversions, the least recently used dropped first', () => {
        assert.equal(CHIME_CACHE_BYTES, 32 * MB);
        const chime = new ChimeLibrary().load(exact);
        const at = (channels: number, bitDepth: BitDepth = 32): PcmFormat => ({ sampleRate: 256000, channels, bitDepth });
        // 8 + 7 + 6 + 6 + 5 = 32 MB: all kept.
        const kept = [at(8), at(7), at(6), at(8, 24), at(5)].map((f) => [f, chime.pcmFor(f)] as const);
        for (const [f, pcm] of kept) assert.equal(chime.pcmFor(f), pcm, `${f.channels} ch ${f.bitDepth}-bit kept`);
        // Used in the order above again: 8 ch 32-bit is the least recently used. 4 MB more drops it, and only it.
        chime.pcmFor(at(4));
        for (const [f, pcm] of kept.slice(1)) assert.equal(chime.pcmFor(f), pcm, `${f.channels} ch ${f.bitDepth}-bit still kept`);
        const again = chime.pcmFor(at(8));
        assert.notEqual(again, kept[0]?.[1], 'converted again');
        assert.ok(again.equals(kept[0]?.[1] as Buffer), 'to the same samples');
      });

      it("the bound is the library's, over all its chimes", () => {
        const library = new ChimeLibrary(CHIMES_DIR, 1024 * 1024);
        const f: PcmFormat = { sampleRate: 48000, channels: 8, bitDepth: 32 };
        // ding (0.68 s) and alert (0.46 s) at 48 kHz 8 ch 32-bit: 1.0 and 0.7 MB, together more than 1 MB.
        const ding = library.load('ding');
        const first = ding.pcmFor(f);
        assert.equal(ding.pcmFor(f), first);
        library.load('alert').pcmFor(f);
        assert.notEqual(ding.pcmFor(f), first, 'the other chime took its place');
      });
    });

    describe('refused with a reason', () => {
      it('an unknown name lists the built-in chimes; a relative path asks for the full path', () => {
        assert.equal(
          failure(() => new ChimeLibrary().load('gong')).message,
          'chime "gong": there is no built-in chime of that name (ding, ding-dong, three-tone, alert); a WAV file is named by its path',
        );
        for (const spec of ['sounds/bell.wav', 'bell.wav', '~/bell.wav', './ding']) {
          assert.match(failure(() => new ChimeLibrary().load(spec)).message, new RegExp(`^chime "${spec.replace(/[.]/g, '\\.')}": give the full path of the WAV file`));
        }
      });

      it('a missing file, a directory, a file too large, a text file', () => {
        const library = new ChimeLibrary();
        assert.equal(failure(() => library.load(join(dir, 'missing.wav'))).message, `chime "${join(dir, 'missing.wav')}": file not found`);
        assert.equal(failure(() => library.load(dir)).message, `chime "${dir}": a directory, not a WAV file`);
        const big = join(dir, 'big.wav');
        writeFileSync(big, Buffer.concat([wavHeader(24000, 2 * 1024 * 1024), Buffer.alloc(2 * 1024 * 1024)]));
        assert.equal(failure(() => library.load(big)).message, `chime "${big}": the file is larger than 1 MB (${2 * 1024 * 1024 + 44} bytes): a chime is a short sound`);
        assert.equal(MAX_CHIME_FILE_BYTES, 1024 * 1024);
        const text = join(dir, 'notes.wav');
        writeFileSync(text, 'password=hunter2 and other secrets\n');
        const err = failure(() => library.load(text));
        assert.equal(err.message, `chime "${text}": not a WAV file (it does not start with a RIFF/WAVE header)`);
        assert.doesNotMatch(err.message, /hunter2|secret/);
      });

      it('a WAV that is not integer PCM, of an unsupported bit depth, without samples, too long, or cut off', () => {
        const library = new ChimeLibrary();
        // A marker in each file (after the samples; in the cut-off fmt chunk): no message may quote
        // a file's contents.
        const marker = Buffer.from('MARKER-IN-FILE');
        const cut = wavFile(24000, 16, [[1]]);
        const cases: [string, Buffer, RegExp][] = [
          ['float.wav', wavFile(24000, 32, [[0], [1]], 3), /: not integer PCM \(WAV format tag 3\): save it as 8, 16, 24 or 32-bit PCM$/],
          ['12bit.wav', wavFile(24000, 12, [[0], [1]]), /: unsupported bit depth 12: 8, 16, 24 or 32-bit PCM can be played$/],
          // No marker here: a data size of 0 is a streamed WAV's, and what follows would be its samples.
          ['empty.wav', wavFile(24000, 16, []).subarray(0, 44), /: it has no samples$/],
          ['long.wav', wavFile(4000, 8, Array.from({ length: (MAX_CHIME_SECONDS + 1) * 4000 }, () => [0])), /: it is longer than 10 s$/],
          ['cut.wav', Buffer.concat([cut.subarray(0, 24), marker.subarray(0, 8)]), /: its WAV header is unusable \(its fmt chunk is truncated\)$/],
          ['nine.wav', wavFile(24000, 16, [[1, 1, 1, 1, 1, 1, 1, 1, 1]]), /: its WAV header: channels must be 1 to 8 \(got 9\)$/],
        ];
        for (const [file, bytes, reason] of cases) {
          const path = join(dir, file);
          writeFileSync(path, file === 'empty.wav' || file === 'cut.wav' ? bytes : Buffer.concat([bytes, marker]));
          const err = failure(() => library.load(path));
          assert.match(err.message, new RegExp(`^chime "${path.replace(/[.]/g, '\\.')}"`));
          assert.match(err.message, reason, file);
          assert.doesNotMatch(err.message, /MARKER/);
        }
      });

      it('a named pipe, without waiting for a writer (in a child process, so a hang fails the test instead of stalling it)', () => {
        const fifo = join(dir, 'pipe.wav');
        execFileSync('mkfifo', [fifo]);
        const program = `const { ChimeLibrary } = require(${JSON.stringify(join(ROOT, 'src', 'audio', 'chime.ts'))});
          try { new ChimeLibrary().load(${JSON.stringify(fifo)}); console.log('loaded'); } catch (err) { console.log(err.code + ' ' + err.message); }`;
        const started = Date.now();
        const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', program], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
        assert.equal(out.trim(), `ChimeUnavailable chime "${fifo}": a named pipe, not a WAV file`);
        assert.ok(Date.now() - started < 20_000);
      });
    });
  });
});
