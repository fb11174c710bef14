// Issue 17, pcm-speaker as Node-RED loads it (the built nodes/pcm-speaker.js), playing through the
// speaker addon into the test ALSA file device: an utterance whose end never comes does not hold
// the queue, the audio held is bounded (settings.js ttsLimits.speakerBufferSeconds), and a
// "finished" message Node-RED cannot send is an error for catch nodes, not a wedged node.
import { newCaptureFile, readCapture } from '../alsa/env';
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import type { Node } from 'node-red';
import { waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';
import { builtNode, collect, coreNode, freshServerEachTest, helper, type TestFlows } from '../support/node-red';
import { needing } from '../support/system-deps';

const nodes = [builtNode('pcm-speaker'), coreNode('common/25-catch.js')];
type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type HelperSettings = Parameters<typeof helper.settings>[0];

interface Finished {
  topic?: string;
  payload: { id: string; durationMs: number; bytes: number; interrupted: boolean; partial?: boolean; stalled?: boolean; bufferFull?: boolean };
}
interface Caught {
  topic?: string;
  error?: { message: string; code?: string };
}

const FORMAT = { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16 };
/** 16 kHz mono 16-bit: 32 bytes a millisecond. */
const BYTES_PER_MS = 32;
const BUFFER_SECONDS = 2;

/** `ms` of recognisable audio: every sample carries `tag`. */
function clip(ms: number, tag: number): Buffer {
  const b = Buffer.alloc(ms * BYTES_PER_MS);
  for (let i = 0; i < b.length; i += 2) b.writeInt16LE(tag * 1000 + ((i / 2) % 997), i);
  return b;
}

describe('pcm-speaker hardening (issue 17)', function () {
  this.timeout(15000);
  let capture: string;
  let timers: ReturnType<typeof trackSourceTimers> | undefined;

  async function start(speaker: Record<string, unknown> = {}, finishedWires = ['finished']): Promise<void> {
    capture = newCaptureFile();
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'spk', type: 'pcm-speaker', z: 'tab', device: '', backend: 'speaker', volume: 100, prebufferMs: 50, queue: 'queue', wires: [finishedWires], ...speaker },
      { id: 'finished', type: 'helper', z: 'tab' },
      { id: 'finished2', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow);
  }

  before(() => {
    // The device stays open between the tests' utterances, so that one capture holds them all (every open starts a new one).
    helper.settings({ pcmSpeakerIdleCloseMs: 10_000, ttsLimits: { speakerBufferSeconds: BUFFER_SECONDS } } as unknown as HelperSettings);
  });
  after(() => {
    helper.settings({});
  });
  freshServerEachTest({
    after: () => {
      timers?.stop();
      timers = undefined;
    },
  });

  const spk = (): Receiver => helper.getNode('spk') as Receiver;
  const node = (id: string): Node => helper.getNode(id);

  it('an utterance whose end never comes is ended as partial after the stall timeout, with a warning; the next one plays and its late chunks are dropped', needing('speaker', async () => {
    timers = trackSourceTimers();
    await start({ stallTimeout: 0.5 });
    const finished = collect<Finished>(node('finished'));
    const caught = collect<Caught>(node('caught'));
    const warnings: string[] = [];
    (spk() as unknown as EventEmitter).on('call:warn', (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    const stuck = clip(200, 1);
    const next = clip(300, 2);
    const sent = performance.now();
    // Two chunks of an utterance whose count (and end marker) never comes, then a whole one.
    spk().receive({ payload: stuck.subarray(0, 3200), audio: FORMAT, parts: { id: 'stuck', index: 0 }, topic: 'stuck' });
    spk().receive({ payload: stuck.subarray(3200), audio: FORMAT, parts: { id: 'stuck', index: 1 }, topic: 'stuck' });
    spk().receive({ payload: next, audio: FORMAT, parts: { id: 'next', index: 0, count: 1 }, topic: 'next' });
    // The stall watch is armed now (the stuck utterance holds the queue), so the check at the end can fail.
    assert.ok(timers.live().length > 0, "the speaker's timers are seen");
    await waitFor(() => finished.length >= 1, 5000, 'the stuck utterance to be ended');
    const endedAfter = performance.now() - sent;
    assert.ok(endedAfter >= 495, `ended after ${endedAfter.toFixed(0)} ms: not before the 0.5 s stall timeout`);
    await waitFor(() => finished.length >= 2, 5000, 'the next utterance to be reported');

    assert.deepEqual(
      finished.map((f) => [f.topic, f.payload.id, f.payload.interrupted, f.payload.partial, f.payload.stalled, f.payload.bytes]),
      [
        ['stuck', 'stuck', false, true, true, stuck.length],
        ['next', 'next', false, undefined, undefined, next.length],
      ],
    );
    assert.equal(warnings.length, 1, warnings.join(' | '));
    assert.match(warnings[0] ?? '', /^utterance stuck stalled: nothing arrived for 0\.5 s; it plays what arrived \(partial\) and the queue goes on$/);
    assert.equal(caught.length, 0, 'a stalled utterance is a warning, not an error');

    // Its late chunks are dropped, not played as an utterance of their own (which would be reported before "after").
    spk().receive({ payload: clip(100, 1), audio: FORMAT, parts: { id: 'stuck', index: 2 }, topic: 'stuck' });
    spk().receive({ payload: Buffer.alloc(0), audio: FORMAT, parts: { id: 'stuck', index: 3, count: 4 }, topic: 'stuck' });
    const after = clip(100, 3);
    spk().receive({ payload: after, audio: FORMAT, parts: { id: 'after', index: 0, count: 1 }, topic: 'after' });
    await waitFor(() => finished.length >= 3, 5000, 'the utterance after');
    assert.deepEqual(
      finished.map((f) => f.topic),
      ['stuck', 'next', 'after'],
    );
    await helper.unload();
    assert.ok(readCapture(capture).equals(Buffer.concat([stuck, next, after])), 'what arrived of the stuck one, the next one, the one after');
    await waitFor(() => timers?.live().length === 0, 3000, `no timer of the speaker left (${timers?.live().join(' | ')})`);
  }));

  it(`audio beyond settings.js ttsLimits.speakerBufferSeconds (${BUFFER_SECONDS} s) is refused with BufferFull for catch nodes; what was queued plays; after the queue drained there is room again`, needing('speaker', async () => {
    await start();
    const finished = collect<Finished>(node('finished'));
    const caught = collect<Caught>(node('caught'));
    // One burst, as from a loop in a function node: 0.8 s each, 2 s allowed.
    for (let i = 1; i <= 4; i++) spk().receive({ payload: clip(800, i), audio: FORMAT, topic: `m${i}` });
    await waitFor(() => finished.length === 2, 8000, 'the two that fit to be played');
    assert.deepEqual(
      finished.map((f) => [f.topic, f.payload.interrupted, f.payload.durationMs]),
      [
        ['m1', false, 800],
        ['m2', false, 800],
      ],
    );
    assert.deepEqual(
      caught.map((c) => [c.topic, c.error?.code]),
      [
        ['m3', 'BufferFull'],
        ['m4', 'BufferFull'],
      ],
    );
    assert.match(
      caught[0]?.error?.message ?? '',
      /audio buffer full: 1\.6 s of audio waiting to play and 0\.8 s more would pass the limit of 2 s \(settings\.js ttsLimits\.speakerBufferSeconds\); utterance msg:.* refused$/,
    );
    // 1.5 s would not have fitted behind m1 and m2; now that they have played, it does.
    const big = clip(1500, 5);
    spk().receive({ payload: big, audio: FORMAT, topic: 'm5' });
    await waitFor(() => finished.length === 3, 8000, 'm5 to be played');
    assert.deepEqual(finished[2] && [finished[2].topic, finished[2].payload.interrupted, finished[2].payload.bytes], ['m5', false, big.length]);
    assert.equal(caught.length, 2, 'no further error');
    await helper.unload();
    assert.ok(readCapture(capture).equals(Buffer.concat([clip(800, 1), clip(800, 2), big])), 'm1, m2, m5: nothing of m3 and m4');
  }));

  it('a chunk of a streaming utterance that would pass the buffer limit ends it there as partial: one error, it plays what arrived, its later chunks are dropped quietly', needing('speaker', async () => {
    await start();
    const finished = collect<Finished>(node('finished'));
    const caught = collect<Caught>(node('caught'));
    const first = clip(1500, 1);
    spk().receive({ payload: first, audio: FORMAT, parts: { id: 'long', index: 0 }, topic: 'long' });
    spk().receive({ payload: clip(1000, 1), audio: FORMAT, parts: { id: 'long', index: 1 }, topic: 'long' });
    spk().receive({ payload: clip(100, 1), audio: FORMAT, parts: { id: 'long', index: 2 }, topic: 'long' });
    spk().receive({ payload: Buffer.alloc(0), audio: FORMAT, parts: { id: 'long', index: 3, count: 4 }, topic: 'long' });
    const next = clip(200, 2);
    spk().receive({ payload: next, audio: FORMAT, parts: { id: 'next', index: 0, count: 1 }, topic: 'next' });
    await waitFor(() => finished.length === 2, 8000, 'both to be reported');
    assert.deepEqual(
      finished.map((f) => [f.topic, f.payload.interrupted, f.payload.partial, f.payload.bufferFull, f.payload.bytes]),
      [
        ['long', false, true, true, first.length],
        ['next', false, undefined, undefined, next.length],
      ],
    );
    assert.equal(caught.length, 1, 'one error for the utterance');
    assert.equal(caught[0]?.error?.code, 'BufferFull');
    assert.equal(caught[0]?.topic, 'long');
    assert.match(caught[0]?.error?.message ?? '', /utterance long ends here and plays what arrived \(partial\)$/);
    await helper.unload();
    assert.ok(readCapture(capture).equals(Buffer.concat([first, next])), 'what arrived before the limit, then the next utterance');
  }));

  it('a "finished" message Node-RED cannot send (it cannot copy it for a second wire) is a ReportNotSent error for catch nodes (it was played: not SendFailed), and the node goes on', needing('speaker', async () => {
    await start({}, ['finished', 'finished2']);
    const second = collect<Finished>(node('finished2'));
    const caught = collect<Caught>(node('caught'));
    // What a function node can put on a message: a property that throws when it is copied.
    const trap = {
      get boom(): never {
        throw new Error('no clone');
      },
    };
    spk().receive({ payload: clip(100, 1), audio: FORMAT, topic: 'trap', trap });
    spk().receive({ payload: clip(100, 2), audio: FORMAT, topic: 'after' });
    await waitFor(() => second.length >= 1 && caught.length >= 1, 8000, 'the next report and the error');
    assert.deepEqual(
      second.map((f) => [f.topic, f.payload.interrupted]),
      [['after', false]],
    );
    assert.equal(caught.length, 1);
    assert.equal(caught[0]?.error?.code, 'ReportNotSent');
    assert.equal(caught[0]?.topic, 'trap', 'the error carries what could be copied of the message');
    assert.match(caught[0]?.error?.message ?? '', /utterance msg:\S+ was played, but its "finished" message could not be sent: no clone$/);
    // Still working.
    spk().receive({ payload: clip(100, 3), audio: FORMAT, topic: 'later' });
    await waitFor(() => second.length === 2, 5000, 'a later utterance to be reported');
    assert.equal(second[1]?.topic, 'later');
  }));
});
