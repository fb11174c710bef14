/**
 * Issue 16 item 6: connections stay modest. keepWarm starts CosyVoice tasks ahead of the text only
 * while the node is in use; an idle node keeps one socket and starts nothing; parked Qwen sessions
 * end with session.finish after their own idle time. Timers are shortened, not faked: the sockets
 * are real.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { ConnectionManager } from '../../src/connection/connection-manager';
import { QwenSpares } from '../../src/connection/qwen-spares';
import { UseWindow } from '../../src/connection/use-window';
import type { CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import type { QwenRealtimeSession, QwenSessionSettings } from '../../src/dashscope/qwen-realtime';
import { runTask, waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';
import { managerRig } from '../support/manager-rig';

const params: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000 };
const cherry: QwenSessionSettings = { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 };
const QWEN = 'qwen3-tts-flash-realtime';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('keepWarm window and idle connections', () => {
  const rig = managerRig({ keepWarm: true, taskStartsPerSecond: 0 });
  const setup = rig.setup;

  /** One utterance the way cosyvoice-stream speaks it: the armed task if there is one, then arm again. */
  async function speak(m: ConnectionManager, text: string): Promise<void> {
    const armed = m.takeArmedCosyVoice(params);
    const lease = armed?.lease ?? (await m.acquireCosyVoice());
    const start = armed
      ? (_p: CosyVoiceTaskParams, h: Parameters<typeof armed.task.retarget>[0]) => {
          armed.task.retarget(h);
          return armed.task;
        }
      : lease.runTask;
    const out = await runTask(start, params, [text]).outcome;
    lease.release();
    assert.equal(out.error, undefined);
    m.armCosyVoice(params); // the node's queue ran empty
  }

  it('CosyVoice: tasks are started ahead only within the window; over a long idle time nothing starts and one socket stays', async () => {
    const window = 500;
    const m = await setup({ keepWarmWindowMs: window, armedTaskMs: 100, cosyvoiceIdleMs: 400 }, { cosyvoice: { idleCloseMs: 60_000 } });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    m.armCosyVoice(params);
    await speak(m, 'The first announcement.');
    const spokeAt = Date.now();
    await waitFor(() => rig.sim.stats.tasks.started >= 4, 2000, 'armed tasks replaced while in use');
    assert.equal(m.stats().inUse, true);
    await waitFor(() => !m.stats().inUse, 2000, 'the window to end');
    assert.ok(Date.now() - spokeAt >= window - 20, 'the window is counted from the last utterance');
    await waitFor(() => rig.sim.stats.openSockets <= 1, 1000, 'the armed socket and the extra spare closed');
    const tasksAfterWindow = rig.sim.stats.tasks.started;
    const connectionsAfterWindow = rig.sim.stats.connections.cosyvoice;

    // A long idle time: 2 s is four windows and twenty armed-task lifetimes.
    const idleFor = 2000;
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rig.sim.stats.openSockets), 50);
    await sleep(idleFor);
    clearInterval(sampler);
    assert.equal(rig.sim.stats.tasks.started, tasksAfterWindow, 'no task started while idle');
    assert.ok(Math.max(...samples) <= 1, `at most one connection while idle (saw ${Math.max(...samples)})`);
    assert.ok(samples.filter((n) => n === 1).length >= samples.length * 0.8, 'and it is there: the warm socket is kept');
    // The one warm socket is renewed before the service's idle close (every cosyvoiceIdleMs), nothing more.
    const renewals = rig.sim.stats.connections.cosyvoice - connectionsAfterWindow;
    assert.ok(renewals <= Math.ceil(idleFor / 400) + 1, `${renewals} new sockets in ${idleFor} ms`);
    assert.equal(rig.sim.stats.tasks.failed, 0);

    // In use again: the next utterance uses the warm socket and arming resumes.
    await speak(m, 'Back in use.');
    assert.equal(m.stats().inUse, true);
    await waitFor(() => m.stats().armedReady, 2000, 'a task started ahead again');
  });

  it('CosyVoice: without keepWarm no task is ever started ahead and idle sockets close', async () => {
    const m = await setup({ keepWarm: false, cosyvoiceIdleMs: 200 });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    m.armCosyVoice(params);
    await speak(m, 'Cold.');
    await sleep(600);
    assert.equal(rig.sim.stats.tasks.started, 1, 'only the utterance');
    assert.equal(rig.sim.stats.openSockets, 0);
  });

  for (const keepWarm of [true, false]) {
    it(`Qwen (keepWarm ${keepWarm ? 'on' : 'off'}): a parked session ends with session.finish after its idle time; the service closes it; nothing reopens`, async () => {
      const m = await setup({ keepWarm, qwenIdleMs: 200, qwenFinishGraceMs: 5000 });
      m.prewarmQwen(QWEN, cherry);
      await waitFor(() => m.stats().idle === 1, 2000, 'the spare parked');
      const parkedAt = Date.now();
      await waitFor(() => rig.sim.stats.openSockets === 0, 2000, 'the spare closed');
      const closedAfter = Date.now() - parkedAt;
      assert.ok(closedAfter >= 150 && closedAfter < 1500, `after its idle time, by the service (not the 5 s grace): ${closedAfter} ms`);
      const client = rig.sim.transcripts[0]?.entries.filter((e) => e.dir === 'C').map((e) => (e.json as { type?: string }).type);
      assert.deepEqual(client, ['session.update', 'session.finish']);
      const server = rig.sim.transcripts[0]?.entries.filter((e) => e.dir === 'S').map((e) => (e.json as { type?: string }).type);
      assert.equal(server?.at(-1), 'session.finished', 'a clean end, not an error');
      await sleep(500);
      assert.equal(rig.sim.stats.connections.qwen, 1, 'no churn: nothing reopens by itself');
      assert.equal(m.stats().open, 0);
      assert.equal(m.stats().failed, 0);
    });
  }

  it('close() during the window leaves no timer: window, armed task, spares, renewals', async () => {
    const timers = trackSourceTimers();
    const m = await setup({ keepWarmWindowMs: 60_000, armedTaskMs: 10_000, qwenIdleMs: 60_000 });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    m.armCosyVoice(params);
    m.prewarmQwen(QWEN, cherry);
    await waitFor(() => m.stats().armedReady && m.stats().idle >= 2, 3000, 'armed, a warm socket and a spare session');
    await m.close();
    await rig.sim.close();
    await new Promise((resolve) => setImmediate(resolve));
    timers.stop();
    assert.deepEqual(timers.live(), []);
  });
  it('a lease released after close() (a redeploy while speaking) starts no window timer on the closed manager', async () => {
    const timers = trackSourceTimers();
    const m = await setup({ keepWarmWindowMs: 60_000 });
    const lease = await m.acquireCosyVoice();
    await m.close();
    lease.release(); // the utterance's node closes after its config node
    assert.equal(m.stats().inUse, false, 'no window of use on a closed manager');
    await rig.sim.close();
    await new Promise((resolve) => setImmediate(resolve));
    timers.stop();
    assert.deepEqual(timers.live(), []);
  });
});

