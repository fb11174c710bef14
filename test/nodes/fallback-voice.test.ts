import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeStatus } from 'node-red';
import { epochNow } from '../../src/audio/audio-message';
import { parseWavHeader } from '../../src/audio/wav';
import { deadlineError } from '../../src/connection/connect-gate';
import { DashScopeError } from '../../src/dashscope/errors';
import { fallsBack } from '../../src/speech/fallback/fallback-engine';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from '../support/node-red';
import { needing } from '../support/system-deps';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime'), coreNode('common/25-catch.js')];
const TEXT = 'The front door is open.';

interface OutMsg {
  payload: Buffer;
  audio?: { format: string; sampleRate: number; channels: number; bitDepth?: number; fallback?: boolean; requestedAt?: number };
  parts?: { id: string; index: number; count?: number };
  error?: { message: string; code?: string };
}
interface EventMsg {
  payload: { text: string; bytes: number; characters?: number; fallback?: boolean; engine?: string; durationMs?: number; voice: string };
}
/** settings.js entries of this package, which the helper's typings do not know. */
function runtimeSettings(settings: Record<string, unknown>): void {
  helper.settings(settings as Parameters<typeof helper.settings>[0]);
}

type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type StatusNode = Node & { status: (s: NodeStatus) => void };

const SPEECH: Record<'cosyvoice' | 'qwen', { type: string } & Record<string, unknown>> = {
  cosyvoice: { type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 16000 },
  qwen: { type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'commit', format: 'wav', sampleRate: 24000 },
};

