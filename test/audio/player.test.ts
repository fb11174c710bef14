// The player against a recording device and fake timers: ordering, batching, audio-time
// completion, stop / priority / replace / ignore, format changes, fallback and failures, all
// deterministic. The real devices (speaker addon, aplay) are exercised in sinks.test.ts.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { bytesToMs, sameFormat } from '../../src/audio/pcm-format';
import { BATCH_MAX_MS, BATCH_MIN_MS, IDLE_CLOSE_MS, type PlayerOptions, type QueueMode } from '../../src/audio/player';
import { DeviceError } from '../../src/audio/sinks/sink';
import { audio, F16, F24, FakeSink, PCM16, playerHarness, tagRuns, type Harness } from './player-harness';

describe('PCM player', () => {
  let clock: sinon.SinonFakeTimers;

  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  function harness(options: Partial<PlayerOptions> & { queueMode?: QueueMode } = {}): Harness {
    return playerHarness(clock, options);
  }

  it('writes an utterance back to back in batches of 40–100 ms and reports it when its last sample has played', async () => {
    const h = harness();
    const a = audio(1000, 1);
    for (let i = 0; i < 10; i++) h.push('a', a.subarray(i * 4800, (i + 1) * 4800));
    h.push('a', Buffer.alloc(0), { end: true });
    await clock.tickAsync(0);
    assert.equal(h.sinks.length, 1);
    assert.ok(h.written().equals(a), 'every byte, in order, once');
    const sizes = h.sinks[0]!.writes.map((w) => bytesToMs(F24, w.length));
    assert.ok(sizes.every((ms) => ms <= BATCH_MAX_MS && ms >= BATCH_MIN_MS), `batch sizes ${sizes.join(', ')} ms`);
    await clock.tickAsync(998);
    assert.equal(h.reports.length, 0, 'not before the audio has played, although the device took it at once');
    await clock.tickAsync(2);
    assert.equal(h.reports.length, 1);
    assert.deepEqual(
      { ...h.reports[0], format: undefined },
      { id: 'a', meta: 'meta-a', durationMs: 1000, bytes: 48000, interrupted: false, partial: false, format: undefined, backend: 'speaker', at: 1000 },
    );
    assert.ok(sameFormat(h.reports[0]!.format!, F24));
  });

  it('coalesces tiny chunks into writes of at least 40 ms while the device is busy', async () => {
    const h = harness();
    const a = audio(600, 1);
    h.push('a', a.subarray(0, 4800)); // 100 ms: written at once (prebuffer 0)
    await clock.tickAsync(0);
    for (let i = 4800; i < a.length; i += 240) h.push('a', a.subarray(i, i + 240)); // 5 ms chunks
    h.push('a', Buffer.alloc(0), { end: true });
    await clock.tickAsync(0);
    const sizes = h.sinks[0]!.writes.map((w) => bytesToMs(F24, w.length));
    assert.ok(h.written().equals(a));
    assert.ok(sizes.length <= 12, `${sizes.length} writes for 600 ms`);
    assert.ok(sizes.slice(0, -1).every((ms) => ms >= BATCH_MIN_MS), `batch sizes ${sizes.join(', ')} ms`);
  });

  it('never interleaves utterances that arrive interleaved; each is reported when heard', async () => {
    const h = harness();
    const a = audio(300, 1);
    const b = audio(200, 2);
    h.push('a', a.subarray(0, 4800));
    h.push('b', b.subarray(0, 4800));
    h.push('a', a.subarray(4800));
    h.push('b', b.subarray(4800));
    h.push('b', Buffer.alloc(0), { end: true });
    h.push('a', Buffer.alloc(0), { end: true });
    await clock.tickAsync(0);
    assert.deepEqual(tagRuns(h.written()), [1, 2]);
    assert.ok(h.written().equals(Buffer.concat([a, b])));
    assert.equal(h.sinks.length, 1, 'one device, no reopen between utterances');
    await clock.tickAsync(600);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.at]),
      [
        ['a', 300],
        ['b', 500],
      ],
    );
  });

  it('waits for the pre-buffer before it starts a starved device, but plays a short utterance at its end', async () => {
    const h = harness({ prebufferMs: 200 });
    const a = audio(300, 1);
    h.push('a', a.subarray(0, 4800)); // 100 ms
    await clock.tickAsync(50);
    assert.equal(h.sinks.length, 0, 'nothing opened or written below the pre-buffer');
    h.push('a', a.subarray(4800, 9600)); // 200 ms
    await clock.tickAsync(0);
    assert.equal(h.written().length, 9600);
    h.push('a', a.subarray(9600));
    h.push('a', Buffer.alloc(0), { end: true });
    const short = audio(50, 2);
    h.push('b', short, { end: true });
    await clock.tickAsync(400);
    assert.ok(h.written().equals(Buffer.concat([a, short])));
    assert.deepEqual(
      h.reports.map((r) => r.id),
      ['a', 'b'],
    );
  });

  it('msg.stop cuts at once: the device drops its audio, every utterance is reported interrupted, late chunks are dropped', async () => {
    const h = harness();
    h.push('a', audio(1000, 1), { end: true });
    h.push('b', audio(500, 2));
    await clock.tickAsync(300);
    h.player.stop();
    assert.equal(h.sinks[0]!.aborted, true);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.interrupted, r.durationMs, r.at]),
      [
        ['a', true, 300, 300],
        ['b', true, 0, 300],
      ],
    );
    h.push('b', audio(100, 2));
    h.push('b', Buffer.alloc(0), { end: true });
    await clock.tickAsync(0);
    assert.equal(h.sinks.length, 1, 'the late chunks of the stopped utterance are not played');
    h.push('c', audio(100, 3), { end: true });
    await clock.tickAsync(100);
    assert.equal(h.sinks.length, 2, 'a new device for what comes next');
    assert.deepEqual(tagRuns(h.sinks[1]!.bytes), [3]);
    assert.deepEqual(
      h.reports.slice(2).map((r) => [r.id, r.interrupted, r.at]),
      [['c', false, 400]],
    );
  });

  it('priority cuts the utterance being heard; one written ahead but not heard yet plays again after it', async () => {
    const h = harness();
    const a = audio(1000, 1);
    const b = audio(300, 2);
    const p = audio(200, 9);
    h.push('a', a, { end: true });
    h.push('b', b, { end: true });
    await clock.tickAsync(400);
    assert.ok(h.written().equals(Buffer.concat([a, b])), 'b was written right behind a (gap-free)');
    h.push('p', p, { end: true, priority: true });
    await clock.tickAsync(0);
    assert.equal(h.sinks[0]!.aborted, true);
    assert.deepEqual(tagRuns(h.sinks[1]!.bytes), [9, 2], 'after the cut: p, then b from its first sample');
    assert.ok(h.sinks[1]!.bytes.equals(Buffer.concat([p, b])));
    await clock.tickAsync(1000);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.interrupted, r.durationMs, r.at]),
      [
        ['a', true, 400, 400],
        ['p', false, 200, 600],
        ['b', false, 300, 900],
      ],
    );
  });

  it('replace mode: a new utterance cuts the current one and drops the queue', async () => {
    const h = harness({ queueMode: 'replace' });
    h.push('a', audio(1000, 1), { end: true });
    await clock.tickAsync(100);
    h.push('b', audio(100, 2)); // still streaming when c arrives
    await clock.tickAsync(0);
    h.push('c', audio(100, 3), { end: true });
    h.push('b', audio(100, 2), { end: true }); // late chunk of a replaced utterance
    await clock.tickAsync(500);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.interrupted]),
      [
        ['a', true],
        ['b', true],
        ['c', false],
      ],
    );
    assert.deepEqual(tagRuns(h.sinks[h.sinks.length - 1]!.bytes), [3]);
  });

  it('ignore mode: a new utterance while one plays is dropped with a warning, and not reported', async () => {
    const h = harness({ queueMode: 'ignore' });
    h.push('a', audio(300, 1), { end: true });
    await clock.tickAsync(100);
    h.push('b', audio(100, 2));
    h.push('b', audio(100, 2), { end: true });
    assert.equal(h.warnings.length, 1);
    assert.match(h.warnings[0]!, /busy: utterance b dropped/);
    await clock.tickAsync(300);
    h.push('c', audio(100, 3), { end: true });
    await clock.tickAsync(200);
    assert.deepEqual(
      h.reports.map((r) => r.id),
      ['a', 'c'],
    );
    assert.deepEqual(tagRuns(h.written()), [1, 3]);
  });

  it('reopens the device when the format changes, after the old one has played out', async () => {
    const h = harness();
    h.push('a', audio(200, 1), { end: true });
    h.push('b', audio(100, 2, F16), { audio: PCM16, end: true });
    await clock.tickAsync(0);
    assert.equal(h.sinks.length, 1, 'b waits: the 24 kHz device still plays a');
    await clock.tickAsync(300);
    assert.equal(h.sinks.length, 2);
    assert.equal(h.sinks[0]!.finished, true, 'closed by finishing, not by dropping audio');
    assert.equal(h.sinks[0]!.aborted, false);
    assert.ok(sameFormat(h.sinks[1]!.format, F16));
    assert.ok(h.sinks[1]!.bytes.equals(audio(100, 2, F16)));
    await clock.tickAsync(200);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.interrupted]),
      [
        ['a', false],
        ['b', false],
      ],
    );
  });

  it("a source's interrupted end marker cuts the utterance being heard; a partial one plays what arrived", async () => {
    const h = harness();
    h.push('a', audio(1000, 1));
    await clock.tickAsync(200);
    h.push('a', Buffer.alloc(0), { end: true, interrupted: true });
    assert.equal(h.sinks[0]!.aborted, true);
    h.push('b', audio(300, 2));
    h.push('b', Buffer.alloc(0), { end: true, partial: true });
    await clock.tickAsync(400);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.interrupted, r.partial, r.durationMs]),
      [
        ['a', true, false, 200],
        ['b', false, true, 300],
      ],
    );
  });

  it('a speaker device that cannot be opened hands the same audio to the fallback backend', async () => {
    let opens = 0;
    const sinks: FakeSink[] = [];
    const h = harness({
      openSink: (format) => {
        const sink = new FakeSink(opens === 0 ? 'speaker' : 'aplay', format);
        if (opens === 0) sink.failWith = new DeviceError('DeviceOpenFailed', 'speaker could not open ALSA device "x"');
        opens++;
        sinks.push(sink);
        return Promise.resolve(sink);
      },
      fallBack: (sink) => sink.backend === 'speaker' && !sink.opened,
    });
    const a = audio(300, 1);
    h.push('a', a, { end: true });
    await clock.tickAsync(400);
    assert.equal(sinks.length, 2);
    assert.ok(sinks[1]!.bytes.equals(a), 'nothing lost or repeated');
    assert.match(h.warnings[0]!, /falling back to aplay/);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.interrupted, r.backend]),
      [['a', false, 'aplay']],
    );
  });

  it('a device that dies reports what it held with the error; the next utterance gets a new device', async () => {
    const h = harness();
    h.push('a', audio(500, 1), { end: true });
    await clock.tickAsync(100);
    h.sinks[0]!.die(new DeviceError('DeviceFailed', 'aplay could not play: unplugged'));
    assert.equal(h.deviceErrors.length, 1);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.interrupted, r.durationMs, r.error?.message]),
      [['a', true, 100, 'aplay could not play: unplugged']],
    );
    h.push('b', audio(100, 2), { end: true });
    await clock.tickAsync(200);
    assert.equal(h.sinks.length, 2);
    assert.deepEqual(h.reports[1] && [h.reports[1].id, h.reports[1].interrupted], ['b', false]);
  });

  it('a device that cannot be opened at all fails the utterance with the reason', async () => {
    const h = harness({ openSink: () => Promise.reject(new DeviceError('BackendUnavailable', 'aplay not found: install alsa-utils')) });
    h.push('a', audio(100, 1), { end: true });
    await clock.tickAsync(10);
    assert.deepEqual(
      h.reports.map((r) => [r.id, r.interrupted, r.error?.message]),
      [['a', true, 'aplay not found: install alsa-utils']],
    );
  });

  it('refuses mp3 on the first chunk and drops the rest of that utterance quietly', async () => {
    const h = harness();
    assert.throws(() => h.push('m', Buffer.from('ID3 data'), { audio: { format: 'mp3', sampleRate: 24000, channels: 1 } }), /set the synthesis node's format to pcm or wav/);
    h.push('m', Buffer.alloc(10), { audio: { format: 'mp3' } });
    h.push('m', Buffer.alloc(0), { audio: { format: 'mp3' }, end: true });
    h.push('a', audio(100, 1), { end: true });
    await clock.tickAsync(200);
    assert.deepEqual(
      h.reports.map((r) => r.id),
      ['a'],
    );
  });

  it('closes an idle device after a while, and reopens for the next utterance', async () => {
    const h = harness();
    h.push('a', audio(100, 1), { end: true });
    await clock.tickAsync(100 + IDLE_CLOSE_MS - 10);
    assert.equal(h.sinks[0]!.finished, false);
    await clock.tickAsync(20);
    assert.equal(h.sinks[0]!.finished, true);
    h.push('b', audio(100, 2), { end: true });
    await clock.tickAsync(100);
    assert.equal(h.sinks.length, 2);
  });

  it('close releases the device and leaves no timer and no late report', async () => {
    const h = harness();
    h.push('a', audio(1000, 1), { end: true });
    h.push('b', audio(1000, 2));
    await clock.tickAsync(100);
    assert.ok(clock.countTimers() > 0);
    await h.player.close();
    assert.equal(h.sinks[0]!.aborted, true);
    assert.equal(clock.countTimers(), 0);
    h.push('b', audio(100, 2), { end: true });
    await clock.tickAsync(5000);
    assert.equal(h.reports.length, 0);
  });

  describe('an utterance whose end never comes (issue 17)', () => {
    it('is ended as partial once it holds the queue and nothing came for stallMs; the next one plays, its late chunks are dropped', async () => {
      const h = harness({ stallMs: 1000 });
      const a = audio(200, 1);
      const b = audio(100, 2);
      h.push('a', a);
      h.push('b', b, { end: true });
      await clock.tickAsync(999);
      assert.ok(h.written().equals(a), 'b waits behind a');
      assert.equal(h.reports.length, 0);
      assert.equal(h.warnings.length, 0);
      await clock.tickAsync(1);
      assert.equal(h.warnings.length, 1);
      assert.match(h.warnings[0]!, /^utterance a stalled: nothing arrived for 1 s; it plays what arrived \(partial\)/);
      await clock.tickAsync(101);
      // (A 0 ms timer set while fake timers tick runs 1 ms later: hence 1001.)
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.partial, r.cut, r.durationMs, r.at]),
        [
          ['a', false, true, 'stalled', 200, 1001],
          ['b', false, false, undefined, 100, 1100],
        ],
      );
      h.push('a', audio(100, 1));
      h.push('a', Buffer.alloc(0), { end: true });
      await clock.tickAsync(500);
      assert.ok(h.written().equals(Buffer.concat([a, b])), 'the late chunks of a are not played');
      assert.equal(h.reports.length, 2, 'nor reported as a new utterance');
    });

    it('is not cut while the device still plays what it received: the wait counts from when that has played', async () => {
      const h = harness({ stallMs: 500 });
      const first = audio(2000, 1);
      const rest = audio(200, 1);
      h.push('a', first);
      await clock.tickAsync(1900); // 1.9 s without a chunk, but the device still plays a
      h.push('a', rest, { end: true });
      await clock.tickAsync(400);
      assert.deepEqual(h.warnings, []);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.partial, r.durationMs]),
        [['a', false, 2200]],
      );
      // Played out before stallMs has passed: then stallMs after its last chunk counts.
      h.push('c', audio(300, 3));
      await clock.tickAsync(499);
      assert.equal(h.reports.length, 1);
      await clock.tickAsync(2);
      assert.deepEqual(h.reports[1] && [h.reports[1].id, h.reports[1].cut, h.reports[1].durationMs], ['c', 'stalled', 300]);
    });

    it('one that stalled while queued behind another is ended as soon as the device has played what it holds, without a gap', async () => {
      const h = harness({ stallMs: 300 });
      const a = audio(1000, 1);
      const b = audio(100, 2);
      h.push('a', a, { end: true });
      h.push('b', b); // its source goes quiet at once
      await clock.tickAsync(1099);
      assert.equal(h.warnings.length, 0, 'not while a and what arrived of b still play');
      await clock.tickAsync(2);
      assert.ok(h.written().equals(Buffer.concat([a, b])), 'a, then b right behind it');
      assert.match(h.warnings[0] ?? '', /utterance b stalled/);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.cut, r.at]),
        [
          ['a', undefined, 1000],
          ['b', 'stalled', 1101],
        ],
      );
    });

    it('a head waiting for its pre-buffer plays the little it has', async () => {
      const h = harness({ prebufferMs: 500, stallMs: 300 });
      const a = audio(100, 1);
      h.push('a', a);
      await clock.tickAsync(299);
      assert.equal(h.sinks.length, 0, 'below the pre-buffer: nothing written yet');
      await clock.tickAsync(1);
      await clock.tickAsync(100);
      assert.ok(h.written().equals(a), 'what arrived is played');
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.partial, r.cut, r.durationMs, r.at]),
        [['a', true, 'stalled', 100, 400]],
      );
    });

    it('costs no timer per chunk: one timer watches a streaming utterance', async () => {
      const h = harness({ stallMs: 5000 });
      const setTimeoutSpy = sinon.spy(globalThis, 'setTimeout');
      try {
        for (let i = 0; i < 50; i++) {
          h.push('a', audio(20, 1));
          await clock.tickAsync(20);
        }
        assert.equal(setTimeoutSpy.callCount, 1, `${setTimeoutSpy.callCount} timers set for 50 chunks`);
      } finally {
        setTimeoutSpy.restore();
      }
    });

    it('msg.stop leaves no timer; neither does close', async () => {
      const h = harness({ stallMs: 1000 });
      h.push('a', audio(100, 1));
      await clock.tickAsync(0);
      assert.ok(clock.countTimers() > 0, 'the stall timer');
      h.player.stop();
      await clock.tickAsync(0);
      assert.equal(clock.countTimers(), 0);
      h.push('c', audio(100, 3));
      await clock.tickAsync(0);
      await h.player.close();
      assert.equal(clock.countTimers(), 0);
      assert.deepEqual(h.warnings, []);
    });
  });

  describe('the buffer limit (issue 17)', () => {
    it('refuses a new utterance that would pass it, whole; nothing queued is lost, and there is room again once they played', async () => {
      const h = harness({ maxBufferedMs: 1000, bufferLimitSetting: 'the test setting' });
      const a = audio(600, 1);
      const b = audio(300, 2);
      h.push('a', a, { end: true });
      h.push('b', b, { end: true });
      assert.ok(Math.abs(h.player.bufferedMs - 900) < 0.01, `${h.player.bufferedMs} ms held`);
      assert.throws(
        () => h.push('c', audio(200, 3)),
        (err: Error & { code?: string }) =>
          err.code === 'BufferFull' &&
          /^audio buffer full: 0\.9 s of audio waiting to play and 0\.2 s more would pass the limit of 1 s \(the test setting\); utterance c refused$/.test(err.message),
      );
      h.push('c', audio(100, 3), { end: true }); // its later chunks are dropped quietly
      await clock.tickAsync(0);
      assert.ok(Math.abs(h.player.bufferedMs - 300) < 0.01, 'a plays now; b is written ahead and still held');
      await clock.tickAsync(900);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted]),
        [
          ['a', false],
          ['b', false],
        ],
      );
      assert.ok(h.written().equals(Buffer.concat([a, b])));
      assert.ok(h.player.bufferedMs < 0.01, `${h.player.bufferedMs} ms held after everything played`);
      h.push('d', audio(1000, 4), { end: true });
      await clock.tickAsync(1000);
      assert.deepEqual(h.reports[2] && [h.reports[2].id, h.reports[2].interrupted], ['d', false]);
    });

    it('a later chunk that would pass it ends its utterance there as partial; its later chunks are dropped quietly', async () => {
      const h = harness({ maxBufferedMs: 1000 });
      const first = audio(700, 1);
      h.push('a', first);
      assert.throws(() => h.push('a', audio(400, 1)), (err: Error & { code?: string }) => err.code === 'BufferFull' && /utterance a ends here and plays what arrived \(partial\)$/.test(err.message));
      h.push('a', audio(100, 1));
      h.push('a', Buffer.alloc(0), { end: true });
      await clock.tickAsync(800);
      assert.ok(h.written().equals(first), 'what arrived before the limit is played');
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted, r.partial, r.cut, r.durationMs]),
        [['a', false, true, 'bufferFull', 700]],
      );
      assert.deepEqual(h.warnings, []);
    });

    it('replace mode: a new utterance has the whole buffer, since everything else is let go', async () => {
      const h = harness({ queueMode: 'replace', maxBufferedMs: 1000 });
      h.push('a', audio(800, 1), { end: true });
      h.push('b', audio(900, 2), { end: true });
      await clock.tickAsync(1000);
      assert.deepEqual(
        h.reports.map((r) => [r.id, r.interrupted]),
        [
          ['a', true],
          ['b', false],
        ],
      );
    });

    it('counts audio written ahead until it starts playing, through a priority cut-in, and lets all of it go when done or stopped', async () => {
      const h = harness();
      h.push('a', audio(1000, 1), { end: true });
      h.push('b', audio(500, 2), { end: true });
      await clock.tickAsync(300);
      assert.ok(Math.abs(h.player.bufferedMs - 500) < 0.01, `b is written ahead: ${h.player.bufferedMs} ms`);
      h.push('p', audio(200, 9), { end: true, priority: true });
      assert.ok(Math.abs(h.player.bufferedMs - 700) < 0.01, `b back in the queue, p waiting: ${h.player.bufferedMs} ms`);
      await clock.tickAsync(0);
      assert.ok(Math.abs(h.player.bufferedMs - 500) < 0.01, `p plays, b written ahead again: ${h.player.bufferedMs} ms`);
      await clock.tickAsync(700);
      assert.equal(h.reports.length, 3);
      assert.ok(h.player.bufferedMs < 0.01, `${h.player.bufferedMs} ms held after everything played`);
      h.push('x', audio(500, 5));
      h.push('y', audio(500, 6), { end: true });
      assert.ok(h.player.bufferedMs > 800, `${h.player.bufferedMs} ms held`);
      h.player.stop();
      assert.ok(h.player.bufferedMs < 0.01, `${h.player.bufferedMs} ms held after stop`);
    });
  });
});
