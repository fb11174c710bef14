import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'node-red';
import { epochNow } from '../../src/audio/audio-message';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from '../support/node-red';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];
const TEXT = 'The front door is open.';

interface OutMsg {
  payload: Buffer;
  topic?: string;
  audio?: Record<string, unknown>;
  parts?: { id: string; index: number; count?: number };
}
interface EventMsg {
  payload: { text: string; bytes: number; characters?: number; cached?: boolean; timeToFirstAudioMs?: number };
}
type Receiver = Node & { receive(msg: Record<string, unknown>): void };

const SPEECH: Record<'cosyvoice' | 'qwen', { type: string } & Record<string, unknown>> = {
  cosyvoice: { type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000 },
  qwen: { type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'commit', format: 'pcm', sampleRate: 24000 },
};

describe('phrase cache (cosyvoice-stream, qwen-realtime)', () => {
  let sim: DashScopeSimulator;
  let userDir: string;

  async function deploy(service: 'cosyvoice' | 'qwen', extra: Record<string, unknown> = {}, cfg: Record<string, unknown> = {}): Promise<void> {
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false, ...cfg },
      { id: 'tts', z: 'tab', config: 'cfg', input: 'utterance', cache: true, wires: [['joiner', 'chunks'], ['events']], ...SPEECH[service], ...extra },
      { id: 'joiner', type: 'join', z: 'tab', mode: 'auto', wires: [['joined']] },
      { id: 'joined', type: 'helper', z: 'tab' },
      { id: 'chunks', type: 'helper', z: 'tab' },
      { id: 'events', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
  }

  const node = (id: string): Node => helper.getNode(id);
  const tts = (): Receiver => helper.getNode('tts') as Receiver;
  const connections = (): number => sim.stats.connections.cosyvoice + sim.stats.connections.qwen;
  // The config's folder is named by a hash of its id (phrase-cache-files.test.ts).
  const cacheDir = (): string => join(userDir, 'dashscope-tts-cache', createHash('sha256').update('cfg').digest('hex').slice(0, 32));
  const entries = (): string[] => (existsSync(cacheDir()) ? readdirSync(cacheDir()).filter((n) => n.endsWith('.dspc')) : []);

  /** One utterance: its chunks (end marker included) and its event; when it was sent and its first chunk arrived (epochNow()). */
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
    await waitFor(() => chunks.some((c) => c.parts?.count !== undefined), 2000, 'end marker');
    return { chunks, event: event as EventMsg, sentAt, firstChunkAt };
  }

  freshServerEachTest({
    ownSettings: true,
    before: () => {
      userDir = mkdtempSync(join(tmpdir(), 'dashscope-cache-nodes-'));
      helper.settings({ userDir });
    },
    after: async () => {
      await sim?.close();
      // A phrase may still be being written after its utterance ended.
      await new Promise((resolve) => setTimeout(resolve, 50));
      rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  });

  for (const service of ['cosyvoice', 'qwen'] as const) {
    it(`${service}: a hit after a restart is byte-identical, chunked the same, and makes no connection`, async () => {
      sim = await DashScopeSimulator.start();
      await deploy(service);
      const live = await say({ payload: TEXT, topic: 'door' });
      assert.equal(live.event.payload.cached, undefined);
      await waitFor(() => entries().length === 1, 2000, 'the entry on disk');

      // A restart: a new deploy reads the cache from disk. The service cannot even be reached.
      await helper.unload();
      await sim.stopListening();
      const before = connections();
      await deploy(service);
      const hit = await say({ payload: TEXT, topic: 'door' });
      assert.equal(connections() - before, 0, 'the simulator counts zero new connections');
      assert.equal(sim.stats.connectionsRefused, 0, 'not even an attempt');

      assert.deepEqual(hit.chunks.map((c) => c.payload.length), live.chunks.map((c) => c.payload.length), 'same chunking');
      assert.ok(Buffer.concat(hit.chunks.map((c) => c.payload)).equals(Buffer.concat(live.chunks.map((c) => c.payload))), 'same bytes');
      assert.ok(Buffer.concat(hit.chunks.map((c) => c.payload)).equals(expectedAudio({ text: TEXT, voice: service === 'qwen' ? 'Cherry' : 'longanyang', sampleRate: 24000 })));
      const { requestedAt: liveAt, ...liveAudio } = live.chunks[0]?.audio ?? {};
      const { requestedAt: hitAt, ...hitAudio } = hit.chunks[0]?.audio ?? {};
      assert.deepEqual(hitAudio, liveAudio, 'same msg.audio');
      assert.deepEqual(hitAudio, { format: 'pcm', sampleRate: 24000, channels: 1, bitDepth: 16 });
      // Each request's own time, never the stored one's.
      assert.ok(typeof liveAt === 'number' && liveAt >= live.sentAt && liveAt <= live.firstChunkAt, `live requestedAt ${String(liveAt)}`);
      assert.ok(typeof hitAt === 'number' && hitAt >= hit.sentAt && hitAt <= hit.firstChunkAt, `replayed requestedAt ${String(hitAt)} between ${hit.sentAt} and ${hit.firstChunkAt}`);
      assert.ok(hit.chunks.every((c) => c.audio?.requestedAt === hitAt), 'on every replayed message');
      assert.equal(hit.chunks[0]?.topic, 'door');
      hit.chunks.forEach((c, i) => assert.equal(c.parts?.index, i));
      assert.equal(hit.chunks[hit.chunks.length - 1]?.parts?.count, hit.chunks.length);
      assert.equal(hit.event.payload.cached, true);
      assert.equal(hit.event.payload.characters, 0, 'nothing billed');
      assert.equal(hit.event.payload.text, TEXT);
      assert.equal(hit.event.payload.bytes, live.event.payload.bytes);
      assert.equal(typeof hit.event.payload.timeToFirstAudioMs, 'number');
    });
  }

  it('changing any parameter or the text misses; the same again hits', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    await say({ payload: TEXT });
    const tasks = (): number => sim.stats.tasks.finished;
    assert.equal(tasks(), 1);
    const misses: Record<string, unknown>[] = [
      { payload: TEXT, rate: 1.2 },
      { payload: TEXT, pitch: 0.8 },
      { payload: TEXT, volume: 30 },
      { payload: TEXT, rate: 1.2, volume: 30 },
      { payload: `${TEXT} ` },
    ];
    for (const [i, m] of misses.entries()) {
      const { event } = await say(m);
      assert.equal(event.payload.cached, undefined, `miss ${i}`);
      assert.equal(tasks(), 2 + i, `miss ${i} went to the service`);
    }
    const { event } = await say({ payload: TEXT, rate: 1.2 });
    assert.equal(event.payload.cached, true);
    assert.equal(tasks(), 1 + misses.length);
  });

  it('a node-level setting is part of the key too: another sample rate misses', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    await say({ payload: TEXT });
    await helper.unload();
    await deploy('cosyvoice', { sampleRate: 16000 });
    const { event, chunks } = await say({ payload: TEXT });
    assert.equal(event.payload.cached, undefined);
    assert.equal(chunks[0]?.audio?.sampleRate, 16000);
  });

  it('a streamed utterance is cached once complete, then a one-message utterance of the same text hits', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice', { input: 'stream' });
    const events = nextMessages<EventMsg>(node('events'), 1);
    tts().receive({ payload: 'The front ' });
    tts().receive({ payload: 'door is open.' });
    tts().receive({ payload: '', complete: true });
    await events;
    await waitFor(() => entries().length === 1, 2000, 'the entry on disk');
    await helper.unload();
    await deploy('cosyvoice', { input: 'utterance' });
    const { event } = await say({ payload: TEXT });
    assert.equal(event.payload.cached, true);
  });

  it('a truncated entry on disk is discarded and the phrase synthesized again', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    await say({ payload: TEXT });
    await waitFor(() => entries().length === 1, 2000, 'the entry on disk');
    await helper.unload();
    const file = join(cacheDir(), entries()[0] as string);
    truncateSync(file, readFileSync(file).length - 500);
    await deploy('cosyvoice');
    const { event, chunks } = await say({ payload: TEXT });
    assert.equal(event.payload.cached, undefined, 'not served from the damaged entry');
    assert.ok(Buffer.concat(chunks.map((c) => c.payload)).equals(expectedAudio({ text: TEXT, voice: 'longanyang', sampleRate: 24000 })));
    assert.equal(sim.stats.tasks.finished, 2);
    await waitFor(() => entries().length === 1 && readFileSync(file).length > 500, 2000, 'a whole entry written again');
  });

  it('the size bound on tts-config evicts the least recently used phrase', async () => {
    sim = await DashScopeSimulator.start();
    // 24 kHz PCM is 48 kB per second: a 0.09 MB cache holds two of these phrases.
    await deploy('cosyvoice', {}, { cacheSize: '0.09' });
    const phrases = ['Door one open.', 'Door two open.', 'Door six open.'];
    const sizes: number[] = [];
    for (const [i, p] of phrases.slice(0, 2).entries()) {
      sizes.push((await say({ payload: p })).event.payload.bytes);
      await waitFor(() => entries().length === i + 1, 2000, 'stored');
    }
    assert.ok(sizes[0]! + sizes[1]! < 0.09 * 1024 * 1024 - 2000 && sizes[0]! * 3 > 0.09 * 1024 * 1024, `phrases of ${sizes.join(', ')} bytes: two fit, three do not`);
    assert.equal((await say({ payload: phrases[0] })).event.payload.cached, true, 'first phrase used again');
    const before = entries().sort().join();
    await say({ payload: phrases[2] });
    await waitFor(() => entries().length === 2 && entries().sort().join() !== before, 2000, 'the third stored, one evicted');
    assert.equal((await say({ payload: phrases[0] })).event.payload.cached, true, 'recently used: kept');
    assert.equal((await say({ payload: phrases[1] })).event.payload.cached, undefined, 'least recently used: evicted');
  });

  it('without cache: true nothing is stored and nothing is looked up', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice', { cache: false });
    await say({ payload: TEXT });
    const { event } = await say({ payload: TEXT });
    assert.equal(event.payload.cached, undefined);
    assert.equal(sim.stats.tasks.finished, 2);
    assert.throws(() => readdirSync(join(userDir, 'dashscope-tts-cache')));
  });
});
