/**
 * Issue 16 item 7: the service's rate limits are per account. Speech nodes on two tts-config nodes
 * with the same key take their starts from one budget, so a burst across them queues instead of
 * being refused; a Throttling answer that still arrives (another program on the account) is
 * retried, not reported.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { builtNode, collect, coreNode, freshServerEachTest, helper, type TestFlows } from '../support/node-red';

const KEY = 'sk-test-key';
const OTHER_KEY = 'sk-other-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime'), coreNode('common/25-catch.js')];

type Receiver = Node & { receive(msg: Record<string, unknown>): void };
interface EventMsg {
  topic?: string;
  payload: { bytes: number };
}
interface ErrorMsg {
  topic?: string;
  error?: { code?: string; message: string };
}

const SPEECH = {
  cosyvoice: { type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000 },
  qwen: { type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'commit', format: 'pcm', sampleRate: 24000 },
} as const;

describe('rate limits shared by the tts-config nodes of one account (issue 16)', function () {
  this.timeout(20_000);
  let sim: DashScopeSimulator;

  freshServerEachTest({ ownSettings: true, after: () => sim?.close() });

  /**
   * `speakers` speech nodes of `service`, alternately on config nodes cfg1 and cfg2 (keys as given),
   * their summaries into `events`, their errors into `caught`.
   */
  async function deploy(service: keyof typeof SPEECH, speakers: number, keys: [string, string], simOptions: SimulatorOptions, node: Record<string, unknown> = {}): Promise<{ events: EventMsg[]; caught: ErrorMsg[]; audio: Map<string, Buffer[]> }> {
    sim = await DashScopeSimulator.start({ apiKeys: [KEY, OTHER_KEY], ...simOptions });
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg1', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      { id: 'cfg2', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      ...Array.from({ length: speakers }, (_, i) => ({ id: `tts${i}`, z: 'tab', config: i % 2 === 0 ? 'cfg1' : 'cfg2', input: 'utterance', wires: [['chunks'], ['events']], ...SPEECH[service], ...node })),
      { id: 'chunks', type: 'helper', z: 'tab' },
      { id: 'events', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg1: { apiKey: keys[0] }, cfg2: { apiKey: keys[1] } });
    const audio = new Map<string, Buffer[]>();
    helper.getNode('chunks').on('input', (raw: unknown) => {
      const msg = raw as { topic?: string; payload: Buffer };
      const topic = String(msg.topic);
      audio.set(topic, [...(audio.get(topic) ?? []), msg.payload]);
    });
    return { events: collect<EventMsg>(helper.getNode('events')), caught: collect<ErrorMsg>(helper.getNode('caught')), audio };
  }

  async function settled(events: EventMsg[], caught: ErrorMsg[], count: number): Promise<void> {
    const started = Date.now();
    while (events.length + caught.length < count) {
      if (Date.now() - started > 15_000) throw new Error(`${events.length} spoken and ${caught.length} failed of ${count}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const text = (i: number): string => `Speaker ${i} has news.`;

  it('cosyvoice: four nodes on two configs with one key start together: the fourth waits its turn, the service refuses none', async () => {
    const { events, caught, audio } = await deploy('cosyvoice', 4, [KEY, KEY], { cosyvoice: { rateLimitPerSecond: 3 } });
    for (let i = 0; i < 4; i++) (helper.getNode(`tts${i}`) as Receiver).receive({ payload: text(i), topic: `t${i}` });
    await settled(events, caught, 4);
    assert.deepEqual(caught.map((c) => c.error?.code), []);
    assert.equal(sim.stats.tasks.failed, 0, 'no Throttling answer: the starts were spaced by the client');
    for (let i = 0; i < 4; i++) assert.ok(Buffer.concat(audio.get(`t${i}`) ?? []).equals(expectedAudio({ text: text(i), voice: 'longanyang', sampleRate: 24000 })), `t${i}`);
  });

  it('cosyvoice: with different keys each account has its own budget (six starts at once, none held back)', async () => {
    const { events, caught } = await deploy('cosyvoice', 6, [KEY, OTHER_KEY], { cosyvoice: { rateLimitPerSecond: 3 } });
    const started = Date.now();
    for (let i = 0; i < 6; i++) (helper.getNode(`tts${i}`) as Receiver).receive({ payload: text(i), topic: `t${i}` });
    await settled(events, caught, 6);
    assert.equal(caught.length, 0);
    assert.equal(sim.stats.tasks.failed, 0);
    assert.ok(Date.now() - started < 900, 'nobody waited for a second window');
  });

  for (const service of ['cosyvoice', 'qwen'] as const) {
    it(`${service}: Throttling answers that still arrive (another program on the account) are retried on both configs, never reported`, async () => {
      helper.settings({ ttsConfigConnection: { throttleBackoff: { baseMs: 100, maxMs: 200, maxAttempts: 5 } } } as Record<string, unknown>);
      const { events, caught } = await deploy(service, 2, [KEY, KEY], {});
      const rate = 'Requests rate limit exceeded, please try again later.';
      if (service === 'cosyvoice') sim.inject({ kind: 'fail-task', code: 'Throttling.RateQuota', message: rate, times: 2 });
      else sim.inject({ kind: 'qwen-error', code: 'Throttling.RateQuota', message: rate, on: 'append', times: 2 });
      for (let i = 0; i < 2; i++) (helper.getNode(`tts${i}`) as Receiver).receive({ payload: text(i), topic: `t${i}` });
      await settled(events, caught, 2);
      assert.deepEqual(caught.map((c) => `${c.error?.code}: ${c.error?.message}`), []);
      assert.equal(events.length, 2);
    });
  }
  it('qwen: an utterance stopped while it waits for a rate slot gives the slot up: the next one takes it, no session is opened for nobody', async () => {
    helper.settings({ ttsConfigConnection: { qwenRequestsPerMinute: { 'qwen3-tts-flash-realtime': 1 }, qwenRateWindowMs: 1500 } } as unknown as Parameters<typeof helper.settings>[0]);
    // The node names no voice: msg.voice counts, and each utterance below has a voice of its own,
    // so no spare session is opened for the next one (spares are for repeated settings).
    const { events, caught } = await deploy('qwen', 1, [KEY, KEY], {}, { voice: '' });
    const tts = helper.getNode('tts0') as Receiver;
    tts.receive({ payload: 'First, with the only slot.', voice: 'Ethan', topic: 'first' });
    await settled(events, caught, 1);
    const sentAt = Date.now();
    tts.receive({ payload: 'Stopped while it waits.', voice: 'Serena', topic: 'stopped' });
    await new Promise((r) => setTimeout(r, 100));
    tts.receive({ stop: true });
    tts.receive({ payload: 'The urgent one.', voice: 'Chelsie', topic: 'urgent' });
    await settled(events, caught, 2);
    const tookMs = Date.now() - sentAt;
    assert.deepEqual(
      events.map((e) => e.topic),
      ['first', 'urgent'],
    );
    assert.deepEqual(caught, [], 'a stopped utterance is not an error');
    assert.ok(tookMs < 2900, `the urgent utterance took the next slot (${tookMs} ms), not the one after it`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sim.stats.connections.qwen, 2, 'no session was opened for the stopped utterance');
  });
});
