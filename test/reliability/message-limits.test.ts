/**
 * Issue 17, through the real synthesis nodes: what a message from outside can make them do is
 * bounded (settings.js ttsLimits), each refusal is one clear error at a catch node, nothing already
 * queued is lost, and a send that throws inside a socket handler fails only its own utterance.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import sinon from 'sinon';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];

type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type HelperSettings = Parameters<typeof helper.settings>[0];
interface Joined {
  payload: Buffer;
  topic?: string;
}
interface Caught {
  topic?: string;
  error?: { message: string; code?: string };
}
interface Summary {
  topic?: string;
  payload: { text: string };
}

const SERVICES = [
  { type: 'cosyvoice-stream', node: { model: 'cosyvoice-v3-flash', voice: 'longanyang' }, voice: 'longanyang', service: 'cosyvoice' as const },
  { type: 'qwen-realtime', node: { model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'server_commit' }, voice: 'Cherry', service: 'qwen' as const },
];

for (const svc of SERVICES) {
  describe(`message limits and guarded sends (issue 17): ${svc.type}`, function () {
    this.timeout(20_000);
    let sim: DashScopeSimulator | undefined;

    async function start(limits: Record<string, number>, node: Record<string, unknown> = {}, simOptions: SimulatorOptions = {}): Promise<void> {
      helper.settings({ ttsLimits: limits } as unknown as HelperSettings);
      sim = await DashScopeSimulator.start(simOptions);
      const flow = synthesisFlow(sim.baseUrl, { id: 'tts', type: svc.type, ...svc.node, ...node });
      await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    }

    freshServerEachTest({
      ownSettings: true,
      after: async () => {
        await sim?.close();
        sim = undefined;
      },
    });

    const tts = (): Receiver => helper.getNode('tts') as Receiver;
    const audioOf = (text: string): Buffer => expectedAudio({ text, voice: svc.voice, sampleRate: 24000, service: svc.service });
    const spoken = (): number => (svc.service === 'qwen' ? (sim as DashScopeSimulator).stats.responses.created : (sim as DashScopeSimulator).stats.tasks.started);

    it('a full queue refuses new utterances with QueueFull; the queued ones are all spoken, and the next is taken once there is room', async () => {
      await start({ queuedUtterances: 3 }, {}, { realTimeFactor: 1, chunkMs: 40 });
      const joined = collect<Joined>(helper.getNode('joined'));
      const caught = collect<Caught>(helper.getNode('caught'));
      const texts = ['First in line.', 'Second in line.', 'Third in line.', 'Fourth, refused.', 'Fifth, refused.'];
      texts.forEach((payload, i) => tts().receive({ payload, topic: `t${i}` }));
      await waitFor(() => caught.length >= 2, 5000, 'two refusals');
      assert.deepEqual(
        caught.map((c) => [c.topic, c.error?.code]),
        [
          ['t3', 'QueueFull'],
          ['t4', 'QueueFull'],
        ],
      );
      assert.match(caught[0]?.error?.message ?? '', /3 utterances are already queued .*ttsLimits\.queuedUtterances/);
      await waitFor(() => joined.length >= 3, 15_000, 'the three queued utterances');
      assert.deepEqual(
        joined.map((j) => j.topic),
        ['t0', 't1', 't2'],
      );
      joined.forEach((j, i) => assert.ok(j.payload.equals(audioOf(texts[i] as string)), `utterance ${i} byte-exact`));

      tts().receive({ payload: 'Room again.', topic: 'later' });
      await waitFor(() => joined.length === 4, 10_000, 'the utterance after the queue drained');
      assert.equal(joined[3]?.topic, 'later');
      assert.equal(caught.length, 2, 'no other refusal');
    });

    it('without settings: 100 queued utterances and 50,000 characters (a 10 MB text is refused at once, msg.stop still empties the queue)', async () => {
      await start({}, {}, { realTimeFactor: 1, chunkMs: 40 });
      const caught = collect<Caught>(helper.getNode('caught'));
      const events = collect<Summary>(helper.getNode('events'));
      tts().receive({ payload: 'x'.repeat(10 * 1024 * 1024), topic: 'huge' });
      for (let i = 0; i < 102; i++) tts().receive({ payload: `Alert number ${i}.`, topic: `a${i}` });
      await waitFor(() => caught.length === 3, 5000, 'three refusals');
      assert.deepEqual(
        caught.map((c) => [c.topic, c.error?.code]),
        [
          ['huge', 'TextTooLong'],
          ['a100', 'QueueFull'],
          ['a101', 'QueueFull'],
        ],
      );
      assert.match(caught[0]?.error?.message ?? '', /the limit is 50000/);
      tts().receive({ stop: true });
      tts().receive({ payload: 'After the stop.', topic: 'after' });
      await waitFor(() => events.some((e) => e.topic === 'after'), 10_000, 'the utterance after the stop');
      assert.equal(caught.length, 3);
    });

    it('a text over the character limit is refused with TextTooLong before anything is sent; one at the limit is spoken', async () => {
      await start({ utteranceCharacters: 40 });
      const joined = collect<Joined>(helper.getNode('joined'));
      const caught = collect<Caught>(helper.getNode('caught'));
      const atLimit = 'This sentence is exactly forty letters.!';
      assert.equal(atLimit.length, 40);
      tts().receive({ payload: `${atLimit}x`, topic: 'long' });
      await waitFor(() => caught.length === 1, 5000, 'the refusal');
      assert.equal(caught[0]?.topic, 'long');
      assert.equal(caught[0]?.error?.code, 'TextTooLong');
      assert.match(caught[0]?.error?.message ?? '', /41 characters; the limit is 40: nothing of it was sent \(settings\.js ttsLimits\.utteranceCharacters\)/);
      assert.equal(spoken(), 0, 'nothing reached the service');

      tts().receive({ payload: atLimit, topic: 'fits' });
      await waitFor(() => joined.length === 1, 10_000, 'the utterance at the limit');
      assert.ok(joined[0]?.payload.equals(audioOf(atLimit)));
      assert.equal(caught.length, 1);
    });

    it('a stream that passes the character limit: the text so far is spoken, one error, the rest dropped until msg.complete, then a new stream works', async () => {
      await start({ utteranceCharacters: 40 }, { input: 'stream' });
      const events = collect<Summary>(helper.getNode('events'));
      const caught = collect<Caught>(helper.getNode('caught'));
      const pieces = ['Hello there. ', 'Hello there. ', 'Hello there. '];
      for (const payload of pieces) tts().receive({ payload, topic: 'llm' });
      tts().receive({ payload: 'This piece crosses the limit.', topic: 'llm' });
      tts().receive({ payload: 'Dropped too.', topic: 'llm' });
      tts().receive({ payload: ' Still dropped.', complete: true, topic: 'llm' });
      await waitFor(() => events.length === 1, 10_000, 'the first stream spoken');
      assert.equal(events[0]?.payload.text, pieces.join(''));
      assert.equal(caught.length, 1, 'one error for the whole stream');
      assert.equal(caught[0]?.error?.code, 'TextTooLong');
      assert.match(caught[0]?.error?.message ?? '', /passed 40 characters: the text so far is spoken, the rest of the stream \(until msg\.complete\) is not/);

      tts().receive({ payload: 'Fresh start.', topic: 'next' });
      tts().receive({ payload: '', complete: true, topic: 'next' });
      await waitFor(() => events.length === 2, 10_000, 'the next stream');
      assert.equal(events[1]?.payload.text, 'Fresh start.');
      assert.equal(caught.length, 1);
    });

    it('a stream refused on its first piece stays refused until msg.stop, msg.complete or 20 s without pieces; then a new stream is spoken', async () => {
      await start({ utteranceCharacters: 10 }, { input: 'stream' });
      const events = collect<Summary>(helper.getNode('events'));
      const caught = collect<Caught>(helper.getNode('caught'));
      tts().receive({ payload: 'Far more than ten characters. ', topic: 'llm' });
      tts().receive({ payload: 'Short.', topic: 'llm' });
      await waitFor(() => caught.length === 1, 5000, 'the refusal');
      tts().receive({ stop: true });
      tts().receive({ payload: 'After stop', topic: 'a' });
      tts().receive({ payload: '', complete: true, topic: 'a' });
      await waitFor(() => events.length === 1, 10_000, 'the stream after msg.stop');
      assert.equal(events[0]?.payload.text, 'After stop');

      tts().receive({ payload: 'Far more than ten characters. ', topic: 'llm' });
      tts().receive({ payload: 'Dropped.', topic: 'llm' });
      await waitFor(() => caught.length === 2, 5000, 'the second refusal');
      // An upstream that failed never sends msg.complete: after a quiet spell the next piece is a new stream.
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'], shouldAdvanceTime: true });
      try {
        clock.tick(20_001);
        tts().receive({ payload: 'New one', topic: 'b' });
        tts().receive({ payload: '', complete: true, topic: 'b' });
      } finally {
        clock.restore();
      }
      await waitFor(() => events.length === 2, 10_000, 'the stream after the quiet spell');
      assert.equal(events[1]?.payload.text, 'New one');
      assert.equal(caught.length, 2, 'the dropped pieces were not reported again');
      assert.equal(spoken(), 2, 'nothing of the refused streams was sent');
    });

    it('a send that throws inside the socket handler fails that utterance only: error to catch, the next one plays', async () => {
      await start({});
      const joined = collect<Joined>(helper.getNode('joined'));
      const caught = collect<Caught>(helper.getNode('caught'));
      const events = collect<Summary>(helper.getNode('events'));
      // Node-RED clones a message for its second wire inside send(); this one cannot be cloned.
      const trap = {
        get boom(): never {
          throw new Error('cannot clone this');
        },
      };
      tts().receive({ payload: 'This one cannot be passed on.', topic: 'trap', trap });
      tts().receive({ payload: 'This one plays.', topic: 'fine' });
      await waitFor(() => joined.some((j) => j.topic === 'fine'), 10_000, 'the next utterance');
      await waitFor(() => caught.length === 1, 5000, 'the error');
      assert.equal(caught[0]?.error?.code, 'SendFailed');
      assert.match(caught[0]?.error?.message ?? '', /could not pass the audio on: cannot clone this/);
      assert.ok(joined.find((j) => j.topic === 'fine')?.payload.equals(audioOf('This one plays.')));
      assert.deepEqual(
        events.map((e) => e.topic),
        ['fine'],
        'the failed utterance reports no summary',
      );
    });
  });
}
