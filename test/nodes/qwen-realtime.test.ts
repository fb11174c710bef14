import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { epochNow } from '../../src/audio/audio-message';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';
import { sessionIdOf } from '../variants/qwen-transcripts';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('qwen-realtime'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];

interface OutMsg {
  payload: Buffer;
  topic?: string;
  audio?: { format: string; sampleRate: number; requestedAt?: number };
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

  async function start(qwen: Record<string, unknown> = {}, simOptions: SimulatorOptions = {}, cfg: Record<string, unknown> = {}): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    const flow = synthesisFlow(sim.baseUrl, { id: 'qwen', type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'server_commit', ...qwen }, cfg);
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
  }

  freshServerEachTest({ after: () => sim?.close() });

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
        let firstChunkAt = 0;
        node('chunks').on('input', () => {
          firstChunkAt ||= epochNow();
        });
        const text = 'First sentence. Second sentence! And the tail without a full stop';
        const sentAt = epochNow();
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
        const { requestedAt, ...described } = chunks[0]?.audio ?? { requestedAt: undefined };
        assert.deepEqual(described, { format: 'pcm', sampleRate, channels: 1, bitDepth: 16 });
        // When the node received the text, on every message of the utterance (the end marker too).
        assert.ok(typeof requestedAt === 'number' && requestedAt >= sentAt && requestedAt <= firstChunkAt, `requestedAt ${requestedAt} between ${sentAt} and ${firstChunkAt}`);
        assert.ok(chunks.every((c) => c.audio?.requestedAt === requestedAt));
      });
    }
  }

  it('twenty queued utterances: each on its own session, ready before it was needed (no handshake on the hot path); a voice change too', async () => {
    await start({ voice: '' }, { firstAudioLatencyMs: 20, realTimeFactor: 0.05 });
    const joined = nextMessages<OutMsg>(node('joined'), 21);
    const events = nextMessages<EventMsg>(node('events'), 21);
    const texts = Array.from({ length: 20 }, (_, i) => `Reading number ${i + 1}.`);
    for (const t of texts) qwen().receive({ payload: t, voice: 'Cherry' });
    qwen().receive({ payload: 'A different voice.', voice: 'Ethan' });
    const out = await joined;
    out.slice(0, 20).forEach((m, i) => assert.ok(m.payload.equals(audioOf(texts[i] as string)), `utterance ${i}`));
    assert.ok(out[20]?.payload.equals(audioOf('A different voice.', 'Ethan')));
    const used = (await events).map((e) => e.payload.sessionId);
    assert.equal(new Set(used).size, 21, 'a session per utterance: nothing of one can reach the next');
    // Sessions are never reused, so each must have been opened while the one before was speaking.
    const byId = new Map(sim.transcripts.map((t) => [sessionIdOf(t), t]));
    for (let i = 1; i < 20; i++) {
      const mine = byId.get(used[i]);
      const previous = byId.get(used[i - 1]);
      const ready = mine?.entries.find((e) => e.dir === 'S' && (e.json as { type: string }).type === 'session.updated')?.at ?? Infinity;
      const previousEnd = previous?.entries.find((e) => e.dir === 'S' && (e.json as { type: string }).type === 'session.finished')?.at ?? -Infinity;
      assert.ok(ready <= previousEnd, `utterance ${i}: its session was ready ${ready - previousEnd} ms after the previous one ended`);
    }
    // 20 + the spare left for a 21st Cherry utterance, + Ethan's: a voice that does not repeat the
    // one before opens no spare (it would most likely never be used).
    assert.equal(sim.stats.connections.qwen, 22);
    assert.equal(sim.stats.sessionUpdates, 22, 'one session.update per session');
  });

  for (const keepWarm of [false, true]) {
    it(`a voice per message (keepWarm ${keepWarm ? 'on' : 'off'}): no spare session is opened that no utterance uses`, async () => {
      // A blank node voice: msg.voice decides (a message property overrides only a blank field).
      await start({ voice: '' }, { firstAudioLatencyMs: 20, realTimeFactor: 0.05 }, { keepWarm });
      const voices = ['Serena', 'Ethan', 'Chelsie', 'Momo', 'Vivian', 'Maia'];
      const joined = nextMessages<OutMsg>(node('joined'), voices.length);
      voices.forEach((voice, i) => qwen().receive({ payload: `Message ${i} in its own voice.`, voice }));
      const out = await joined;
      out.forEach((m, i) => assert.ok(m.payload.equals(audioOf(`Message ${i} in its own voice.`, voices[i])), `utterance ${i}`));
      await new Promise((r) => setTimeout(r, 200)); // a spare opened at the end would be open by now
      const unused = sim.transcripts.filter(
        (t) => t.service === 'qwen' && !t.entries.some((e) => e.dir === 'C' && (e.json as { type?: string }).type === 'input_text_buffer.append'),
      );
      // keepWarm opens one for the node's own settings at deploy (docs/protocol.md "Keeping warm"):
      // it waits for a message without a voice, and ends after its idle time.
      assert.equal(unused.length, keepWarm ? 1 : 0, `sessions that never got text: ${unused.length} of ${sim.stats.connections.qwen}`);
      assert.equal(sim.stats.connections.qwen, voices.length + (keepWarm ? 1 : 0), 'one session per utterance, each a request of the model budget');
    });
  }

  it('stream input: blank tokens are never sent on their own, their whitespace goes ahead of the next word', async () => {
    await start({ input: 'stream' });
    // (A blank first token starts nothing: the node waits for text.)
    const tokens = ['Hello', ' ', '  ', 'world', '.', ' ', 'Bye', ' ', '\n'];
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    const events = nextMessages<EventMsg>(node('events'), 1);
    tokens.forEach((t, i) => qwen().receive({ payload: t, complete: i === tokens.length - 1 ? true : undefined }));
    const [whole] = await joined;
    const spoken = 'Hello   world. Bye'; // the trailing blanks were never followed by a word
    assert.ok(whole?.payload.equals(audioOf(spoken)));
    assert.equal((await events)[0]?.payload.text, tokens.join(''));
    const appends = sim.transcripts
      .flatMap((t) => t.entries)
      .filter((e) => e.dir === 'C' && (e.json as { type: string }).type === 'input_text_buffer.append')
      .map((e) => (e.json as { text: string }).text);
    assert.deepEqual(appends, ['Hello', '   world', '.', ' Bye']);
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
    sim.inject({ kind: 'qwen-error', code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.', on: 'append' });
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    qwen().receive({ payload: 'This one meets an error.', topic: 'bad' });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'DataInspectionFailed');
    assert.match(err?.error?.message ?? '', /inappropriate content/);
    assert.equal(err?.topic, 'bad');
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    qwen().receive({ payload: 'This one plays.' });
    const [ok] = await joined;
    assert.ok(ok?.payload.equals(audioOf('This one plays.')));
  });

  it('an InternalError event before any audio: said again on a fresh session, heard once', async () => {
    await start();
    sim.inject({ kind: 'qwen-error', code: 'InternalError', message: 'An internal error has occured', on: 'append' });
    const caught = collect<OutMsg>(node('caught'));
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    qwen().receive({ payload: 'This one meets an error, once.', topic: 'retried' });
    const [whole] = await joined;
    assert.ok(whole?.payload.equals(audioOf('This one meets an error, once.')));
    assert.equal(caught.length, 0);
    const appended = sim.transcripts.filter((t) => t.entries.some((e) => e.dir === 'C' && (e.json as { type: string }).type === 'input_text_buffer.append'));
    assert.equal(appended.length, 2, 'the session that answered with the error, then a fresh one');
  });

  it('a socket dropped mid-utterance is reported, and the following utterance plays on a new session', async () => {
    await start();
    sim.inject({ kind: 'drop-after-frames', frames: 2, service: 'qwen' });
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    const nextEvent = nextMessages<EventMsg>(node('events'), 1);
    const joined = nextMessages<OutMsg>(node('joined'), 2);
    qwen().receive({ payload: 'A long sentence that is cut off after two chunks of audio have been sent.', topic: 'cut' });
    qwen().receive({ payload: 'The next one plays.', topic: 'next' });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'ConnectionClosed');
    const out = await joined;
    const next = out.find((m) => m.topic === 'next');
    assert.ok(next?.payload.equals(audioOf('The next one plays.')));
    const [event] = await nextEvent;
    assert.notEqual(event?.payload.sessionId, sessionIdOf(sim.transcripts[0]!), 'the next one played on another session');
  });

  it('an utterance whose session dies before any audio is said again on a new session', async () => {
    await start();
    sim.inject({ kind: 'drop-after-frames', frames: 0, service: 'qwen' });
    const joined = nextMessages<OutMsg>(node('joined'), 1);
    const events = nextMessages<EventMsg>(node('events'), 1);
    qwen().receive({ payload: 'Said twice, heard once.' });
    const [whole] = await joined;
    assert.ok(whole?.payload.equals(audioOf('Said twice, heard once.')));
    const [event] = await events;
    const dropped = sessionIdOf(sim.transcripts[0]!);
    assert.notEqual(event?.payload.sessionId, dropped, 'said again on a session opened after the drop');
    const appended = sim.transcripts.filter((t) => t.entries.some((e) => e.dir === 'C' && (e.json as { type: string }).type === 'input_text_buffer.append'));
    assert.equal(appended.length, 2, 'the text went to two sessions: the one dropped and the fresh one');
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
