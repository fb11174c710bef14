import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { COSYVOICE_LIMITS, CosyVoiceConnection, type CosyVoiceLimits, type CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import { CosyVoicePrimer, type PrimerHost, type PrimerLease } from '../../src/dashscope/cosyvoice-primer';
import { waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';

const params: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000 };
const other: CosyVoiceTaskParams = { ...params, voice: 'longanhuan' };

interface Sent {
  header: { action: string; task_id: string };
  payload: { parameters?: { voice?: string } };
}

/** The service's side of one socket, answered by the test. */
class FakeSocket extends EventEmitter {
  readonly sent: Sent[] = [];
  closed = false;

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Sent);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => this.emit('close', 1000, Buffer.alloc(0)));
  }

  terminate(): void {
    this.close();
  }

  actions(): string[] {
    return this.sent.map((m) => m.header.action);
  }

  /** The service answers the run-task: the task's 23 s clock starts now. */
  taskStarted(): void {
    this.event('task-started');
  }

  event(event: string, extra: Record<string, unknown> = {}): void {
    const runTask = this.sent.find((m) => m.header.action === 'run-task');
    assert.ok(runTask, 'no run-task was sent on this socket');
    const header = { event, task_id: runTask.header.task_id, attributes: {}, ...extra };
    this.emit('message', Buffer.from(JSON.stringify({ header, payload: {} })), false);
  }
}

interface FakeLease extends PrimerLease {
  readonly socket: FakeSocket;
  released: boolean;
}

/** A host whose answers the test sets, lending sockets that talk to FakeSockets. */
function fakeHost(limits: Partial<CosyVoiceLimits> = {}) {
  const leases: FakeLease[] = [];
  const state = { mayArm: true, inUse: true, hold: undefined as Promise<void> | undefined };
  const host: PrimerHost<FakeLease> = {
    mayArm: () => state.mayArm,
    inUse: () => state.inUse,
    lease: async () => {
      const socket = new FakeSocket();
      const connection = new CosyVoiceConnection(socket as unknown as WebSocket, { ...COSYVOICE_LIMITS, ...limits });
      const lease: FakeLease = {
        socket,
        released: false,
        runTask: (p, handlers) => connection.runTask(p, handlers),
        release: () => {
          lease.released = true;
        },
      };
      leases.push(lease);
      await state.hold;
      return lease;
    },
  };
  return { host, leases, state };
}