describe('UseWindow and QwenSpares (fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('the window ends once, windowMs after the last use, with one timer however often it is touched', () => {
    let ended = 0;
    const w = new UseWindow(120_000, () => ended++);
    assert.equal(w.active, false, 'never used: not in use');
    w.touch();
    for (let i = 0; i < 100; i++) {
      clock.tick(1000);
      w.touch();
    }
    assert.equal(clock.countTimers(), 1);
    clock.tick(119_999);
    assert.equal(ended, 0);
    assert.equal(w.active, true);
    clock.tick(1);
    assert.equal(ended, 1);
    assert.equal(w.active, false);
    assert.equal(clock.countTimers(), 0, 'an idle node keeps no timer');
  });

  it('after close() a touch starts no window and no timer', () => {
    let ended = 0;
    const w = new UseWindow(120_000, () => ended++);
    w.touch();
    w.close();
    w.touch();
    assert.equal(clock.countTimers(), 0);
    assert.equal(w.active, false);
    clock.tick(200_000);
    assert.equal(ended, 0);
  });

  /** The parts of a session the spares use. */
  function fakeSession(): { session: QwenRealtimeSession; calls: string[]; closeFromServer(): void } {
    const calls: string[] = [];
    const session = {
      isOpen: true,
      responding: false,
      finish: () => calls.push('finish'),
      close: () => calls.push('close'),
    } as unknown as QwenRealtimeSession;
    return { session, calls, closeFromServer: () => undefined };
  }

  it('a spare is retired after its idle time: session.finish, then closed after the grace if the service does not', () => {
    const spares = new QwenSpares(60_000, 2000);
    const { session, calls } = fakeSession();
    spares.park('k', session);
    clock.tick(59_999);
    assert.deepEqual(calls, []);
    clock.tick(1);
    assert.deepEqual(calls, ['finish']);
    assert.equal(spares.has('k'), false, 'never handed out again');
    clock.tick(2000);
    assert.deepEqual(calls, ['finish', 'close']);
    assert.equal(clock.countTimers(), 0);
  });

  it('a session the service closes within the grace is not closed again, and leaves no timer', () => {
    const spares = new QwenSpares(1000, 2000);
    const { session, calls } = fakeSession();
    spares.park('k', session);
    clock.tick(1000);
    spares.forget(session); // the manager hears the socket close
    clock.tick(5000);
    assert.deepEqual(calls, ['finish']);
    assert.equal(clock.countTimers(), 0);
  });

  it('taking a spare stops its idle clock', () => {
    const spares = new QwenSpares(1000, 2000);
    const { session, calls } = fakeSession();
    spares.park('k', session);
    assert.equal(spares.take('k'), session);
    clock.tick(10_000);
    assert.deepEqual(calls, []);
    assert.equal(clock.countTimers(), 0);
  });
});
