import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, helper, nextMessages } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('qwen-realtime'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];

interface OutMsg {
  payload: Buffer;
  topic?: string;
  audio?: { format: string; sampleRate: number };
  parts?: { id: string; index: number; count?: number };
  error?: { message: string; code?: string };
  interrupted?: boolean;
}

interface EventMsg {
  topic?: string;
  payload: { text: string; bytes: number; sessionId: string; responseIds: string[]; characters?: number };
}

type Receiver = Node & { receive(msg: Record<string, unknown>): void };

describe('qwen-realtime node', () => {
  let sim: DashScopeSimulator;

  async function start(qwen: Record<string, unknown> = {}, simOptions: SimulatorOptions = {}): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    const flow = synthesisFlow(sim.baseUrl, { id: 'qwen', type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'server_commit', ...qwen });
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
  }

  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await sim?.close();
  });

  const qwen = (): Receiver => helper.getNode('qwen') as Receiver;
  const node = (id: string): Node => helper.getNode(id);
  const audioOf = (text: string, voice = 'Cherry', sampleRate = 24000): Buffer => expectedAudio({ text, voice, sampleRate, service: 'qwen' });

  for (const mode of ['server_commit', 'commit'] as const) {
    for (const sampleRate of [24000, 16000]) {
      it(`${mode} mode at ${sampleRate} Hz: joined bytes equal the service's audio, with an end marker and an event`, async () => {
        await start({ mode, sampleRate });
        const joined = nextMessages<OutMsg>(node('joined'), 1);
        const events = nextMessages<EventMsg>(node('events'), 1);
        const chunks = collect<OutMsg>(node('chunks'));
        const text = 'First sentence. Second sentence! And the tail without a full stop';
        qwen().receive({ payload: text, topic: 'news' });
        const [whole] = await joined;
        assert.ok(whole?.payload.equals(audioOf(text, 'Cherry', sampleRate)), 'every word, including the unterminated tail');
        assert.equal(whole?.topic, 'news');
        const [event] = await events;
        assert.equal(event?.payload.text, text);
        assert.equal(event?.payload.bytes, whole?.payload.length);
        assert.match(event?.payload.sessionId ?? '', /^sess_/);
        assert.equal(event?.payload.characters, text.length);
        const last = chunks[chunks.length - 1];
        assert.equal(last?.payload.length, 0);
        assert.equal(last?.parts?.count, chunks.length);
        assert.deepEqual(chunks[0]?.audio, { format: 'pcm', sampleRate, channels: 1, bitDepth: 16 });
      });
    }
  }

  it('twenty utterances share one session; a voice change opens exactly one more', async () => {
    await start({ voice: '' });
    const joined = nextMessages<OutMsg>(node('joined'), 21);
    const texts = Array.from({ length: 20 }, (_, i) => `Reading number ${i + 1}.`);
    for (const t of texts) qwen().receive({ payload: t, voice: 'Cherry' });
    qwen().receive({ payload: 'A different voice.', voice: 'Ethan' });
    const out = await joined;
    out.slice(0, 20).forEach((m, i) => assert.ok(m.payload.equals(audioOf(texts[i] as string)), `utterance ${i}`));
    assert.ok(out[20]?.payload.equals(audioOf('A different voice.', 'Ethan')));
    assert.equal(sim.stats.connections.qwen, 2);
    assert.equal(sim.stats.sessionUpdates, 2, 'no session.update per utterance');
  });

  it('stream input: tokens append to one utterance and msg.complete ends it', async () => {
    await start({ input: 'stream' });
    const text = 'Tokens arrive one by one from a language model. The answer ends here';
    const tokens = text.match(/.{1,3}/gs) as string[];
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    tokens.forEach((t, i) => qwen().receive({ payload: t, complete: i === tokens.length - 1 ? true : undefined }));
    const [whole] = await joined;
    assert.ok(whole?.payload.equals(audioOf(text)));
  });

  it('a server error event reaches a catch node with its code; the next utterance plays', async () => {
    await start();
    sim.inject({ kind: 'qwen-error', code: 'InternalError', message: 'An internal error has occured', on: 'append' });
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    qwen().receive({ payload: 'This one meets an error.', topic: 'bad' });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'InternalError');
    assert.equal(err?.topic, 'bad');
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    qwen().receive({ payload: 'This one plays.' });
    const [ok] = await joined;
    assert.ok(ok?.payload.equals(audioOf('This one plays.')));
  });

  it('a socket dropped mid-utterance is reported, and the following utterance plays on a new session', async () => {
    await start();
    sim.inject({ kind: 'drop-after-frames', frames: 2, service: 'qwen' });
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    const joined = nextMessages<OutMsg>(node('joined'), 2);
    qwen().receive({ payload: 'A long sentence that is cut off after two chunks of audio have been sent.', topic: 'cut' });
    qwen().receive({ payload: 'The next one plays.', topic: 'next' });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'ConnectionClosed');
    const out = await joined;
    const next = out.find((m) => m.topic === 'next');
    assert.ok(next?.payload.equals(audioOf('The next one plays.')));
    assert.equal(sim.stats.connections.qwen, 2);
  });

  it('an utterance whose session dies before any audio is said again on a new session', async () => {
    await start();
    sim.inject({ kind: 'drop-after-frames', frames: 0, service: 'qwen' });
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    qwen().receive({ payload: 'Said twice, heard once.' });
    const [whole] = await joined;
    assert.ok(whole?.payload.equals(audioOf('Said twice, heard once.')));
    assert.equal(sim.stats.connections.qwen, 2);
  });

  it('msg.stop cancels the current response, drops the queue, and the next utterance plays', async () => {
    await start({ mode: 'commit' }, { realTimeFactor: 1, chunkMs: 50 });
    const chunks = collect<OutMsg>(node('chunks'));
    qwen().receive({ payload: 'A long announcement that will be interrupted long before it is over. '.repeat(3), topic: 'long' });
    qwen().receive({ payload: 'Dropped.', topic: 'dropped' });
    await waitFor(() => chunks.length >= 2, 5000, 'first chunks');
    qwen().receive({ stop: true });
    const atStop = chunks.length;
    await new Promise((r) => setTimeout(r, 200));
    const fromLong = chunks.filter((c) => c.topic === 'long');
    assert.ok(fromLong.length <= atStop + 1);
    assert.equal(fromLong[fromLong.length - 1]?.interrupted, true);
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    qwen().receive({ payload: 'Urgent.', topic: 'urgent' });
    const [urgent] = await joined;
    assert.ok(urgent?.payload.equals(audioOf('Urgent.')));
    assert.equal(chunks.filter((c) => c.topic === 'dropped').length, 0);
  });

  it('leaves out options the older qwen-tts-realtime models do not take', async () => {
    await start({ model: 'qwen-tts-realtime', volume: '80', speechRate: '1.2' });
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    qwen().receive({ payload: 'Old model.' });
    await joined;
    const update = sim.transcripts[0]?.entries.find((e) => e.dir === 'C' && (e.json as { type: string }).type === 'session.update');
    assert.deepEqual((update?.json as { session: unknown }).session, { voice: 'Cherry', mode: 'server_commit', response_format: 'pcm', sample_rate: 24000 });
  });

  it('refuses instructions on a model that does not take them, at deploy and per message', async () => {
    await start({ instructions: 'Speak slowly.' });
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    qwen().receive({ payload: 'hello' });
    const [err] = await caught;
    assert.match(err?.error?.message ?? '', /does not take instructions/);
    assert.equal(sim.stats.connections.qwen, 0);
  });
});
