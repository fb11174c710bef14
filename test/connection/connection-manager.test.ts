import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ConnectionManager, type ConnectionState } from '../../src/connection/connection-manager';
import type { CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import type { DashScopeError } from '../../src/dashscope/errors';
import type { QwenSessionSettings } from '../../src/dashscope/qwen-realtime';
import { expectedAudio } from '../simulator/audio';
import { collectResponses, runTask, waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';
import { managerRig } from '../support/manager-rig';

const KEY = 'sk-test-key';
const params: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000 };
const cherry: QwenSessionSettings = { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 };

describe('ConnectionManager', () => {
  const rig = managerRig();
  const setup = rig.setup;

  async function speak(m: ConnectionManager, text: string): Promise<Buffer> {
    const lease = await m.acquireCosyVoice();
    const out = await runTask(lease.runTask, params, [text]).outcome;
    lease.release();
    if (out.error) throw out.error;
    return out.audio;
  }

  it('five utterances in a row share one CosyVoice socket', async () => {
    const m = await setup();
    for (let i = 0; i < 5; i++) {
      const text = `Announcement ${i}: the washing machine has finished.`;
      assert.ok((await speak(m, text)).equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 24000 })));
    }
    assert.equal(rig.sim.stats.connections.cosyvoice, 1);
    assert.equal(m.stats().opened, 1);
    assert.equal(m.stats().reused, 4);
  });

  it('opens a second socket only for a concurrent utterance', async () => {
    const m = await setup();
    const [a, b] = await Promise.all([m.acquireCosyVoice(), m.acquireCosyVoice()]);
    assert.notEqual(a.connection, b.connection);
    const outs = await Promise.all([runTask(a.runTask, params, ['one.']).outcome, runTask(b.runTask, params, ['two.']).outcome]);
    assert.ok(outs.every((o) => !o.error));
    a.release();
    b.release();
    await speak(m, 'three.');
    assert.equal(rig.sim.stats.connections.cosyvoice, 2);
  });

  it('renews an idle socket before the service idle limit when keepWarm is on', async () => {
    const m = await setup({ keepWarm: true, cosyvoiceIdleMs: 150 }, { cosyvoice: { idleCloseMs: 300 } });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    await waitFor(() => rig.sim.stats.connections.cosyvoice === 1 && m.stats().idle === 1, 2000, 'prewarm');
    await waitFor(() => m.stats().renewed >= 2 && m.stats().idle === 1, 3000, 'two renewals, the second one open');
    assert.equal(m.stats().open, 1, 'exactly one warm socket at a time');
    const reused = m.stats().reused;
    await speak(m, 'The warm socket answers at once.');
    assert.equal(m.stats().reused, reused + 1, 'the utterance used the warm socket, no new handshake');
    await waitFor(() => m.stats().idle === 2, 2000, 'a spare refilled while speaking, and the used socket back in the pool');
    assert.equal(m.stats().failed, 0, 'the service never had to close an idle socket on us');
  });

  it('without keepWarm an idle socket is closed before the service idle limit, and the next utterance reconnects', async () => {
    const m = await setup({ keepWarm: false, cosyvoiceIdleMs: 100 }, { cosyvoice: { idleCloseMs: 60_000 } });
    await speak(m, 'first.');
    await waitFor(() => m.stats().open === 0 && rig.sim.stats.openSockets === 0, 2000, 'idle close');
    await speak(m, 'second.');
    assert.equal(rig.sim.stats.connections.cosyvoice, 2);
  });

  it('a warm socket closed by the service (idle limit) is replaced transparently', async () => {
    const m = await setup({ keepWarm: true, cosyvoiceIdleMs: 10_000 });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    await waitFor(() => m.stats().idle === 1, 2000, 'prewarm');
    rig.sim.inject({ kind: 'idle-close' });
    await waitFor(() => rig.sim.stats.connections.cosyvoice === 2 && m.stats().idle === 1, 2000, 'replacement');
    const reused = m.stats().reused;
    await speak(m, 'still here.');
    assert.equal(m.stats().reused, reused + 1, 'the replacement served the utterance without a handshake');
    assert.equal(m.stats().failed, 0);
  });

  it('retries a refused connection with growing backoff, then connects', async () => {
    const m = await setup({ random: () => 1, reconnect: { baseMs: 40, maxMs: 1000 } });
    rig.sim.inject({ kind: 'refuse-connection', times: 3 });
    const audio = await speak(m, 'after three refusals.');
    assert.ok(audio.length > 0);
    assert.deepEqual(m.backoffWaits, [40, 80, 160]);
    assert.equal(m.stats().failed, 3);
    assert.equal(rig.sim.stats.connectionsRefused, 3);
  });

  it('an utterance stopped while it waits out a backoff pause makes no further attempt (Aborted at once)', async () => {
    const m = await setup({ random: () => 1, reconnect: { baseMs: 400, maxMs: 400, waitingMaxMs: 400 } });
    rig.sim.inject({ kind: 'refuse-connection', times: 5 });
    const stopped = new AbortController();
    const asked = Date.now();
    const lease = m.acquireQwen('qwen3-tts-flash-realtime', cherry, stopped.signal);
    await waitFor(() => rig.sim.stats.connectionsRefused === 1, 2000, 'the first refusal');
    stopped.abort();
    await assert.rejects(lease, (err: DashScopeError) => err.code === 'Aborted');
    assert.ok(Date.now() - asked < 350, 'not after the 400 ms pause');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(rig.sim.stats.connectionsRefused, 1, 'no attempt after the stop');
    assert.equal(rig.sim.stats.connections.qwen, 0);
  });

  it('reports the failure once the deadline has passed, and recovers when the service is back', async () => {
    const m = await setup({ reconnect: { baseMs: 10, maxMs: 50, deadlineMs: 300 } });
    const states: ConnectionState[] = [];
    m.register({ id: 'u', onConnectionState: (s) => states.push(s) });
    await rig.sim.stopListening();
    const started = Date.now();
    await assert.rejects(m.acquireCosyVoice(), (e: DashScopeError) => e.code === 'NetworkError' && e.retryable && /within 0.3 s/.test(e.message));
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 600, `failed at the deadline, not before or long after (${waited} ms)`);
    assert.ok(m.stats().failed >= 5, `kept trying until the deadline (${m.stats().failed} attempts)`);
    assert.ok(states.includes('retrying'));
    await rig.sim.resumeListening();
    await speak(m, 'back again.');
    assert.equal(states[states.length - 1], 'connected');
  });

  it('an outage while idle costs few attempts (backoff towards maxMs); an utterance arriving then is tried at the waiting pace', async () => {
    const m = await setup({ keepWarm: true, random: () => 1, reconnect: { baseMs: 50, maxMs: 800, waitingMaxMs: 100 } });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    await waitFor(() => m.stats().idle === 1, 2000, 'prewarm');
    await rig.sim.stopListening();
    rig.sim.dropAll();
    await new Promise((r) => setTimeout(r, 2000));
    const idleAttempts = m.stats().failed;
    // 50, 100, 200, 400, 800, 800 ms apart: six at most in two seconds, not one every 100 ms.
    assert.ok(idleAttempts >= 3 && idleAttempts <= 7, `${idleAttempts} attempts while idle`);
    const waiting = m.acquireCosyVoice();
    await new Promise((r) => setTimeout(r, 600));
    const waitingAttempts = m.stats().failed - idleAttempts;
    assert.ok(waitingAttempts >= 4, `${waitingAttempts} attempts in 600 ms while an utterance waits`);
    await rig.sim.resumeListening();
    const back = Date.now();
    const lease = await waiting;
    lease.release();
    assert.ok(Date.now() - back <= 250, 'connected at the next attempt');
    await waitFor(() => m.stats().idle >= 1, 2000, 'the warm socket back too');
  });

  it('after a 401 it stops: no retry storm, state auth-failed, "invalid API key"', async () => {
    const m = await setup();
    rig.sim.inject({ kind: 'reject-auth', times: Infinity });
    const errors: (DashScopeError | undefined)[] = [];
    m.register({ id: 'u', onConnectionState: (s, e) => s === 'auth-failed' && errors.push(e) });
    for (let i = 0; i < 10; i++) {
      await assert.rejects(m.acquireCosyVoice(), (e: DashScopeError) => e.isAuthFailure && /invalid API key/.test(e.message));
    }
    await assert.rejects(m.acquireQwen('qwen3-tts-flash-realtime', cherry), /invalid API key/);
    assert.equal(rig.sim.stats.handshakesRejected, 1, 'exactly one handshake reached the service');
    assert.equal(m.state, 'auth-failed');
    assert.equal(errors.length, 1);
    assert.ok(!JSON.stringify(errors[0]?.message).includes(KEY));
  });

  it('queues a burst of task starts under the 3-per-second account limit instead of failing', async () => {
    const m = await setup({}, { cosyvoice: { rateLimitPerSecond: 3 } });
    const leases = await Promise.all(Array.from({ length: 7 }, () => m.acquireCosyVoice()));
    const started = Date.now();
    const outs = await Promise.all(leases.map((l, i) => runTask(l.runTask, params, [`burst ${i}.`]).outcome));
    leases.forEach((l) => l.release());
    assert.deepEqual(
      outs.map((o) => o.error?.code),
      outs.map(() => undefined),
      'the service must not throttle any of them',
    );
    assert.equal(m.stats().throttled, 4);
    assert.ok(Date.now() - started >= 900, 'seven starts need at least two rolling seconds of budget');
  });

  describe('tasks started ahead of the text (keepWarm)', () => {
    it('hands a started task to the next utterance, whose text then goes straight to synthesis', async () => {
      const m = await setup({ keepWarm: true });
      m.register({ id: 'n1' }, { prewarmCosyVoice: true }); // a deploy opens the window of use
      m.armCosyVoice(params);
      await waitFor(() => m.stats().armedReady, 5000, 'armed task started');
      const armed = m.takeArmedCosyVoice(params);
      assert.ok(armed, 'the armed task is offered');
      assert.equal(armed.task.started, true);
      assert.equal(m.takeArmedCosyVoice(params), undefined, 'only once');
      const out = await runTask(
        (_p, h) => {
          armed.task.retarget(h);
          return armed.task;
        },
        params,
        ['Straight to synthesis.'],
      ).outcome;
      armed.lease.release();
      assert.equal(out.error, undefined);
      assert.ok(out.audio.equals(expectedAudio({ text: 'Straight to synthesis.', voice: 'longanyang', sampleRate: 24000 })));
      assert.equal(rig.sim.stats.tasks.started, 1, 'no run-task was needed after the text arrived');
      assert.equal(m.stats().armedUsed, 1);
    });

    it('offers nothing for other parameters, and nothing without keepWarm', async () => {
      const m = await setup({ keepWarm: true });
      m.register({ id: 'n1' }, { prewarmCosyVoice: true }); // a deploy opens the window of use
      m.armCosyVoice(params);
      await waitFor(() => rig.sim.stats.tasks.started === 1, 2000, 'armed');
      assert.equal(m.takeArmedCosyVoice({ ...params, voice: 'longanhuan' }), undefined);
      await m.close();
      const cold = new ConnectionManager({ endpoints: resolveEndpoints({ region: 'custom', endpoint: rig.sim.baseUrl }), credentials: { apiKey: KEY }, keepWarm: false });
      cold.register({ id: 'n2' }, { prewarmCosyVoice: true });
      cold.armCosyVoice(params);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(rig.sim.stats.tasks.started, 1, 'keepWarm off: no task started ahead');
      await cold.close();
    });

    it('replaces an armed task well before the service timeout, so no task ever fails', async () => {
      const m = await setup({ keepWarm: true, armedTaskMs: 150, taskStartsPerSecond: 0 }, { cosyvoice: { taskTimeoutMs: 400 } });
      m.register({ id: 'n1' }, { prewarmCosyVoice: true }); // a deploy opens the window of use
      m.armCosyVoice(params);
      await waitFor(() => rig.sim.stats.tasks.started >= 3, 8000, 'two replacements');
      assert.equal(rig.sim.stats.tasks.failed, 0, 'the service never had to time an armed task out');
      await waitFor(() => rig.sim.stats.openSockets <= 2, 2000, 'abandoned sockets closed');
      // Looked at without taking it: taking an armed task makes it the caller's.
      await waitFor(() => m.stats().armedReady, 5000, 'a fresh armed task');
      assert.equal(m.takeArmedCosyVoice(params)?.task.started, true);
    });

    it('an armed task that finished itself for want of text (idleFinishMs) is never handed out: it is replaced', async () => {
      // A service that starts tasks but never answers finish-task: the idle-finished task stays
      // "finishing" for as long as the test looks at it (the simulator answers in a millisecond).
      const server = new WebSocketServer({ port: 0 });
      const runTasks: string[] = [];
      server.on('connection', (ws) =>
        ws.on('message', (data) => {
          const header = (JSON.parse(String(data)) as { header: { action: string; task_id: string } }).header;
          if (header.action !== 'run-task') return;
          runTasks.push(header.task_id);
          ws.send(JSON.stringify({ header: { event: 'task-started', task_id: header.task_id, attributes: {} }, payload: {} }));
        }),
      );
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const { port } = server.address() as AddressInfo;
      const m = new ConnectionManager({
        endpoints: resolveEndpoints({ region: 'custom', endpoint: `http://127.0.0.1:${port}` }),
        credentials: { apiKey: KEY },
        keepWarm: true,
        taskStartsPerSecond: 0,
        armedTaskMs: 60_000, // the replacement timer never fires first here
        cosyvoiceLimits: { idleFinishMs: 150 },
      });
      try {
        m.register({ id: 'n1' }, { prewarmCosyVoice: true });
        m.armCosyVoice(params);
        await waitFor(() => runTasks.length >= 1 && m.stats().armedReady, 2000, 'armed');
        await waitFor(() => runTasks.length >= 2, 2000, 'the idle-finished task replaced by a new one');
        await waitFor(() => m.stats().armedReady, 2000, 'the replacement started');
        const armed = m.takeArmedCosyVoice(params);
        assert.ok(armed, 'a task is offered');
        assert.equal(armed.task.acceptsText, true);
        assert.doesNotThrow(() => armed.task.sendText('Straight to synthesis.'));
        armed.task.cancel();
        armed.lease.release();
      } finally {
        await m.close();
        for (const client of server.clients) client.terminate();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('Qwen sessions', () => {
    it('reuses a session with the same settings and opens exactly one more for a different voice', async () => {
      const m = await setup();
      for (let i = 0; i < 3; i++) {
        const lease = await m.acquireQwen('qwen3-tts-flash-realtime', cherry);
        const r = collectResponses(lease.session, 1);
        lease.session.append(`Cherry line ${i}.`);
        lease.session.commit();
        const out = await r;
        assert.ok(out.audio.equals(expectedAudio({ text: `Cherry line ${i}.`, voice: 'Cherry', sampleRate: 24000, service: 'qwen' })));
        lease.release();
      }
      assert.equal(rig.sim.stats.connections.qwen, 1);
      assert.equal(rig.sim.stats.sessionUpdates, 1, 'one session.update per connection');
      const other = await m.acquireQwen('qwen3-tts-flash-realtime', { ...cherry, voice: 'Ethan' });
      other.release();
      const again = await m.acquireQwen('qwen3-tts-flash-realtime', cherry);
      again.release();
      assert.equal(rig.sim.stats.connections.qwen, 2);
      assert.equal(m.stats().reused, 3);
    });

    it('prewarmQwen keeps at most one spare per settings, even when called again before the first lands', async () => {
      const m = await setup();
      for (let i = 0; i < 3; i++) m.prewarmQwen('qwen3-tts-flash-realtime', cherry);
      await waitFor(() => m.stats().idle === 1, 2000, 'the spare parked');
      m.prewarmQwen('qwen3-tts-flash-realtime', cherry);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(rig.sim.stats.connections.qwen, 1, 'one session: each costs a request of the model budget');
      const lease = await m.acquireQwen('qwen3-tts-flash-realtime', cherry);
      assert.equal(m.stats().reused, 1, 'the utterance takes the spare');
      lease.discard();
    });

    it('an utterance arriving while the spare is still opening takes that spare: no second session', async () => {
      const m = await setup();
      rig.sim.inject({ kind: 'delay-session-created', ms: 300, times: Infinity }); // a slow handshake
      m.prewarmQwen('qwen3-tts-flash-realtime', cherry);
      await new Promise((r) => setTimeout(r, 50)); // the spare's handshake is under way
      const started = Date.now();
      const lease = await m.acquireQwen('qwen3-tts-flash-realtime', cherry);
      assert.ok(Date.now() - started < 350, 'ready when the spare was, not a handshake later');
      assert.equal(rig.sim.stats.connections.qwen, 1, 'one session: each costs a request of the model budget');
      assert.equal(m.stats().reused, 1, 'the utterance took the spare');
      assert.equal(m.stats().idle, 0);
      lease.discard();
    });

    it('retire() ends a session politely: session.finish, then the service closes it', async () => {
      const m = await setup({ qwenFinishGraceMs: 5000 });
      const lease = await m.acquireQwen('qwen3-tts-flash-realtime', cherry);
      const retiredAt = Date.now();
      lease.retire();
      await waitFor(() => rig.sim.stats.openSockets === 0 && m.stats().open === 0, 2000, 'closed by the service');
      assert.ok(Date.now() - retiredAt < 1000, 'not by the grace');
      const client = rig.sim.transcripts[0]?.entries.filter((e) => e.dir === 'C').map((e) => (e.json as { type?: string }).type);
      assert.equal(client?.at(-1), 'session.finish');
      assert.equal(m.stats().idle, 0, 'never parked again');
    });

    it('a session the service closed is not handed out again', async () => {
      const m = await setup();
      const lease = await m.acquireQwen('qwen3-tts-flash-realtime', cherry);
      lease.release();
      rig.sim.dropAll();
      await waitFor(() => m.stats().open === 0, 2000, 'close noticed');
      const next = await m.acquireQwen('qwen3-tts-flash-realtime', cherry);
      assert.ok(next.session.isOpen);
      next.release();
      assert.equal(rig.sim.stats.connections.qwen, 2);
    });
  });

  it('close() leaves zero sockets and zero timers, and later acquires fail cleanly', async () => {
    const timers = trackSourceTimers();
    const m = await setup({ keepWarm: true, cosyvoiceIdleMs: 30_000 });
    m.register({ id: 'n1' }, { prewarmCosyVoice: true });
    await waitFor(() => m.stats().idle === 1, 2000, 'prewarm');
    await speak(m, 'one.');
    const q = await m.acquireQwen('qwen3-tts-flash-realtime', cherry);
    q.release();
    const busy = await m.acquireCosyVoice();
    runTask(busy.runTask, params, ['a task still running when the node closes'], false);
    assert.ok(m.stats().open >= 3);
    await m.close();
    await waitFor(() => rig.sim.stats.openSockets === 0, 2000, 'server to see every socket closed');
    assert.equal(m.stats().open, 0);
    await rig.sim.close();
    await new Promise((resolve) => setImmediate(resolve));
    timers.stop();
    assert.deepEqual(timers.live(), [], 'no timer of the manager survives close()');
    await assert.rejects(m.acquireCosyVoice(), /closed/);
  });
});