describe('offline fallback voice (cosyvoice-stream, qwen-realtime)', function () {
  this.timeout(20_000);
  let sim: DashScopeSimulator;
  let statuses: NodeStatus[];

  async function deploy(service: 'cosyvoice' | 'qwen', extra: Record<string, unknown> = {}): Promise<void> {
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      { id: 'tts', z: 'tab', config: 'cfg', input: 'utterance', fallback: true, wires: [['chunks'], ['events']], ...SPEECH[service], ...extra },
      { id: 'chunks', type: 'helper', z: 'tab' },
      { id: 'events', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    statuses = [];
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    const tts = helper.getNode('tts') as StatusNode;
    const original = tts.status.bind(tts);
    tts.status = (s: NodeStatus) => {
      statuses.push(s);
      original(s);
    };
  }

  const node = (id: string): Node => helper.getNode(id);
  const tts = (): Receiver => helper.getNode('tts') as Receiver;
  const lastStatus = (): string => String(statuses[statuses.length - 1]?.text ?? '');

  /** Its audio and summary, and when it was sent and its first chunk arrived (epochNow()). */
  async function say(msg: Record<string, unknown>): Promise<{ chunks: OutMsg[]; event: EventMsg; sentAt: number; firstChunkAt: number }> {
    const chunks = collect<OutMsg>(node('chunks'));
    let firstChunkAt = 0;
    node('chunks').on('input', () => {
      firstChunkAt ||= epochNow();
    });
    const events = nextMessages<EventMsg>(node('events'), 1);
    const sentAt = epochNow();
    tts().receive(msg);
    const [event] = await events;
    return { chunks, event: event as EventMsg, sentAt, firstChunkAt };
  }

  /** msg.audio of an utterance: the format exactly, and requestedAt when the node received the text (on every message). */
  function assertAudio(said: { chunks: OutMsg[]; sentAt: number; firstChunkAt: number }, expected: Record<string, unknown>): void {
    const { requestedAt, ...described } = said.chunks[0]?.audio ?? { requestedAt: undefined };
    assert.deepEqual(described, expected);
    assert.ok(typeof requestedAt === 'number' && requestedAt >= said.sentAt && requestedAt <= said.firstChunkAt, `requestedAt ${requestedAt} between ${said.sentAt} and ${said.firstChunkAt}`);
    assert.ok(said.chunks.every((c) => c.audio?.requestedAt === requestedAt));
  }

  freshServerEachTest({ ownSettings: true, before: () => runtimeSettings({ ttsFallback: { recoveryMs: 200 } }), after: () => sim?.close() });

  it('cosyvoice: refused connections → espeak-ng speaks at once in the promised format, marked fallback; the service takes over again by itself', needing('espeak-ng', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    await sim.stopListening();
    const started = Date.now();
    const said = await say({ payload: TEXT, topic: 'door' });
    const { chunks, event } = said;
    const elapsed = Date.now() - started;
    // The connection manager's second attempt comes 250–500 ms after the first: the local voice does not wait for it.
    assert.ok(elapsed < 250, `fallback after the first failed attempt, not the whole backoff (${elapsed} ms)`);
    assert.equal(event.payload.fallback, true);
    assert.equal(event.payload.engine, 'espeak-ng');
    assert.equal(event.payload.characters, 0);
    const audio = chunks.filter((c) => c.payload.length > 0);
    assert.ok(audio.length >= 3, 'chunked, not one blob');
    assertAudio(said, { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16, fallback: true });
    const pcm = Buffer.concat(audio.map((c) => c.payload));
    assert.equal(pcm.length % 2, 0);
    // espeak-ng says this sentence in about 1.5 s: at 16 kHz that is some 48 kB of samples.
    assert.ok(pcm.length > 16000 * 2 * 0.8 && pcm.length < 16000 * 2 * 4, `${pcm.length} bytes at 16 kHz`);
    assert.equal(event.payload.bytes, pcm.length);
    assert.ok(Math.abs((event.payload.durationMs ?? 0) - (pcm.length / 32000) * 1000) < 1);
    let peak = 0;
    for (let i = 0; i < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
    assert.ok(peak > 1000, 'it is speech, not silence');
    const end = chunks[chunks.length - 1] as OutMsg;
    assert.equal(end.parts?.count, chunks.length);
    assert.match(lastStatus(), /fallback voice/);

    // The next alert while the service is still down goes straight to the local voice.
    const second = await say({ payload: 'Still offline.' });
    assert.equal(second.event.payload.fallback, true);
    // Its own request's time, not the first one's.
    assertAudio(second, { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16, fallback: true });

    await sim.resumeListening();
    await waitFor(() => !/fallback/.test(lastStatus()), 8000, 'the node to notice the service is back');
    const joined = await say({ payload: TEXT });
    assert.equal(joined.event.payload.fallback, undefined, 'spoken by the service');
    const back = Buffer.concat(joined.chunks.map((c) => c.payload));
    assert.ok(back.equals(expectedAudio({ text: TEXT, voice: 'longanyang', sampleRate: 16000 })));
    assert.equal(joined.chunks[0]?.audio?.fallback, undefined);
  }));

  it('qwen: a 5xx handshake falls back too, as WAV at the promised 24 kHz', needing('espeak-ng', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('qwen');
    sim.inject({ kind: 'http-error', status: 503, times: 10 });
    const said = await say({ payload: TEXT });
    const { chunks, event } = said;
    assert.equal(event.payload.fallback, true);
    const first = chunks[0] as OutMsg;
    assertAudio(said, { format: 'wav', sampleRate: 24000, channels: 1, bitDepth: 16, fallback: true });
    const header = parseWavHeader(first.payload);
    assert.deepEqual(header.format, { sampleRate: 24000, channels: 1, bitDepth: 16 });
    const wav = Buffer.concat(chunks.map((c) => c.payload));
    assert.equal(wav.readUInt32LE(40), wav.length - 44, 'the data size in the header is the real one');
  }));

  it('an auth failure does not fall back: the error is seen', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    sim.inject({ kind: 'reject-auth', status: 401 });
    const chunks = collect<OutMsg>(node('chunks'));
    const events = collect<EventMsg>(node('events'));
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    tts().receive({ payload: TEXT });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'InvalidApiKey');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(chunks.length, 0, 'no audio at all');
    assert.equal(events.length, 0);
    assert.match(lastStatus(), /invalid API key/);
  });

  it('a bad parameter does not fall back either', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    sim.inject({ kind: 'fail-task', code: 'InvalidParameter', message: 'bad voice' });
    const chunks = collect<OutMsg>(node('chunks'));
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    tts().receive({ payload: TEXT });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'InvalidParameter');
    assert.equal(chunks.length, 0);
  });

  it('a streamed utterance falls back once its text is complete; fallback audio is never cached', needing('espeak-ng', async () => {
    const userDir = mkdtempSync(join(tmpdir(), 'dashscope-fallback-'));
    try {
      runtimeSettings({ userDir, ttsFallback: { recoveryMs: 200 } });
      sim = await DashScopeSimulator.start();
      await deploy('cosyvoice', { input: 'stream', cache: true });
      await sim.stopListening();
      const events = nextMessages<EventMsg>(node('events'), 1);
      tts().receive({ payload: 'The front ' });
      await waitFor(() => /fallback/.test(lastStatus()), 2000, 'fallback status');
      tts().receive({ payload: 'door is open.' });
      tts().receive({ payload: '', complete: true });
      const [event] = await events;
      assert.equal(event?.payload.fallback, true);
      assert.equal(event?.payload.text, TEXT);
      await new Promise((r) => setTimeout(r, 100));
      // Whatever the config's folder is called: no entry anywhere under the cache.
      const root = join(userDir, 'dashscope-tts-cache');
      const entries = existsSync(root) ? readdirSync(root, { recursive: true }).filter((f) => String(f).endsWith('.dspc')) : [];
      assert.deepEqual(entries, [], 'nothing cached');
    } finally {
      rmSync(userDir, { recursive: true, force: true });
    }
  }));

  it('without a local engine the node says so at deploy, before any alert', async () => {
    // The utterance waits for the service up to the deadline (30 s by default), shortened here.
    runtimeSettings({ ttsFallback: { command: '/nonexistent/espeak-ng' }, ttsConfigConnection: { waitDeadlineMs: 1000 } });
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    await waitFor(() => /no fallback voice/.test(lastStatus()), 3000, 'the deploy-time warning');
    const warned = (helper.log() as unknown as { args: { msg?: unknown }[][] }).args.some((a) => /no fallback voice: .*not installed/.test(String(a[0]?.msg)));
    assert.ok(warned, 'a warning in the log and debug sidebar');
    // Offline now: the service's own error is reported, as without the option.
    await sim.stopListening();
    const events = collect<EventMsg>(node('events'));
    const caught = nextMessages<OutMsg>(node('caught'), 1);
    tts().receive({ payload: TEXT });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'NetworkError');
    assert.match(String(err?.error?.message), /no connection to the service within 1 s/);
    assert.equal(events.length, 0);
  });

  it('an utterance that waited out the connection deadline falls back (the deadline error is "unreachable")', () => {
    const refused = new DashScopeError({ code: 'NetworkError', message: 'cannot connect: ECONNREFUSED', origin: 'network', retryable: true });
    const unavailable = new DashScopeError({ code: 'ServiceUnavailable', message: 'busy', origin: 'handshake', retryable: true, status: 503 });
    for (const cause of [refused, unavailable, undefined]) assert.equal(fallsBack(deadlineError(cause, 30_000)), true, cause?.code);
    const auth = new DashScopeError({ code: 'InvalidApiKey', message: 'invalid API key', origin: 'handshake', retryable: false, status: 401 });
    assert.equal(fallsBack(auth), false, 'a wrong key still never falls back');
  });

  it('the service down longer than the deadline: the fallback voice speaks, nothing reaches catch, and the service takes over again', needing('espeak-ng', async () => {
    runtimeSettings({ ttsFallback: { recoveryMs: 200 }, ttsConfigConnection: { waitDeadlineMs: 600 } });
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    await sim.stopListening();
    const caught = collect<OutMsg>(node('caught'));
    const { event } = await say({ payload: TEXT });
    assert.equal(event.payload.fallback, true);
    await new Promise((r) => setTimeout(r, 900)); // past the deadline of the attempt it started with
    assert.equal(caught.length, 0, 'no error: the alert was spoken');
    await sim.resumeListening();
    await waitFor(() => !/fallback/.test(lastStatus()), 3000, 'the node to notice the service is back');
    const back = await say({ payload: 'Back.' });
    assert.equal(back.event.payload.fallback, undefined);
  }));

  it('an mp3 node cannot keep its promise locally: said at deploy', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice', { format: 'mp3', sampleRate: 22050 });
    await waitFor(() => /no fallback voice/.test(lastStatus()), 3000, 'the deploy-time warning');
  });
});
