// The player's announcement features (issue 21) against a recording device and fake timers: the
// chime in front of an utterance, the lead-in of silence after each device open, the started
// event, expiry (msg.ttl), per-utterance volume (msg.speakerVolume) and keep-open. Each test
// looks at the bytes that reached the device and the times the clock gives.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import type { Chime } from '../../src/audio/announcement';
import { bytesToMs, frameBytes, framesIn, type PcmFormat } from '../../src/audio/pcm-format';
import { BATCH_MAX_MS, type PlayerOptions, type QueueMode } from '../../src/audio/player';
import { DeviceError } from '../../src/audio/sinks/sink';
import { audio, F24, FakeSink, playerHarness, tagRuns, type Harness } from './player-harness';

const F8: PcmFormat = { sampleRate: 8000, channels: 1, bitDepth: 8 };
const PCM8 = { format: 'pcm', sampleRate: 8000, channels: 1, bitDepth: 8 };

/** A chime of `ms` whose samples carry tag 7 (16-bit), or are 0x90 (8-bit); counts the formats asked for. */
function fakeChime(ms: number, name = 'ding'): Chime & { asked: PcmFormat[] } {
  const asked: PcmFormat[] = [];
  return {
    name,
    durationMs: ms,
    asked,
    pcmFor(format: PcmFormat): Buffer {
      asked.push(format);
      return format.bitDepth === 8 ? Buffer.alloc(framesIn(format, ms), 0x90) : audio(ms, 7, format);
    },
  };
}

/** `ms` of 16-bit samples of both signs, odd and even, so truncation toward zero shows. */
function signed(ms: number, seed: number): Buffer {
  const n = Math.round((ms * 24000) / 1000);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(((i * 7919 + seed * 104729) % 65536) - 32768, i * 2);
  return b;
}

/** Each sample × percent / 100, truncated toward zero: the documented rule, written out independently. */
function scaledBy(src: Buffer, percent: number): Buffer {
  const out = Buffer.alloc(src.length);
  for (let i = 0; i < src.length; i += 2) out.writeInt16LE(Math.trunc((src.readInt16LE(i) * percent) / 100), i);
  return out;
}

/** Byte-exact, and where not, says where they part (a failing assert.ok without a message is slow to describe). */
function assertBytes(actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  assert.fail(`${what}: ${actual.length} bytes written, ${expected.length} expected; they differ from byte ${i}`);
}

const bytesOf = (ms: number, format: PcmFormat = F24): number => framesIn(format, ms) * frameBytes(format);