describe('CosyVoicePrimer (keepWarm: a task started ahead of the text)', () => {
  let primer: CosyVoicePrimer<FakeLease> | undefined;
  afterEach(() => primer?.close());

  it('hands the started task to the next utterance with the same parameters, once', async () => {
    const { host, leases } = fakeHost();
    primer = new CosyVoicePrimer(host, 60_000);
    primer.arm(params);
    await waitFor(() => leases[0]?.socket.actions().includes('run-task') === true, 1000, 'run-task sent ahead');
    assert.equal(primer.stats().armedReady, false, 'not ready before task-started');
    leases[0]?.socket.taskStarted();
    assert.deepEqual(primer.stats(), { armed: 1, armedUsed: 0, armedReady: true });

    assert.equal(primer.take(other), undefined, 'nothing for other parameters');
    const taken = primer.take(params);
    assert.ok(taken, 'the started task is offered');
    assert.equal(taken.lease, leases[0]);
    assert.equal(taken.task.started, true);
    assert.equal(taken.task.acceptsText, true);
    assert.equal(primer.take(params), undefined, 'only once');
    assert.deepEqual(primer.stats(), { armed: 1, armedUsed: 1, armedReady: false });
    assert.equal(taken.lease.released, false, 'the socket is the caller\'s now');
    taken.task.sendText('Straight to synthesis.');
    assert.deepEqual(leases[0]?.socket.actions(), ['run-task', 'continue-task']);
    taken.task.cancel();
  });

  it('a task that is not the one asked for is not taken: arming for other parameters replaces it', async () => {
    const { host, leases } = fakeHost();
    primer = new CosyVoicePrimer(host, 60_000);
    primer.arm(params);
    primer.arm(params); // on its way already: nothing more
    await waitFor(() => leases[0]?.socket.sent.length === 1, 1000, 'run-task');
    leases[0]?.socket.taskStarted();
    primer.arm(params); // ready for these parameters: nothing more
    assert.equal(leases.length, 1);

    primer.arm(other);
    assert.equal(leases[0]?.released, true, 'the task for the old parameters gave its socket back');
    assert.equal(leases[0]?.socket.closed, true, 'a started task without text cannot be finished cleanly: its socket is closed');
    await waitFor(() => leases[1]?.socket.sent.length === 1, 1000, 'a run-task for the new parameters');
    assert.equal(leases[1]?.socket.sent[0]?.payload.parameters?.voice, 'longanhuan');
    leases[1]?.socket.taskStarted();
    assert.equal(primer.take(params), undefined);
    const replaced = primer.take(other);
    assert.ok(replaced);
    replaced.task.cancel(); // a taken task is the utterance's to end: no watchdog left behind
    assert.equal(primer.stats().armed, 2);
  });

  it('replaces the task armedTaskMs after task-started (its 23 s clock), not counting a slow start', async () => {
    const { host, leases } = fakeHost();
    primer = new CosyVoicePrimer(host, 80);
    primer.arm(params);
    await waitFor(() => leases[0]?.socket.sent.length === 1, 1000, 'run-task');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(leases.length, 1, 'no replacement before task-started');
    leases[0]?.socket.taskStarted();
    const startedAt = Date.now();
    await waitFor(() => leases.length === 2, 1000, 'the replacement');
    assert.ok(Date.now() - startedAt >= 70, 'not before armedTaskMs');
    assert.equal(leases[0]?.released, true);
    assert.equal(leases[0]?.socket.closed, true);
    await waitFor(() => leases[1]?.socket.sent.length === 1, 1000, 'a new run-task');
    leases[1]?.socket.taskStarted();
    const fresh = primer.take(params);
    assert.equal(fresh?.lease, leases[1], 'the fresh task is the one handed out');
    fresh?.task.cancel();
    assert.equal(primer.stats().armed, 2);
  });

  it('a task that finished itself for want of text (idleFinishMs) is replaced at once', async () => {
    const { host, leases } = fakeHost({ idleFinishMs: 60 });
    primer = new CosyVoicePrimer(host, 60_000);
    primer.arm(params);
    await waitFor(() => leases[0]?.socket.sent.length === 1, 1000, 'run-task');
    leases[0]?.socket.taskStarted();
    await waitFor(() => leases.length === 2, 1000, 'the replacement');
    assert.deepEqual(leases[0]?.socket.actions(), ['run-task', 'finish-task'], 'the idle task was finished by the client');
    assert.equal(leases[0]?.released, true);
    await waitFor(() => leases[1]?.socket.sent.length === 1, 1000, 'a new run-task');
    leases[1]?.socket.taskStarted();
    const taken = primer.take(params);
    assert.equal(taken?.lease, leases[1]);
    assert.equal(taken?.task.acceptsText, true);
    taken?.task.cancel();
  });

  it('a task that fails or ends gives its socket back and is not offered', async () => {
    const { host, leases } = fakeHost();
    primer = new CosyVoicePrimer(host, 60_000);
    primer.arm(params);
    await waitFor(() => leases[0]?.socket.sent.length === 1, 1000, 'run-task');
    leases[0]?.socket.taskStarted();
    leases[0]?.socket.event('task-failed', { error_code: 'InternalError', error_message: 'boom' });
    assert.equal(leases[0]?.released, true);
    assert.deepEqual(primer.stats(), { armed: 1, armedUsed: 0, armedReady: false });
    assert.equal(primer.take(params), undefined);
    primer.arm(params);
    await waitFor(() => leases.length === 2, 1000, 'armed again when asked');
  });

  it('starts nothing when the manager says no, and gives back a socket that comes after the window of use', async () => {
    const { host, leases, state } = fakeHost();
    primer = new CosyVoicePrimer(host, 60_000);
    state.mayArm = false;
    primer.arm(params);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(leases.length, 0, 'not even a socket asked for');

    state.mayArm = true;
    let open: () => void = () => undefined;
    state.hold = new Promise<void>((resolve) => (open = resolve));
    primer.arm(params);
    await waitFor(() => leases.length === 1, 1000, 'a socket asked for');
    state.inUse = false; // the window of use ended while the socket was opening
    open();
    await waitFor(() => leases[0]?.released === true, 1000, 'the socket given back');
    assert.deepEqual(leases[0]?.socket.sent, [], 'no task on it');
    assert.equal(primer.stats().armed, 0);
  });

  it('close() ends the task, leaves no timer, and gives back a socket still on its way', async () => {
    const timers = trackSourceTimers();
    try {
      const { host, leases, state } = fakeHost();
      primer = new CosyVoicePrimer(host, 60_000);
      primer.arm(params);
      await waitFor(() => leases[0]?.socket.sent.length === 1, 1000, 'run-task');
      leases[0]?.socket.taskStarted(); // the replacement timer runs now
      primer.close();
      assert.equal(leases[0]?.released, true);
      assert.equal(leases[0]?.socket.closed, true);
      assert.equal(primer.stats().armedReady, false);
      primer.arm(params);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(leases.length, 1, 'nothing is armed after close');

      let open: () => void = () => undefined;
      state.hold = new Promise<void>((resolve) => (open = resolve));
      const late = new CosyVoicePrimer(host, 60_000);
      late.arm(params);
      await waitFor(() => leases.length === 2, 1000, 'a socket asked for');
      late.close();
      open();
      await waitFor(() => leases[1]?.released === true, 1000, 'the late socket given back');
      assert.deepEqual(leases[1]?.socket.sent, []);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(timers.live(), [], 'no timer of the primer or its tasks is left');
    } finally {
      timers.stop();
    }
  });
});
