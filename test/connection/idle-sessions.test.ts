import assert from 'node:assert/strict';
import sinon from 'sinon';
import { ConnectionManager } from '../../src/connection/connection-manager';
import { QwenSpares } from '../../src/connection/qwen-spares';
import type { CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import type { QwenRealtimeSession, QwenSessionSettings } from '../../src/dashscope/qwen-realtime';
import { connectionTuning } from '../../src/nodes/tts-config/connection-tuning';
import { runTask, waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';
import { managerRig } from '../support/manager-rig';
import { clientTypes } from '../variants/qwen-transcripts';

const QWEN = 'qwen3-tts-flash-realtime';
const params: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000 };
const voiced = (voice: string): QwenSessionSettings => ({ voice, mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 });
const VOICES = ['Cherry', 'Ethan', 'Serena', 'Chelsie', 'Momo', 'Vivian'];

describe('idle sessions per config node: QwenSpares.retireOldest (fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  function fakeSession(name: string, calls: string[]): QwenRealtimeSession {
    return { isOpen: true, responding: false, finish: () => calls.push(`finish ${name}`), close: () => calls.push(`close ${name}`) } as unknown as QwenRealtimeSession;
  }

  it('retires the spare parked longest ago; one taken and parked again is the most recent', () => {
    const calls: string[] = [];
    const spares = new QwenSpares(60_000, 2000);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => fakeSession(n, calls)) as [QwenRealtimeSession, QwenRealtimeSession, QwenRealtimeSession];
    spares.park('a', a);
    spares.park('b', b);
    spares.park('c', c);
    assert.equal(spares.take('a'), a);
    spares.park('a', a); // used again: now the most recent
    assert.equal(spares.retireOldest(), true);
    assert.deepEqual(calls, ['finish b'], 'b: parked longest ago, politely ended');
    assert.equal(spares.has('b'), false);
    assert.equal(spares.size, 2);
    assert.equal(spares.retireOldest(), true);
    assert.deepEqual(calls, ['finish b', 'finish c']);
    clock.tick(2000);
    assert.deepEqual(calls, ['finish b', 'finish c', 'close b', 'close c'], 'closed after the grace if the service does not');
    spares.forget(a);
    assert.equal(spares.retireOldest(), false, 'nothing left');
    assert.equal(clock.countTimers(), 0);
  });
});