describe('PCM player: announcements (issue 21)', () => {
  let clock: sinon.SinonFakeTimers;

  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  function harness(options: Partial<PlayerOptions> & { queueMode?: QueueMode } = {}): Harness {
    return playerHarness(clock, options);
  }

  describe('chime', () => {
    it('plays right before the speech in one write stream: the bytes are chime then speech, exactly, with no gap', async () => {
      const h = harness();
      const chime = fakeChime(150);
      const speech = audio(300, 1);
      h.push('a', speech.subarray(0, 4800), { options: () => ({ chime }) });
      h.push('a', speech.subarray(4800), { end: true });
      await clock.tickAsync(0);
      assert.equal(h.sinks.length, 1);
      assertBytes(h.written(), Buffer.concat([audio(150, 7), speech]), 'chime first, then every byte of the speech, once');
      assert.deepEqual(tagRuns(h.written()), [7, 1]);
      assert.deepEqual(chime.asked, [F24], 'its samples asked for once, in the utterance format');
      await clock.tickAsync(449);
      assert.equal(h.reports.length, 0, 'the chime counts as playing time');
      await clock.tickAsync(1);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.durationMs, r.chimeMs, r.bytes, r.at]),
        [['a', 450, 150, speech.length, 450]],
      );
      assert.deepEqual(
        h.starts.map((s) => [s.id, s.chime, s.at]),
        [['a', { name: 'ding', durationMs: 150 }, 0]],
      );
    });

    it('is written at once although only 20 ms of speech arrived and the pre-buffer is 200 ms; the speech follows it without a gap', async () => {
      const h = harness({ prebufferMs: 200 });
      const chime = fakeChime(150);
      const speech = audio(400, 1);
      h.push('a', speech.subarray(0, bytesOf(20)), { options: () => ({ chime }) });
      await clock.tickAsync(0);
      assert.equal(h.sinks.length, 1, 'the device opens for the chime');
      assertBytes(h.written(), Buffer.concat([audio(150, 7), speech.subarray(0, bytesOf(20))]), 'the whole chime (its 50 ms tail too), with the speech that came');
      assert.deepEqual(
        h.starts.map((s) => [s.id, s.at]),
        [['a', 0]],
        'its first sample plays at once',
      );
      await clock.tickAsync(50);
      h.push('a', speech.subarray(bytesOf(20)), { end: true });
      await clock.tickAsync(0);
      assertBytes(h.written(), Buffer.concat([audio(150, 7), speech]), 'the speech right behind the chime, while the chime still plays');
      await clock.tickAsync(500);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.durationMs, r.chimeMs, r.at]),
        [['a', 550, 150, 550]],
        'gap-free: chime and speech end at 150 + 400 ms',
      );
    });

    it('goes in front of the first samples only: never before a later chunk, and an utterance with no audio gets none', async () => {
      const h = harness();
      const chime = fakeChime(100);
      const speech = audio(300, 1);
      // The first chunk holds no samples (like a WAV stream's header): the chime waits for the first that do.
      h.push('a', Buffer.alloc(0), { options: () => ({ chime }) });
      for (let i = 0; i < 3; i++) h.push('a', speech.subarray(i * 4800, (i + 1) * 4800));
      h.push('a', Buffer.alloc(0), { end: true });
      h.push('empty', Buffer.alloc(0), { end: true, options: () => ({ chime }) });
      await clock.tickAsync(500);
      assertBytes(h.written(), Buffer.concat([audio(100, 7), speech]), 'one chime, in front of the speech');
      assert.deepEqual(tagRuns(h.written()), [7, 1], 'one chime, in front');
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.chimeMs, r.durationMs]),
        [
          ['a', 100, 400],
          ['empty', undefined, 0],
        ],
      );
      assert.deepEqual(
        h.starts.map((s) => s.id),
        ['a'],
        'an utterance that plays nothing never starts',
      );
    });

    it('is scaled with its utterance (volumePercent) and the node volume, like the speech', async () => {
      const h = harness({ gainPercent: 80 });
      const chime = fakeChime(100);
      const speech = signed(200, 1);
      h.push('a', speech, { end: true, options: () => ({ chime, volumePercent: 50 }) });
      await clock.tickAsync(400);
      assertBytes(h.written(), Buffer.concat([scaledBy(audio(100, 7), 40), scaledBy(speech, 40)]), '80 % × 50 % = 40 %, on every sample of both');
    });

    it('a chime whose samples cannot be made is left out with a warning: the utterance itself plays', async () => {
      const h = harness();
      const broken: Chime = {
        name: 'broken',
        durationMs: 100,
        pcmFor: () => {
          throw new Error('cannot convert');
        },
      };
      const speech = audio(200, 1);
      h.push('a', speech, { end: true, options: () => ({ chime: broken }) });
      await clock.tickAsync(300);
      assertBytes(h.written(), speech, 'the speech alone');
      assert.match(h.warnings[0] ?? '', /^chime broken cannot be played before utterance a: cannot convert; it plays without it$/);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.chimeMs]),
        [['a', false, undefined]],
      );
      assert.equal(h.starts[0]?.chime, undefined);
    });

    it('is played again when a priority cut-in rewinds its utterance; that one is told started once, when it really starts', async () => {
      const h = harness();
      const a = audio(1000, 1);
      const b = audio(300, 2);
      const p = audio(200, 9);
      h.push('a', a, { end: true });
      h.push('b', b, { end: true, options: () => ({ chime: fakeChime(100) }) });
      await clock.tickAsync(400);
      assertBytes(h.written(), Buffer.concat([a, audio(100, 7), b]), 'b and its chime written ahead');
      h.push('p', p, { end: true, priority: true });
      await clock.tickAsync(0);
      assertBytes(h.sinks[1]!.bytes, Buffer.concat([p, audio(100, 7), b]), 'after the cut: p, then b from its chime');
      await clock.tickAsync(1000);
      assert.deepEqual(
        h.starts.map((s) => [s.id, s.at, s.queueWaitMs]),
        [
          ['a', 0, 0],
          ['p', 400, 0],
          ['b', 600, 600],
        ],
        'b not at 1000, where it would have started before the cut',
      );
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.durationMs, r.chimeMs, r.at]),
        [
          ['a', true, 400, undefined, 400],
          ['p', false, 200, undefined, 600],
          ['b', false, 400, 100, 1000],
        ],
      );
      assert.ok(h.player.bufferedMs < 0.01, `${h.player.bufferedMs} ms held after everything played`);
    });
  });

  describe('lead-in', () => {
    /** The silence written before the first sample of `tag` on `sink`'s writes. */
    function leadingSilence(writes: Buffer[], silence: number): Buffer[] {
      const out: Buffer[] = [];
      for (const w of writes) {
        if (!w.every((byte) => byte === silence)) break;
        out.push(w);
      }
      return out;
    }

    it('writes the configured silence at each device open, in writes of at most BATCH_MAX_MS, counted as playing time', async () => {
      const h = harness({ leadInMs: 250, idleCloseMs: 1000 });
      const a = audio(200, 1);
      h.push('a', a, { end: true });
      h.push('b', audio(100, 2), { end: true });
      await clock.tickAsync(0);
      const lead = leadingSilence(h.sinks[0]!.writes, 0);
      assert.equal(Buffer.concat(lead).length, bytesOf(250), 'exactly 250 ms of silence');
      assert.ok(
        lead.every((w) => bytesToMs(F24, w.length) <= BATCH_MAX_MS),
        `writes of ${lead.map((w) => bytesToMs(F24, w.length)).join(', ')} ms`,
      );
      assertBytes(h.sinks[0]!.bytes, Buffer.concat([Buffer.alloc(bytesOf(250)), a, audio(100, 2)]), 'then a and b, once, with no more silence between them');
      await clock.tickAsync(600);
      assert.deepEqual(
        h.starts.map((s) => [s.id, s.at, s.leadInMs, s.queueWaitMs]),
        [
          ['a', 250, 250, 250],
          ['b', 450, 0, 450],
        ],
      );
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.durationMs, r.at]),
        [
          ['a', 200, 450],
          ['b', 100, 550],
        ],
        'the lead-in is no part of an utterance, but the clock counts it',
      );
      // Keep-open passes: the device is closed; the next utterance opens another, which gets its own lead-in.
      await clock.tickAsync(1000);
      assert.equal(h.sinks[0]!.finished, true);
      h.push('c', audio(100, 3), { end: true });
      await clock.tickAsync(0);
      assert.equal(h.sinks.length, 2);
      assertBytes(h.sinks[1]!.bytes, Buffer.concat([Buffer.alloc(bytesOf(250)), audio(100, 3)]), 'the new device: its own lead-in, then c');
      await clock.tickAsync(400);
      assert.deepEqual(h.starts[2] && [h.starts[2].id, h.starts[2].leadInMs, h.starts[2].at - 1600], ['c', 250, 250]);
    });

    it('a device reopened after a priority cut-in gets it again; the cut never rewinds it', async () => {
      const h = harness({ leadInMs: 100 });
      const a = audio(1000, 1);
      const b = audio(200, 2);
      const p = audio(200, 9);
      h.push('a', a, { end: true });
      h.push('b', b, { end: true });
      await clock.tickAsync(500);
      h.push('p', p, { end: true, priority: true });
      await clock.tickAsync(0);
      assert.equal(h.sinks.length, 2);
      assertBytes(h.sinks[1]!.bytes, Buffer.concat([Buffer.alloc(bytesOf(100)), p, b]), 'silence, p, then b again; no second silence');
      await clock.tickAsync(1000);
      assert.deepEqual(
        h.starts.map((s) => [s.id, s.at, s.leadInMs]),
        [
          ['a', 100, 100],
          ['p', 600, 100],
          ['b', 800, 0],
        ],
      );
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.durationMs, r.at]),
        [
          ['a', true, 400, 500],
          ['p', false, 200, 800],
          ['b', false, 200, 1000],
        ],
      );
    });

    it('is silence in the device format: 0x80 for unsigned 8-bit', async () => {
      const h = harness({ leadInMs: 300 });
      const a = Buffer.alloc(framesIn(F8, 100), 0x20);
      h.push('a', a, { audio: PCM8, end: true, options: () => ({ chime: fakeChime(50) }) });
      await clock.tickAsync(0);
      const expected = Buffer.concat([Buffer.alloc(framesIn(F8, 300), 0x80), Buffer.alloc(framesIn(F8, 50), 0x90), a]);
      assertBytes(h.written(), expected, 'lead-in of 0x80, chime, speech');
      assert.equal(h.sinks[0]!.format.bitDepth, 8);
    });
  });

  describe('the started event', () => {
    it('fires when the clock reaches the first sample, once, with the queue wait and the first-audio latency', async () => {
      clock.tick(1000);
      const h = harness();
      h.push('a', audio(300, 1), { end: true, options: () => ({ requestedAt: 900 }) });
      await clock.tickAsync(100);
      h.push('b', audio(200, 2), { end: true, options: () => ({ requestedAt: 1020 }) });
      h.push('c', audio(100, 3), { end: true });
      await clock.tickAsync(0);
      assert.deepEqual(
        h.starts.map((s) => [s.id, s.at]),
        [['a', 1000]],
        'b is in the device, behind a',
      );
      await clock.tickAsync(199);
      assert.equal(h.starts.length, 1, 'not a millisecond before its first sample plays');
      await clock.tickAsync(1);
      assert.deepEqual(
        h.starts.map((s) => [s.id, s.at]),
        [
          ['a', 1000],
          ['b', 1300],
        ],
      );
      await clock.tickAsync(1000);
      assert.deepEqual(
        h.starts.map((s) => ({ id: s.id, meta: s.meta, queueWaitMs: s.queueWaitMs, firstAudioMs: s.firstAudioMs, backend: s.backend, leadInMs: s.leadInMs, chime: s.chime })),
        [
          { id: 'a', meta: 'meta-a', queueWaitMs: 0, firstAudioMs: 100, backend: 'speaker', leadInMs: 0, chime: undefined },
          { id: 'b', meta: 'meta-b', queueWaitMs: 200, firstAudioMs: 280, backend: 'speaker', leadInMs: 0, chime: undefined },
          { id: 'c', meta: 'meta-c', queueWaitMs: 400, firstAudioMs: 400, backend: 'speaker', leadInMs: 0, chime: undefined },
        ],
      );
      assert.deepEqual(h.events, ['started:a', 'finished:a', 'started:b', 'finished:b', 'started:c', 'finished:c'], 'a start at the instant another ends comes after it');
    });

    it('is not told for an utterance stopped before it started', async () => {
      const h = harness();
      h.push('a', audio(500, 1), { end: true });
      h.push('b', audio(500, 2), { end: true });
      await clock.tickAsync(100);
      h.player.stop();
      await clock.tickAsync(2000);
      assert.deepEqual(h.events, ['started:a', 'finished:a', 'finished:b'], 'b was in the device, but never played');
    });

    it('is not told for an utterance replaced before it started', async () => {
      const r = harness({ queueMode: 'replace' });
      r.push('a', audio(500, 1), { end: true });
      await clock.tickAsync(100);
      r.push('b', audio(300, 2)); // streaming when c replaces it
      r.push('c', audio(200, 3), { end: true });
      await clock.tickAsync(1000);
      assert.deepEqual(r.events, ['started:a', 'finished:a', 'finished:b', 'started:c', 'finished:c']);
    });

    it('a start whose timer is late is told before that utterance is reported, when its first sample did play', async () => {
      const h = harness();
      h.push('a', audio(500, 1), { end: true });
      h.push('b', audio(500, 2), { end: true });
      await clock.tickAsync(0);
      clock.setSystemTime(600); // the clock moves on, the timers have not run yet
      h.player.stop();
      assert.deepEqual(h.events, ['started:a', 'finished:a', 'started:b', 'finished:b'], 'b played from 500');
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.durationMs]),
        [
          ['a', 500],
          ['b', 100],
        ],
      );
      await clock.tickAsync(2000);
      assert.equal(h.events.length, 4, 'nothing more');
    });

    it('is not told after close', async () => {
      const c = harness();
      c.push('a', audio(500, 1), { end: true });
      c.push('b', audio(500, 2), { end: true });
      await clock.tickAsync(100);
      assert.ok(clock.countTimers() > 0, 'timers are running');
      await c.player.close();
      assert.equal(clock.countTimers(), 0, 'no start, completion, stall or expiry timer left');
      await clock.tickAsync(2000);
      assert.deepEqual(c.events, ['started:a']);
    });

    it('costs no timer per chunk, with a chime and an expiry', async () => {
      const h = harness({ stallMs: 5000 });
      const setTimeoutSpy = sinon.spy(globalThis, 'setTimeout');
      try {
        h.push('a', audio(20, 1), { options: () => ({ chime: fakeChime(100), expiresAt: 100_000 }) });
        for (let i = 0; i < 50; i++) {
          await clock.tickAsync(20);
          h.push('a', audio(20, 1));
        }
        assert.equal(setTimeoutSpy.callCount, 2, `${setTimeoutSpy.callCount} timers set for 50 chunks (the stall and the expiry watch)`);
        assert.equal(h.starts.length, 1);
      } finally {
        setTimeoutSpy.restore();
      }
    });
  });

  describe('expiry (msg.ttl)', () => {
    it('on arrival: one already past its expiresAt is reported expired at once, never played; its later chunks are dropped, the next one plays', async () => {
      clock.tick(5000);
      const h = harness();
      h.push('first', audio(100, 3)); // streaming: 'old' would wait behind it
      h.push('old', audio(100, 1), { options: () => ({ expiresAt: 4999, chime: fakeChime(100) }) });
      assert.deepEqual(
        h.reports.map((r) => ({ id: r.id, expired: r.expired, lateMs: r.lateMs, interrupted: r.interrupted, durationMs: r.durationMs, chimeMs: r.chimeMs, at: r.at })),
        [{ id: 'old', expired: true, lateMs: 1, interrupted: false, durationMs: 0, chimeMs: undefined, at: 5000 }],
      );
      h.push('old', audio(100, 1));
      h.push('old', Buffer.alloc(0), { end: true });
      h.push('next', audio(100, 2), { end: true });
      h.push('first', Buffer.alloc(0), { end: true });
      await clock.tickAsync(300);
      assertBytes(h.written(), Buffer.concat([audio(100, 3), audio(100, 2)]), 'first, then next');
      assert.deepEqual(h.events, ['finished:old', 'started:first', 'finished:first', 'started:next', 'finished:next']);
      assert.ok(h.player.bufferedMs < 0.01, `${h.player.bufferedMs} ms held`);
    });

    it('when it would be written first: behind audio that plays past its expiresAt, it is dropped then, not when the timer comes', async () => {
      const h = harness();
      h.push('a', audio(1000, 1), { end: true });
      h.push('b', audio(200, 2), { end: true, options: () => ({ expiresAt: 500 }) });
      h.push('c', audio(200, 3), { end: true });
      await clock.tickAsync(0);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.expired, r.lateMs, r.at]),
        [['b', true, 0, 0]],
        'a plays until 1000: b could not start by 500 (dropped before its expiry: not late)',
      );
      await clock.tickAsync(1200);
      assert.deepEqual(tagRuns(h.written()), [1, 3]);
      assert.deepEqual(h.events, ['started:a', 'finished:b', 'finished:a', 'started:c', 'finished:c']);
    });

    it('when a device must be opened: the lead-in counts, and no device is opened for it', async () => {
      const h = harness({ leadInMs: 300 });
      h.push('a', audio(100, 1), { end: true, options: () => ({ expiresAt: 200 }) });
      await clock.tickAsync(0);
      assert.equal(h.sinks.length, 0);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.expired, r.at]),
        [['a', true, 0]],
      );
      h.push('b', audio(100, 2), { end: true, options: () => ({ expiresAt: 300 }) });
      await clock.tickAsync(500);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.expired, r.at]),
        [
          ['a', true, 0],
          ['b', undefined, 400],
        ],
        'b can start at 300 exactly: it plays',
      );
    });

    it('msg.stop leaves no expiry timer, even when no device was open', async () => {
      const h = harness({ prebufferMs: 500 });
      h.push('a', audio(100, 1), { options: () => ({ expiresAt: 10_000 }) });
      await clock.tickAsync(0);
      assert.equal(h.sinks.length, 0, 'waiting for its pre-buffer');
      assert.equal(clock.countTimers(), 2, 'the stall and the expiry watch');
      h.player.stop();
      assert.equal(clock.countTimers(), 0);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.expired]),
        [['a', true, undefined]],
      );
    });

    it('by the timer: one waiting in the queue (or for its pre-buffer) is reported at its expiresAt', async () => {
      const h = harness({ prebufferMs: 200 });
      h.push('a', audio(300, 1)); // streaming: what follows waits behind it
      h.push('b', audio(300, 2), { end: true, options: () => ({ expiresAt: 700 }) });
      h.push('c', audio(50, 3), { options: () => ({ expiresAt: 400 }) });
      await clock.tickAsync(399);
      assert.equal(h.reports.length, 0);
      await clock.tickAsync(1);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.expired, r.at]),
        [['c', true, 400]],
      );
      await clock.tickAsync(300);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.expired, r.at]),
        [
          ['c', true, 400],
          ['b', true, 700],
        ],
      );
      h.push('c', audio(100, 3), { end: true });
      h.push('a', audio(100, 1), { end: true });
      h.push('d', audio(30, 4));
      await clock.tickAsync(10);
      assert.deepEqual(tagRuns(h.written()), [1], 'd waits for its pre-buffer (and has no expiresAt)');
      h.push('d', Buffer.alloc(0), { end: true });
      await clock.tickAsync(200);
      assert.deepEqual(tagRuns(h.written()), [1, 4], 'neither b nor the late chunks of c ever play');
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.expired, r.interrupted]),
        [
          ['c', true, false],
          ['b', true, false],
          ['a', undefined, false],
          ['d', undefined, false],
        ],
      );
      assert.equal(clock.countTimers(), 1, 'only the idle close is left');
    });

    it('never once it started, however long it plays; a rewound one that can no longer start in time is dropped', async () => {
      const h = harness();
      h.push('a', audio(1000, 1), { end: true, options: () => ({ expiresAt: 10 }) });
      h.push('b', audio(300, 2), { end: true, options: () => ({ expiresAt: 1000 }) });
      h.push('c', audio(200, 3), { end: true, options: () => ({ expiresAt: 1400 }) });
      await clock.tickAsync(100);
      assertBytes(h.written(), Buffer.concat([audio(1000, 1), audio(300, 2), audio(200, 3)]), 'b and c were written ahead, in time');
      h.push('p', audio(1000, 9), { end: true, priority: true });
      await clock.tickAsync(2000);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.expired, r.interrupted, r.durationMs, r.at]),
        [
          ['a', undefined, true, 100, 100],
          ['b', true, false, 0, 100],
          ['p', undefined, false, 1000, 1100],
          ['c', undefined, false, 200, 1300],
        ],
        'a started at 0 and played long past its expiresAt: cut by p, never expired. Rewound behind p (until 1100), b could not start by 1000; c could by 1400',
      );
      assertBytes(h.sinks[1]!.bytes, Buffer.concat([audio(1000, 9), audio(200, 3)]), 'after the cut: p, then c');
      assert.deepEqual(
        h.starts.map((s) => s.id),
        ['a', 'p', 'c'],
      );
    });
  });

  describe('per-utterance volume (msg.speakerVolume)', () => {
    it('50 % on a node at 100 % gives exactly trunc(sample × 50 / 100) for its chime and speech; the utterances around it play unchanged', async () => {
      const h = harness();
      const chime = fakeChime(100);
      const [a, b, c] = [signed(200, 1), signed(300, 2), signed(200, 3)];
      h.push('a', a, { end: true, options: () => ({ chime }) });
      h.push('b', b, { end: true, options: () => ({ chime, volumePercent: 50 }) });
      h.push('c', c, { end: true, options: () => ({ chime, volumePercent: 100 }) });
      await clock.tickAsync(1200);
      const ding = audio(100, 7);
      assertBytes(h.written(), Buffer.concat([ding, a, scaledBy(ding, 50), scaledBy(b, 50), ding, c]), 'a and c as they came, b (chime and speech) at 50 %');
      // The rule on a few samples by hand: toward zero, for both signs.
      const three = Buffer.alloc(4);
      three.writeInt16LE(3, 0);
      three.writeInt16LE(-3, 2);
      assert.deepEqual([scaledBy(three, 50).readInt16LE(0), scaledBy(three, 50).readInt16LE(2)], [1, -1]);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted]),
        [
          ['a', false],
          ['b', false],
          ['c', false],
        ],
      );
    });
  });

  describe('auto mode: a sound server that fails hands over to ALSA (finding 1 of the review)', () => {
    /** A 'pulse' sink first, 'aplay' after; fallBack says yes to the pulse one and records what it was asked. */
    function handOverHarness(options: Partial<PlayerOptions> = {}): Harness & { asked: string[] } {
      const asked: string[] = [];
      let opens = 0;
      const h = harness({
        openSink: (format) => {
          const sink = new FakeSink(opens++ === 0 ? 'pulse' : 'aplay', format);
          h.sinks.push(sink);
          return Promise.resolve(sink);
        },
        fallBack: (sink, err) => {
          asked.push(`${sink.backend}: ${err.message}`);
          return sink.backend === 'pulse';
        },
        ...options,
      });
      return Object.assign(h, { asked });
    }

    it('pacat dying between writes, before anything was heard: the next device gets lead-in, chime and speech of every utterance, exactly; nothing is told before it plays there', async () => {
      const h = handOverHarness({ leadInMs: 300 });
      const chime = fakeChime(100);
      const [a, b] = [audio(200, 1), audio(300, 2)];
      h.push('a', a, { end: true, options: () => ({ chime }) });
      h.push('b', b.subarray(0, bytesOf(100)));
      await clock.tickAsync(0);
      // The pipe took it all: lead-in, a with its chime, and the start of b (streaming).
      assertBytes(h.sinks[0]!.bytes, Buffer.concat([Buffer.alloc(bytesOf(300)), audio(100, 7), a, b.subarray(0, bytesOf(100))]), 'the first device took everything');
      await clock.tickAsync(100);
      h.sinks[0]!.die(new DeviceError('DeviceOpenFailed', 'pacat could not connect to the sound server at unix:/x: Connection failure: Access denied'));
      h.push('b', b.subarray(bytesOf(100)), { end: true });
      await clock.tickAsync(0);
      assert.equal(h.sinks.length, 2);
      assert.equal(h.sinks[0]!.aborted, true);
      assert.deepEqual(h.asked, ['pulse: pacat could not connect to the sound server at unix:/x: Connection failure: Access denied']);
      assert.deepEqual(h.warnings, ['pacat could not connect to the sound server at unix:/x: Connection failure: Access denied; falling back to ALSA']);
      assert.deepEqual(h.deviceErrors, [], 'a hand-over is no device failure');
      assertBytes(h.sinks[1]!.bytes, Buffer.concat([Buffer.alloc(bytesOf(300)), audio(100, 7), a, b]), 'its own lead-in, then the chime, a and all of b, once');
      assert.deepEqual(h.events, [], 'nothing told before it plays on the second device');
      await clock.tickAsync(1000);
      // The second device opened at 100: lead-in to 400, chime and a to 700, b to 1000.
      assert.deepEqual(
        h.starts.map((s) => [s.id, s.at, s.backend, s.leadInMs, s.chime?.durationMs]),
        [
          ['a', 400, 'aplay', 300, 100],
          ['b', 700, 'aplay', 0, undefined],
        ],
        'told once each, at the second device\'s times',
      );
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.durationMs, r.backend, r.error, r.at]),
        [
          ['a', false, 300, 'aplay', undefined, 700],
          ['b', false, 300, 'aplay', undefined, 1000],
        ],
      );
      assert.deepEqual(h.events, ['started:a', 'finished:a', 'started:b', 'finished:b']);
      assert.ok(h.player.bufferedMs < 0.01, `${h.player.bufferedMs} ms held after everything played`);
    });

    it('a write that fails before anything was heard hands over the same way, the batch in flight included', async () => {
      const h = handOverHarness({ leadInMs: 200 });
      const a = audio(300, 1);
      h.push('a', a.subarray(0, bytesOf(100)));
      await clock.tickAsync(0);
      h.sinks[0]!.failWith = new DeviceError('DeviceOpenFailed', 'pacat: Stream error: No such entity');
      h.push('a', a.subarray(bytesOf(100)), { end: true });
      await clock.tickAsync(0);
      assert.equal(h.asked.length, 1);
      assertBytes(h.sinks[1]!.bytes, Buffer.concat([Buffer.alloc(bytesOf(200)), a]), 'lead-in, then all of a, once');
      await clock.tickAsync(600);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.durationMs, r.backend, r.at]),
        [['a', false, 300, 'aplay', 500]],
      );
      assert.deepEqual(h.events, ['started:a', 'finished:a']);
    });

    it('a failure after something was heard is a device failure: reported with the error, nothing played again', async () => {
      const h = handOverHarness({ leadInMs: 100 });
      h.push('a', audio(400, 1), { end: true });
      h.push('b', audio(200, 2), { end: true });
      await clock.tickAsync(150); // a started at 100
      h.sinks[0]!.die(new DeviceError('DeviceFailed', 'the sound server at unix:/x went away while pacat played: Connection failure: Connection terminated'));
      await clock.tickAsync(1000);
      assert.equal(h.deviceErrors.length, 1);
      assert.equal(h.asked.length, 1, 'the selector is told (it keeps the server: a DeviceFailed is no reason to leave it)');
      assert.deepEqual(h.warnings, [], 'no hand-over');
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.durationMs, r.error?.message]),
        [
          ['a', true, 50, 'the sound server at unix:/x went away while pacat played: Connection failure: Connection terminated'],
          ['b', true, 0, 'the sound server at unix:/x went away while pacat played: Connection failure: Connection terminated'],
        ],
      );
      assert.deepEqual(h.events, ['started:a', 'finished:a', 'finished:b']);
      assert.equal(h.sinks.length, 1, 'nothing written again');
    });

    it('one heard by the clock is not played again even when the selector would change backend: the next utterance goes to the new one', async () => {
      const h = handOverHarness();
      h.push('a', audio(300, 1), { end: true });
      await clock.tickAsync(20); // no lead-in: a plays from 0 by the clock
      h.sinks[0]!.die(new DeviceError('DeviceOpenFailed', 'pacat could not connect'));
      h.push('b', audio(100, 2), { end: true });
      await clock.tickAsync(500);
      assert.deepEqual(h.asked, ['pulse: pacat could not connect']);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.error?.message, r.backend]),
        [
          ['a', true, 'pacat could not connect', 'pulse'],
          ['b', false, undefined, 'aplay'],
        ],
      );
      assertBytes(h.sinks[1]!.bytes, audio(100, 2), 'b alone on the second device');
    });
  });

  describe('keep-open (idleCloseMs)', () => {
    it('releases the device keep-open ms after the last utterance was heard, not before; a new utterance meanwhile keeps it open', async () => {
      const h = harness({ idleCloseMs: 5000 });
      h.push('a', audio(300, 1), { end: true });
      await clock.tickAsync(300 + 4999);
      assert.equal(h.sinks[0]!.finished, false, 'not before keep-open has passed since a was heard');
      await clock.tickAsync(1);
      assert.equal(h.sinks[0]!.finished, true);
      assert.equal(h.sinks[0]!.aborted, false, 'released by finishing, not by dropping audio');

      h.push('b', audio(200, 2), { end: true });
      await clock.tickAsync(200 + 3000);
      h.push('c', audio(400, 3), { end: true });
      await clock.tickAsync(400 + 4999);
      assert.equal(h.sinks.length, 2);
      assert.equal(h.sinks[1]!.finished, false, 'c cancelled the close that b had set');
      assert.deepEqual(tagRuns(h.sinks[1]!.bytes), [2, 3], 'one device for b and c');
      await clock.tickAsync(1);
      assert.equal(h.sinks[1]!.finished, true);
      assert.equal(clock.countTimers(), 0);
    });
  });
});
