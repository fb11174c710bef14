import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { epochNow } from '../../src/audio/audio-message';
import type { TtsConfigNode } from '../../src/nodes/tts-config/types';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];

interface OutMsg {
  payload: Buffer;
  topic?: string;
  audio?: { format: string; sampleRate: number; channels: number; bitDepth?: number; requestedAt?: number };
  parts?: { id: string; index: number; count?: number; type: string };
  error?: { message: string; code?: string };
  interrupted?: boolean;
}

interface EventMsg {
  topic?: string;
  payload: { text: string; bytes: number; characters: number; taskIds: string[]; requestIds: string[]; timeToFirstAudioMs?: number; durationMs?: number };
}

type Receiver = Node & { receive(msg: Record<string, unknown>): void };

describe('cosyvoice-stream node', () => {
  let sim: DashScopeSimulator;

  async function start(tts: Record<string, unknown> = {}, simOptions: SimulatorOptions = {}, cfg: Record<string, unknown> = {}): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    const flow = synthesisFlow(sim.baseUrl, { id: 'tts', type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang', ...tts }, cfg);
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
  }

  freshServerEachTest({ after: () => sim?.close() });

  const tts = (): Receiver => helper.getNode('tts') as Receiver;
  const node = (id: string): Node => helper.getNode(id);

  for (const format of ['pcm', 'wav'] as const) {
    for (const sampleRate of [16000, 24000]) {
      it(`streams ${format} at ${sampleRate} Hz: joined bytes equal the service's audio`, async () => {
        await start({ format, sampleRate });
        const joined = nextMessages<OutMsg>(node('joined'), 1);
        const events = nextMessages<EventMsg>(node('events'), 1);
        const chunks = collect<OutMsg>(node('chunks'));
        let firstChunkAt = 0;
        node('chunks').on('input', () => {
          firstChunkAt ||= epochNow();
        });
        const text = 'The front door is open. Please close it.';
        const sentAt = epochNow();
        tts().receive({ payload: text, topic: 'door' });
        const [whole] = await joined;
        const expected = expectedAudio({ text, voice: 'longanyang', sampleRate, format });
        assert.ok(Buffer.isBuffer(whole?.payload));
        assert.ok(whole.payload.equals(expected), `joined ${whole.payload.length} bytes, expected ${expected.length}`);
        assert.equal(whole.topic, 'door', 'input properties travel with the audio');

        const [event] = await events;
        assert.equal(event?.payload.text, text);
        assert.equal(event?.payload.bytes, expected.length);
        assert.equal(event?.payload.characters, text.length);
        assert.equal(event?.payload.taskIds.length, 1);
        assert.ok(typeof event?.payload.timeToFirstAudioMs === 'number');
        assert.equal(event?.topic, 'door');

        assert.ok(chunks.length >= 3);
        const { requestedAt, ...described } = chunks[0]?.audio ?? { requestedAt: undefined };
        assert.deepEqual(described, { format, sampleRate, channels: 1, bitDepth: 16 });
        // When the node received the text, on every message of the utterance (the end marker too).
        assert.ok(typeof requestedAt === 'number' && requestedAt >= sentAt && requestedAt <= firstChunkAt, `requestedAt ${requestedAt} between ${sentAt} and ${firstChunkAt}`);
        assert.ok(chunks.every((c) => c.audio?.requestedAt === requestedAt));
        chunks.forEach((c, i) => assert.equal(c.parts?.index, i));
        const last = chunks[chunks.length - 1] as OutMsg;
        assert.equal(last.payload.length, 0, 'the end marker is a zero-length chunk');
        assert.equal(last.parts?.count, chunks.length);
        assert.ok(chunks.slice(0, -1).every((c) => c.parts?.count === undefined && c.payload.length > 0));
      });
    }
  }

  it('speaks five queued utterances in order over one socket; join yields one Buffer each', async () => {
    await start();
    const joined = nextMessages<OutMsg>(node('joined'), 5);
    const texts = [1, 2, 3, 4, 5].map((i) => `Message number ${i} of five.`);
    for (const [i, t] of texts.entries()) tts().receive({ payload: t, topic: `t${i}` });
    const out = await joined;
    assert.deepEqual(
      out.map((m) => m.topic),
      ['t0', 't1', 't2', 't3', 't4'],
    );
    out.forEach((m, i) => assert.ok(m.payload.equals(expectedAudio({ text: texts[i] as string, voice: 'longanyang', sampleRate: 24000 }))));
    assert.equal(sim.stats.connections.cosyvoice, 1);
    assert.equal(sim.stats.tasks.finished, 5);
  });

  it('msg.stop ends the current utterance within one chunk, drops the queue, and the next utterance plays', async () => {
    await start({}, { realTimeFactor: 1, chunkMs: 50 });
    const chunks = collect<OutMsg>(node('chunks'));
    const long = 'This announcement is long enough to be interrupted before it ends. '.repeat(4);
    tts().receive({ payload: long, topic: 'long' });
    tts().receive({ payload: 'Queued and then dropped.', topic: 'dropped' });
    await waitFor(() => chunks.length >= 2, 5000, 'first chunks');
    tts().receive({ stop: true });
    const atStop = chunks.length;
    await new Promise((r) => setTimeout(r, 200));
    const fromLong = chunks.filter((c) => c.topic === 'long');
    assert.ok(fromLong.length <= atStop + 1, `${fromLong.length - atStop} chunks arrived after stop`);
    const marker = fromLong[fromLong.length - 1] as OutMsg;
    assert.equal(marker.payload.length, 0, 'the stopped utterance is closed with an end marker');
    assert.equal(marker.interrupted, true);

    const joined = nextMessages<OutMsg>(node('joined'), 1);
    tts().receive({ payload: 'Urgent: smoke detected.', topic: 'urgent' });
    const [urgent] = await joined;
    assert.equal(urgent?.topic, 'urgent');
    assert.ok(urgent?.payload.equals(expectedAudio({ text: 'Urgent: smoke detected.', voice: 'longanyang', sampleRate: 24000 })));
    assert.equal(chunks.filter((c) => c.topic === 'dropped').length, 0, 'the queued utterance was dropped');
  });

  it('with keepWarm, the utterance after a stop starts on a socket that was already open', async () => {
    await start({}, { realTimeFactor: 1, chunkMs: 50 }, { keepWarm: true });
    const manager = (node('cfg') as unknown as TtsConfigNode).manager!;
    await waitFor(() => manager.stats().idle === 1, 2000, 'the warm socket');
    const chunks = collect<OutMsg>(node('chunks'));
    tts().receive({ payload: 'A long announcement that gets interrupted. '.repeat(4), topic: 'long' });
    await waitFor(() => chunks.length >= 2 && manager.stats().idle === 1, 5000, 'speaking, with a spare ready');
    const reused = manager.stats().reused;
    const opened = manager.stats().opened;
    tts().receive({ stop: true, payload: 'Urgent.', topic: 'urgent' });
    await waitFor(() => chunks.some((c) => c.topic === 'urgent' && c.payload.length > 0), 5000, 'urgent audio');
    assert.equal(manager.stats().reused, reused + 1, 'the urgent utterance took the spare socket');
    assert.ok(manager.stats().opened <= opened + 1, 'at most the background refill opened a socket');
  });

  it('with keepWarm a task is started at deploy, so the first text needs no run-task round trip', async () => {
    await start({}, {}, { keepWarm: true });
    const manager = (node('cfg') as unknown as TtsConfigNode).manager!;
    await waitFor(() => sim.stats.tasks.started === 1, 2000, 'a task started ahead');
    const sentAt = Date.now();
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    tts().receive({ payload: 'Ready before you asked.' });
    const [out] = await joined;
    assert.ok(out?.payload.equals(expectedAudio({ text: 'Ready before you asked.', voice: 'longanyang', sampleRate: 24000 })));
    assert.equal(manager.stats().armedUsed, 1);
    const runTasks = sim.transcripts.flatMap((t) =>
      t.entries.filter((e) => e.dir === 'C' && (e.json as { header?: { action?: string } }).header?.action === 'run-task'),
    );
    assert.ok(runTasks.length >= 1 && (runTasks[0]?.at ?? Infinity) < sentAt, 'the utterance task was started before the message came');
    await waitFor(() => sim.stats.tasks.started === 2, 2000, 'the next task armed once the queue ran empty');
  });

  describe('one utterance over several tasks', () => {
    // settings.js tuning: the client finishes a task it has sent nothing for after 120 ms; the
    // simulator stands in for the service's 23 s limit with 400 ms.
    before(() => helper.settings({ ttsConfigConnection: { cosyvoiceLimits: { idleFinishMs: 120 } } } as Record<string, unknown>));
    after(() => helper.settings({}));
    const pace: SimulatorOptions = { firstAudioLatencyMs: 20, realTimeFactor: 0.1 };

    it('a stream left open while the service still sends audio (longer than its task timeout) completes with all of its audio', async () => {
      // ≈ 4 s of audio at a real-time factor of 0.2 streams for ≈ 800 ms, twice the service's (scaled) limit.
      await start({ input: 'stream' }, { firstAudioLatencyMs: 20, realTimeFactor: 0.2, cosyvoice: { taskTimeoutMs: 400 } });
      const joined = nextMessages<OutMsg>(node('joined'), 1);
      const events = nextMessages<EventMsg>(node('events'), 1);
      const text = 'The service is still reading this aloud, long after the last token came, and it must all be heard!';
      tts().receive({ payload: text, topic: 'llm' });
      await new Promise((r) => setTimeout(r, 1000)); // the stream stays open, silent, while the audio streams
      tts().receive({ payload: '', complete: true, topic: 'llm' });
      const [whole] = await joined;
      assert.equal(sim.stats.tasks.failed, 0, 'the service timed the task out while it was still sending audio');
      assert.ok(whole?.payload.equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 24000 })), 'all of the audio, in order');
      const [event] = await events;
      assert.equal(event?.payload.text, text);
      assert.equal(event?.payload.taskIds.length, 1);
    });

    for (const format of ['wav', 'mp3'] as const) {
      it(`${format}: a stream paused past the idle finish comes out as one stream with one header`, async () => {
        await start({ input: 'stream', format }, { ...pace, cosyvoice: { taskTimeoutMs: 400 } });
        const joined = nextMessages<OutMsg>(node('joined'), 1);
        const events = nextMessages<EventMsg>(node('events'), 1);
        const first = 'The first part arrives,';
        const second = ' and the rest comes later!';
        tts().receive({ payload: first, topic: 'paused' });
        await new Promise((r) => setTimeout(r, 400)); // past the idle finish: the first task ends
        tts().receive({ payload: second, topic: 'paused', complete: true });
        const [whole] = await joined;
        const [event] = await events;
        assert.equal(event?.payload.taskIds.length, 2, 'the pause split the utterance into two tasks');
        const mark = format === 'wav' ? 'RIFF' : 'ID3';
        assert.equal(whole?.payload.indexOf(mark), 0, 'the stream starts with its header');
        assert.equal(whole?.payload.indexOf(mark, 1), -1, `no second ${mark} header in the middle`);
        assert.ok(whole?.payload.equals(expectedAudio({ text: first + second, voice: 'longanyang', sampleRate: 24000, format })));
        assert.equal(event?.payload.bytes, whole?.payload.length);
      });
    }
  });

  it('puts sentence and word timestamps on output 2 when enabled', async () => {
    await start({ wordTimestamps: true });
    const events = nextMessages<{ payload: { sentences: { index: number; text: string; words: { text: string; beginTime: number }[] }[] } }>(node('events'), 1);
    tts().receive({ payload: '床前明月光，疑是地上霜。' });
    const [event] = await events;
    assert.deepEqual(
      event?.payload.sentences.map((s) => s.text),
      ['床前明月光，', '疑是地上霜。'],
    );
    assert.equal(event?.payload.sentences[0]?.words[0]?.text, '床');
  });

  it('stream input across 50 small messages gives the same audio as the whole text at once', async () => {
    await start({ input: 'stream' });
    const text = 'Streaming tokens from a language model, one small piece at a time, until the answer is complete.';
    const tokens: string[] = [];
    for (let i = 0; i < 50; i++) tokens.push(text.slice(Math.floor((i * text.length) / 50), Math.floor(((i + 1) * text.length) / 50)));
    assert.equal(tokens.join(''), text);
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    tokens.forEach((t, i) => tts().receive({ payload: t, complete: i === 49 ? true : undefined, topic: 'llm' }));
    const [whole] = await joined;
    assert.ok(whole?.payload.equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 24000 })));
    assert.equal(sim.stats.tasks.started, 1, 'one task for the whole stream');
  });

  it('a task-failed (unknown voice, 418) reaches a catch node with its code, and the next message works', async () => {
    await start({ voice: '' }); // msg.voice overrides only a blank node field
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    tts().receive({ payload: 'Who am I?', voice: 'nosuchvoice', topic: 'bad' });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'InvalidParameter');
    assert.match(err?.error?.message ?? '', /418/);
    assert.equal(err?.topic, 'bad');
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    tts().receive({ payload: 'Back to normal.', voice: 'longanyang' });
    const [ok] = await joined;
    assert.ok(ok?.payload.equals(expectedAudio({ text: 'Back to normal.', voice: 'longanyang', sampleRate: 24000 })));
  });

  it('a non-string payload is a clear error; empty text is skipped and never billed', async () => {
    await start();
    const caught = nextMessages<OutMsg>(node('caught'), 2);
    tts().receive({ payload: 42 });
    tts().receive({ payload: { text: 'hi' } });
    const errs = await caught;
    assert.match(errs[0]?.error?.message ?? '', /must be a string.*number/);
    assert.match(errs[1]?.error?.message ?? '', /must be a string.*object/);
    assert.equal(errs[0]?.error?.code, 'InvalidInput');
    const warned = new Promise<string>((resolve) => tts().once('call:warn', (call: { args: unknown[] }) => resolve(String(call.args[0]))));
    tts().receive({ payload: '   ' });
    assert.match(await warned, /empty text/);
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    tts().receive({ payload: 'Still working.' });
    await joined;
    assert.equal(sim.stats.tasks.started, 1, 'the blank message never reached the service');
  });

  it('refuses a voice of another model before calling the service', async () => {
    await start({ voice: '' });
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    tts().receive({ payload: 'hello', voice: 'longxiaochun_v2' });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'VoiceModelMismatch');
    assert.equal(sim.stats.tasks.started, 0);
  });

  it('msg.voice does not override a voice set on the node (Node-RED convention)', async () => {
    await start();
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    tts().receive({ payload: 'Node voice wins.', voice: 'longxiaochun_v2' });
    const [out] = await joined;
    assert.ok(out?.payload.equals(expectedAudio({ text: 'Node voice wins.', voice: 'longanyang', sampleRate: 24000 })));
  });

  describe('status', () => {
    type StatusSpy = { args: { fill?: string; shape?: string; text?: string }[][] };
    const statuses = (): { fill?: string; text?: string }[] => ((tts() as unknown as { status: StatusSpy }).status.args ?? []).map((a) => a[0] ?? {});

    it('shows speaking while an utterance plays, ready afterwards, and a failure in a few words', async () => {
      await start({ voice: '' });
      const joined = nextMessages<OutMsg>(node('joined'), 1);
      tts().receive({ payload: 'Status check.', voice: 'longanyang' });
      await joined;
      await waitFor(() => statuses().some((s) => s.text === 'ready' && s.fill === 'green'), 2000, 'ready after speaking');
      const texts = statuses().map((s) => s.text);
      assert.ok(texts.includes('speaking (longanyang)'), texts.join(' | '));
      const caught = nextMessages<OutMsg>(node('caught'), 1);
      tts().receive({ payload: 'x', voice: 'nosuchvoice' });
      await caught;
      const last = statuses()[statuses().length - 1];
      assert.equal(last?.fill, 'red');
      assert.match(last?.text ?? '', /InvalidParameter/);
      assert.ok((last?.text ?? '').length <= 60);
    });

    it('says "invalid API key" when the service refuses the key, and makes no further attempts', async () => {
      sim = await DashScopeSimulator.start();
      sim.inject({ kind: 'reject-auth', times: Infinity });
      const flow: TestFlows = [
        { id: 'tab', type: 'tab' },
        { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
        { id: 'tts', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [[], []] },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ];
      await helper.load(nodes, flow, { cfg: { apiKey: 'sk-wrong' } });
      const caught = nextMessages<OutMsg>(node('caught'), 3);
      for (let i = 0; i < 3; i++) tts().receive({ payload: `attempt ${i}` });
      const errs = await caught;
      assert.ok(errs.every((e) => e.error?.code === 'InvalidApiKey'));
      assert.equal(sim.stats.handshakesRejected, 1);
      const last = statuses()[statuses().length - 1];
      assert.equal(last?.text, 'invalid API key');
    });
  });
});