describe('idle sessions per config node: ConnectionManager (simulator)', () => {
  const rig = managerRig();
  const setup = rig.setup;

  /**
   * A spare for each voice, one after the other: each is parked (and, beyond the bound, the oldest
   * told to finish) before the next is asked for.
   */
  async function spares(m: ConnectionManager, voices: readonly string[], bound: number): Promise<void> {
    for (const [i, voice] of voices.entries()) {
      m.prewarmQwen(QWEN, voiced(voice));
      await waitFor(
        () => rig.sim.stats.connections.qwen === i + 1 && (i < bound ? m.stats().idle === i + 1 : retiredVoices().length === i + 1 - bound),
        2000,
        `${voice}'s spare parked`,
      );
      assert.ok(m.stats().idle <= bound, `${m.stats().idle} idle`);
    }
  }

  /** The voices whose spares were ended without ever getting text. */
  const retiredVoices = (): string[] =>
    rig.sim.transcripts
      .filter((t) => t.service === 'qwen' && clientTypes(t).includes('session.finish') && !clientTypes(t).includes('input_text_buffer.append'))
      .map((t) => (t.entries.find((e) => e.dir === 'C' && (e.json as { type?: string }).type === 'session.update')?.json as { session: { voice: string } }).session.voice);

  it('keeps at most 4 idle sessions by default: the least recently used spares end politely, the rest are reused', async () => {
    const m = await setup();
    await spares(m, VOICES, 4);
    assert.equal(m.stats().idle, 4);
    await waitFor(() => rig.sim.stats.openSockets === 4, 2000, 'the evicted spares closed by the service');
    assert.deepEqual(retiredVoices(), ['Cherry', 'Ethan'], 'the two parked first, each with session.finish');

    const opened = rig.sim.stats.connections.qwen;
    const kept = await m.acquireQwen(QWEN, voiced('Serena'));
    assert.equal(rig.sim.stats.connections.qwen, opened, "Serena's spare was kept: reused");
    kept.discard();
    const evicted = await m.acquireQwen(QWEN, voiced('Cherry'));
    assert.equal(rig.sim.stats.connections.qwen, opened + 1, "Cherry's spare was ended: a new session");
    evicted.discard();
  });

  it('maxIdleSessions from settings.js bounds them instead; a value below 1 or malformed is ignored', async () => {
    assert.deepEqual(connectionTuning({ ttsConfigConnection: { maxIdleSessions: 2 } }), { maxIdleSessions: 2 });
    assert.deepEqual(connectionTuning({ ttsConfigConnection: { maxIdleSessions: 2.7 } }), { maxIdleSessions: 2 });
    for (const bad of [0, -1, '3', Number.NaN, null]) assert.deepEqual(connectionTuning({ ttsConfigConnection: { maxIdleSessions: bad } }), {}, String(bad));
    const m = await setup(connectionTuning({ ttsConfigConnection: { maxIdleSessions: 2 } }));
    await spares(m, VOICES.slice(0, 4), 2);
    await waitFor(() => rig.sim.stats.openSockets === 2, 2000, 'two spares left open');
    assert.deepEqual(retiredVoices(), ['Cherry', 'Ethan']);
  });

  it('idle CosyVoice sockets count too: a Qwen spare gives way, never the warm CosyVoice socket', async () => {
    const m = await setup({ keepWarm: true, maxIdleSessions: 2 });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    await waitFor(() => m.stats().idle === 1, 2000, 'the warm CosyVoice socket');
    m.prewarmQwen(QWEN, voiced('Cherry'));
    await waitFor(() => m.stats().idle === 2 && rig.sim.stats.connections.qwen === 1, 2000, 'a spare');
    m.prewarmQwen(QWEN, voiced('Ethan'));
    await waitFor(() => rig.sim.stats.connections.qwen === 2 && retiredVoices().length === 1, 2000, 'the second spare');
    assert.deepEqual(retiredVoices(), ['Cherry']);
    assert.equal(m.stats().idle, 2);
    await waitFor(() => rig.sim.stats.openSockets === 2, 2000, 'the retired spare closed');
    assert.equal(rig.sim.stats.connections.cosyvoice, 1, 'the CosyVoice socket was kept');
    const lease = await m.acquireCosyVoice();
    assert.equal(m.stats().reused, 1, 'the next utterance finds it warm');
    lease.release();
  });

  it('a bound the idle CosyVoice sockets fill does not retire each spare as it is parked: the oldest CosyVoice socket gives way, and is not reopened', async () => {
    const m = await setup({ keepWarm: true, maxIdleSessions: 1 });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    await waitFor(() => m.stats().idle === 1, 2000, 'the warm CosyVoice socket');
    m.prewarmQwen(QWEN, voiced('Cherry'));
    await waitFor(() => rig.sim.stats.connections.qwen === 1 && rig.sim.stats.openSockets === 1, 2000, 'the spare kept, the CosyVoice socket closed');
    assert.deepEqual(retiredVoices(), [], 'the spare was not retired');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(rig.sim.stats.connections.cosyvoice, 1, 'no CosyVoice socket opened in its place');
    assert.equal(m.stats().idle, 1);
    const lease = await m.acquireQwen(QWEN, voiced('Cherry'));
    assert.equal(m.stats().reused, 1, 'the next Qwen utterance finds its spare');
    lease.release();
  });

  it('idle CosyVoice sockets never exceed the bound either (maxIdleCosyVoice is capped by it)', async () => {
    const m = await setup({ maxIdleSessions: 1 });
    const leases = await Promise.all([m.acquireCosyVoice(), m.acquireCosyVoice()]);
    assert.equal(rig.sim.stats.connections.cosyvoice, 2);
    for (const lease of leases) lease.release();
    assert.equal(m.stats().idle, 1);
    await waitFor(() => rig.sim.stats.openSockets === 1, 2000, 'the second socket closed');
  });

  it('no timer is left once the manager closes, evicted spares included', async () => {
    const timers = trackSourceTimers();
    const m = await setup({ maxIdleSessions: 1, qwenFinishGraceMs: 30_000 });
    await spares(m, VOICES.slice(0, 3), 1);
    const busy = await m.acquireCosyVoice();
    runTask(busy.runTask, params, ['a task still running when the node closes'], false);
    await m.close();
    await waitFor(() => rig.sim.stats.openSockets === 0, 2000, 'every socket closed');
    await new Promise((resolve) => setImmediate(resolve));
    timers.stop();
    assert.deepEqual(timers.live(), []);
  });
});
