import assert from 'node:assert/strict';
import { decodeFirstChunk, checkLaterChunk } from '../../src/audio/chunk-decoder';
import { applyGain, scaleSample } from '../../src/audio/gain';
import { AudioInputError, bytesToMs, DEFAULT_PCM_FORMAT, framesIn, sameFormat } from '../../src/audio/pcm-format';
import { parseWavHeader } from '../../src/audio/wav';
import { wavHeader } from '../simulator/audio';

function int16(...samples: number[]): Buffer {
  const b = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => b.writeInt16LE(s, i * 2));
  return b;
}

function samples16(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) out.push(b.readInt16LE(i));
  return out;
}

describe('audio formats', () => {
  describe('WAV header', () => {
    it("reads DashScope's streaming header (sizes 0xFFFFFFFF) and finds the data at byte 44", () => {
      const h = parseWavHeader(Buffer.concat([wavHeader(16000), int16(1, 2, 3)]));
      assert.deepEqual(h.format, { sampleRate: 16000, channels: 1, bitDepth: 16 });
      assert.equal(h.dataOffset, 44);
    });

    it('skips chunks before the data chunk (LIST) and reads WAVE_FORMAT_EXTENSIBLE PCM', () => {
      const fmt = Buffer.alloc(8 + 40);
      fmt.write('fmt ', 0, 'latin1');
      fmt.writeUInt32LE(40, 4);
      fmt.writeUInt16LE(0xfffe, 8);
      fmt.writeUInt16LE(2, 10);
      fmt.writeUInt32LE(48000, 12);
      fmt.writeUInt32LE(48000 * 6, 16);
      fmt.writeUInt16LE(6, 20);
      fmt.writeUInt16LE(24, 22);
      fmt.writeUInt16LE(22, 24);
      fmt.writeUInt16LE(24, 26);
      fmt.writeUInt16LE(1, 32); // sub-format GUID starts with the PCM tag
      const list = Buffer.alloc(8 + 5 + 1);
      list.write('LIST', 0, 'latin1');
      list.writeUInt32LE(5, 4); // odd size: padded to 6
      const data = Buffer.alloc(8);
      data.write('data', 0, 'latin1');
      const riff = Buffer.alloc(12);
      riff.write('RIFF', 0, 'latin1');
      riff.write('WAVE', 8, 'latin1');
      const buf = Buffer.concat([riff, fmt, list, data]);
      const h = parseWavHeader(buf);
      assert.deepEqual(h.format, { sampleRate: 48000, channels: 2, bitDepth: 24 });
      assert.equal(h.dataOffset, buf.length);
    });

    it('refuses float WAV, a cut-off header and non-WAV data with clear errors', () => {
      const float = wavHeader(24000);
      float.writeUInt16LE(3, 20);
      assert.throws(() => parseWavHeader(float), /format tag 3 is not supported/);
      assert.throws(() => parseWavHeader(wavHeader(24000).subarray(0, 30)), /incomplete/);
      assert.throws(() => parseWavHeader(Buffer.from('not a wave file at all')), /not a WAV stream/);
    });
  });

  describe('first chunk of an utterance', () => {
    const pcm = int16(100, -100, 7);

    it('msg.audio pcm: the Buffer as it is (no copy), format from msg.audio', () => {
      const d = decodeFirstChunk(pcm, { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16 });
      assert.equal(d.pcm, pcm);
      assert.deepEqual(d.format, { sampleRate: 16000, channels: 1, bitDepth: 16 });
    });

    it('msg.audio wav: the 44-byte header is cut off (a view, not a copy) and read', () => {
      const chunk = Buffer.concat([wavHeader(22050), pcm]);
      const d = decodeFirstChunk(chunk, { format: 'wav', sampleRate: 22050, channels: 1, bitDepth: 16 });
      assert.ok(d.pcm.equals(pcm));
      assert.equal(d.pcm.buffer, chunk.buffer, 'same memory');
      assert.equal(d.format.sampleRate, 22050);
    });

    it('no msg.audio: a WAV header decides, else the documented default 24 kHz mono 16-bit', () => {
      assert.equal(decodeFirstChunk(Buffer.concat([wavHeader(8000), pcm]), undefined).format.sampleRate, 8000);
      assert.deepEqual(decodeFirstChunk(pcm, undefined).format, DEFAULT_PCM_FORMAT);
    });

    it('mp3 and opus are refused, telling the user what to change', () => {
      for (const format of ['mp3', 'opus']) {
        assert.throws(
          () => decodeFirstChunk(pcm, { format, sampleRate: 24000, channels: 1 }),
          (err: unknown) => err instanceof AudioInputError && err.code === 'UnsupportedAudioFormat' && /set the synthesis node's format to pcm or wav/.test(err.message),
        );
      }
      assert.throws(() => decodeFirstChunk(Buffer.from('ID3\x04\x00rest'), undefined), /mp3/);
      assert.throws(() => checkLaterChunk({ format: 'opus' }), /pcm or wav/);
      assert.doesNotThrow(() => checkLaterChunk({ format: 'wav' }));
    });

    it('refuses impossible msg.audio numbers', () => {
      assert.throws(() => decodeFirstChunk(pcm, { format: 'pcm', sampleRate: 24000, bitDepth: 12 }), /bit depth/);
      assert.throws(() => decodeFirstChunk(pcm, { format: 'pcm', sampleRate: 'fast' }), /sample rate/);
    });
  });

  describe('gain', () => {
    it('100 % leaves every sample unchanged', () => {
      const b = int16(32767, -32768, 1, -1, 0, 12345);
      assert.ok(applyGain(b, 16, 100).equals(b));
    });

    it('50 % halves every 16-bit sample exactly, truncating toward zero', () => {
      const values: number[] = [];
      for (let s = -32768; s <= 32767; s += 7) values.push(s);
      values.push(32767, 3, -3, 1, -1);
      const out = samples16(applyGain(int16(...values), 16, 50));
      assert.deepEqual(
        out,
        values.map((s) => Math.trunc(s / 2) + 0), // + 0: readInt16LE never returns -0
      );
      assert.deepEqual(samples16(applyGain(int16(3, -3, 1, -1), 16, 50)), [1, -1, 0, 0]);
    });

    it('clamps above 100 % and silences at 0 %', () => {
      assert.deepEqual(samples16(applyGain(int16(30000, -30000, 100), 16, 200)), [32767, -32768, 200]);
      assert.deepEqual(samples16(applyGain(int16(30000, -30000), 16, 0)), [0, 0]);
    });

    it('scales 8-bit unsigned around 128, and 24- and 32-bit signed samples', () => {
      assert.deepEqual([...applyGain(Buffer.from([0, 128, 255, 131]), 8, 50)], [64, 128, 191, 129]);
      const b24 = Buffer.alloc(6);
      b24.writeIntLE(-8388608, 0, 3);
      b24.writeIntLE(1001, 3, 3);
      const o24 = applyGain(b24, 24, 50);
      assert.deepEqual([o24.readIntLE(0, 3), o24.readIntLE(3, 3)], [-4194304, 500]);
      const b32 = Buffer.alloc(4);
      b32.writeInt32LE(-2147483647, 0);
      assert.equal(applyGain(b32, 32, 50).readInt32LE(0), -1073741823);
    });

    it('the rule is trunc(sample * percent / 100) for any percentage', () => {
      for (const percent of [1, 33, 67, 99, 101, 150]) {
        for (const s of [-32768, -12345, -101, -1, 0, 1, 99, 12345, 32767]) {
          assert.equal(scaleSample(s, percent, -32768, 32767), Math.max(-32768, Math.min(32767, Math.trunc((s * percent) / 100))));
        }
      }
    });
  });

  it('durations, whole frames and format equality', () => {
    assert.equal(bytesToMs({ sampleRate: 24000, channels: 1, bitDepth: 16 }, 48000), 1000);
    assert.equal(bytesToMs({ sampleRate: 48000, channels: 2, bitDepth: 24 }, 288), 1);
    assert.equal(framesIn({ sampleRate: 24000, channels: 1, bitDepth: 16 }, 100), 2400);
    assert.ok(sameFormat(DEFAULT_PCM_FORMAT, { sampleRate: 24000, channels: 1, bitDepth: 16 }));
    assert.ok(!sameFormat(DEFAULT_PCM_FORMAT, { sampleRate: 16000, channels: 1, bitDepth: 16 }));
  });
});
