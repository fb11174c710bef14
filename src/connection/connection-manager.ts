import type { Credentials } from '../dashscope/auth';
import {
  COSYVOICE_LIMITS,
  CosyVoiceConnection,
  type CosyVoiceLimits,
  type CosyVoiceTask,
  type CosyVoiceTaskParams,
  type TaskHandlers,
} from '../dashscope/cosyvoice';
import type { Endpoints } from '../dashscope/endpoints';
import { qwenRealtimeUrl } from '../dashscope/endpoints';
import { DashScopeError } from '../dashscope/errors';
import { QwenRealtimeSession, sessionUpdatePayload, type QwenSessionSettings } from '../dashscope/qwen-realtime';
import { openSocket } from '../dashscope/socket';
import { DEFAULT_BACKOFF, THROTTLE_BACKOFF, type BackoffPolicy } from './backoff';
import { ConnectGate } from './connect-gate';
import { RateLimiter } from './rate-limiter';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'retrying' | 'auth-failed' | 'closed';

/** A node that borrows sessions. It hears about the shared connection's state, as MQTT users do. */
export interface ManagerUser {
  readonly id: string;
  onConnectionState?(state: ConnectionState, error?: DashScopeError): void;
}

export interface ManagerOptions {
  endpoints: Endpoints;
  credentials: Credentials;
  /** Keep a CosyVoice socket open and renewed, so the first utterance pays no handshake. */
  keepWarm: boolean;
  connectTimeoutMs?: number;
  backoff?: BackoffPolicy;
  /** Task starts allowed per rolling second (the service allows 3 per account). */
  taskStartsPerSecond?: number;
  /** An idle CosyVoice socket is renewed (keepWarm) or closed this long after its last task; the service closes at 60 s. */
  cosyvoiceIdleMs?: number;
  /** An idle Qwen session is closed after this long unless keepWarm. */
  qwenIdleMs?: number;
  /** Idle CosyVoice sockets kept at most. */
  maxIdleCosyVoice?: number;
  /**
   * keepWarm: a task started ahead of the text is replaced after this long, well inside the
   * service's 23 s limit for a task without instructions.
   */
  armedTaskMs?: number;
  cosyvoiceLimits?: Partial<CosyVoiceLimits>;
  /** Pauses before an utterance refused for the account's rate (Throttling) is tried again. */
  throttleBackoff?: BackoffPolicy;
  random?: () => number;
}

export interface ManagerStats {
  opened: number;
  reused: number;
  failed: number;
  renewed: number;
  /** Utterances that found a CosyVoice task already started for them. */
  armedUsed: number;
  /** A CosyVoice task is started and waiting for the next utterance's text. */
  armedReady: boolean;
  /** Task starts that had to wait for the client-side rate limit. */
  throttled: number;
  open: number;
  idle: number;
}

/** Exclusive use of one CosyVoice socket until release(). */
export interface CosyVoiceLease {
  readonly connection: CosyVoiceConnection;
  /** Creates a task at once; run-task goes out as soon as the account's start budget allows. */
  runTask(params: CosyVoiceTaskParams, handlers: TaskHandlers): CosyVoiceTask;
  release(): void;
}

export interface QwenLease {
  readonly session: QwenRealtimeSession;
  /** Gives the session back for reuse (a session still streaming a response is closed instead). */
  release(): void;
  /** Closes the session: its state is unknown (e.g. a response was cancelled mid-way). */
  discard(): void;
}

interface ArmedTask {
  key: string;
  lease: CosyVoiceLease;
  task: CosyVoiceTask;
  timer: NodeJS.Timeout | undefined;
}

function qwenKey(model: string, settings: QwenSessionSettings): string {
  const payload = sessionUpdatePayload(settings);
  return `${model}\n${JSON.stringify(Object.keys(payload).sort().map((k) => [k, payload[k]]))}`;
}

/**
 * One per tts-config node: the only place sockets are opened. Synthesis nodes borrow a CosyVoice
 * socket or a Qwen session, use it for an utterance and give it back warm for the next.
 */
export class ConnectionManager {
  private readonly users = new Map<string, ManagerUser>();
  private readonly gate: ConnectGate;
  private readonly limiter: RateLimiter;
  private readonly idleCosy: CosyVoiceConnection[] = [];
  private readonly idleQwen = new Map<string, QwenRealtimeSession[]>();
  private readonly sockets = new Set<CosyVoiceConnection | QwenRealtimeSession>();
  private readonly idleTimers = new Map<CosyVoiceConnection | QwenRealtimeSession, NodeJS.Timeout>();
  private readonly limits: CosyVoiceLimits;
  private warming: Promise<void> | undefined;
  private rewarmTimer: NodeJS.Timeout | undefined;
  private currentState: ConnectionState = 'idle';
  private lastError: DashScopeError | undefined;
  private closed = false;
  private counts = { opened: 0, reused: 0, failed: 0, renewed: 0, armedUsed: 0 };
  private armed: ArmedTask | undefined;
  private arming = false;
  private readonly armedTaskMs: number;
  private readonly connectTimeoutMs: number;
  private readonly cosyvoiceIdleMs: number;
  private readonly qwenIdleMs: number;
  private readonly maxIdleCosyVoice: number;

  constructor(private readonly options: ManagerOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.cosyvoiceIdleMs = options.cosyvoiceIdleMs ?? 45_000;
    this.qwenIdleMs = options.qwenIdleMs ?? 60_000;
    this.maxIdleCosyVoice = options.maxIdleCosyVoice ?? 2;
    this.armedTaskMs = options.armedTaskMs ?? 15_000;
    this.limits = { ...COSYVOICE_LIMITS, ...options.cosyvoiceLimits };
    this.limiter = new RateLimiter(options.taskStartsPerSecond ?? 3);
    this.gate = new ConnectGate(options.backoff ?? DEFAULT_BACKOFF, options.random, (err) => {
      this.counts.failed++;
      this.setState(err.isAuthFailure ? 'auth-failed' : 'retrying', err);
    });
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get error(): DashScopeError | undefined {
    return this.lastError;
  }

  /** How an utterance refused with Throttling is retried (the engines pause, then try again). */
  get throttleBackoff(): BackoffPolicy {
    return this.options.throttleBackoff ?? THROTTLE_BACKOFF;
  }

  /** Delays the connect gate has waited (backoff), for diagnostics and tests. */
  get backoffWaits(): readonly number[] {
    return this.gate.waits;
  }

  stats(): ManagerStats {
    let idle = this.idleCosy.length;
    for (const list of this.idleQwen.values()) idle += list.length;
    return { ...this.counts, armedReady: this.armed?.task.started === true, throttled: this.limiter.queuedTotal, open: this.sockets.size, idle };
  }

  register(user: ManagerUser, options: { prewarmCosyVoice?: boolean } = {}): void {
    this.users.set(user.id, user);
    user.onConnectionState?.(this.currentState, this.lastError);
    if (options.prewarmCosyVoice && this.options.keepWarm) this.prewarmCosyVoice();
  }

  /** A user leaves; when the last one leaves because it was removed, idle sockets go too. */
  deregister(user: ManagerUser, removed = false): void {
    this.users.delete(user.id);
    if (this.users.size === 0) this.disarm();
    if (this.users.size === 0 && removed) this.closeIdle();
  }

  get userCount(): number {
    return this.users.size;
  }

  // ---- CosyVoice -------------------------------------------------------------------------

  async acquireCosyVoice(): Promise<CosyVoiceLease> {
    const idle = this.takeIdleCosyVoice();
    // keepWarm means a spare is always ready: for the next utterance and for one that interrupts this one.
    if (idle && this.options.keepWarm && this.users.size > 0) this.prewarmCosyVoice();
    return this.cosyvoiceLease(idle ?? (await this.openCosyVoice()));
  }

  /** Opens a CosyVoice socket now (and keeps one renewed) so the first utterance finds it ready. */
  prewarmCosyVoice(): void {
    if (this.closed || this.warming || this.idleCosy.length > 0 || this.gate.authFailed) return;
    this.warming = this.openCosyVoice()
      .then((connection) => this.parkCosyVoice(connection))
      .catch(() => this.scheduleRewarm())
      .finally(() => {
        this.warming = undefined;
      });
  }

  /**
   * keepWarm: starts a task with these parameters now, so that the next utterance's first text
   * goes straight to synthesis instead of waiting a round trip for task-started. A started task
   * cannot wait for text longer than 23 s, and one that never got text cannot be finished
   * cleanly, so it is abandoned with its socket and replaced every `armedTaskMs`.
   */
  armCosyVoice(params: CosyVoiceTaskParams): void {
    if (!this.options.keepWarm || this.closed || this.arming || this.gate.authFailed || this.users.size === 0) return;
    const key = JSON.stringify(params);
    if (this.armed?.key === key && !this.armed.task.finished) return;
    this.disarm();
    this.arming = true;
    this.acquireCosyVoice().then(
      (lease) => {
        this.arming = false;
        if (this.closed || this.armed) {
          lease.release();
          return;
        }
        let armed: ArmedTask | undefined;
        const task = lease.runTask(params, {
          onAudio: () => undefined,
          onFinished: () => this.disarm(),
          onFailed: () => this.disarm(),
          // The service's 23 s clock starts at task-started (a start held back by the rate limit does not count).
          onStarted: () => {
            if (!armed || this.armed !== armed) return;
            armed.timer = setTimeout(() => {
              this.disarm();
              this.armCosyVoice(params);
            }, this.armedTaskMs);
            armed.timer.unref?.();
          },
        });
        armed = { key, lease, task, timer: undefined };
        this.armed = armed;
      },
      () => {
        this.arming = false; // the state, counters and backoff already say why
      },
    );
  }

  /** The task started ahead for exactly these parameters, if there is one: it is the caller's now. */
  takeArmedCosyVoice(params: CosyVoiceTaskParams): { lease: CosyVoiceLease; task: CosyVoiceTask } | undefined {
    const armed = this.armed;
    if (!armed || armed.key !== JSON.stringify(params) || armed.task.finished) return undefined;
    clearTimeout(armed.timer);
    this.armed = undefined;
    this.counts.armedUsed++;
    return { lease: armed.lease, task: armed.task };
  }

  private disarm(): void {
    const armed = this.armed;
    if (!armed) return;
    this.armed = undefined;
    clearTimeout(armed.timer);
    armed.task.cancel();
    armed.lease.release();
  }

  private takeIdleCosyVoice(): CosyVoiceConnection | undefined {
    while (this.idleCosy.length > 0) {
      const connection = this.idleCosy.pop() as CosyVoiceConnection;
      this.clearIdleTimer(connection);
      if (connection.reusable && Date.now() - connection.idleSince < this.cosyvoiceIdleMs) {
        this.counts.reused++;
        return connection;
      }
      connection.close();
    }
    return undefined;
  }

  private async openCosyVoice(): Promise<CosyVoiceConnection> {
    this.setState(this.currentState === 'connected' ? 'connected' : 'connecting');
    const ws = await this.gate.attempt(() =>
      openSocket(this.options.endpoints.cosyvoiceWs, this.options.credentials, { connectTimeoutMs: this.connectTimeoutMs }),
    );
    if (this.closed) {
      ws.terminate();
      throw closedManager();
    }
    const connection = new CosyVoiceConnection(ws, this.limits);
    this.counts.opened++;
    this.sockets.add(connection);
    connection.onClose((c) => this.forget(c));
    this.setState('connected');
    return connection;
  }

  private cosyvoiceLease(connection: CosyVoiceConnection): CosyVoiceLease {
    let released = false;
    return {
      connection,
      runTask: (params, handlers) => {
        const task = connection.runTask(params, handlers, false);
        this.limiter.schedule(() => {
          if (!task.finished && connection.isOpen) task.start();
        });
        return task;
      },
      release: () => {
        if (released) return;
        released = true;
        if (connection.reusable && !this.closed) this.parkCosyVoice(connection);
        else connection.close();
      },
    };
  }

  private parkCosyVoice(connection: CosyVoiceConnection): void {
    if (this.closed || !connection.reusable) {
      connection.close();
      return;
    }
    if (this.idleCosy.length >= this.maxIdleCosyVoice) {
      connection.close();
      return;
    }
    this.idleCosy.push(connection);
    const age = Date.now() - connection.idleSince;
    this.setIdleTimer(connection, Math.max(0, this.cosyvoiceIdleMs - age), () => this.renewCosyVoice(connection));
  }

  /** Before the service's 60 s idle close: replace the socket (keepWarm) or just close it. */
  private renewCosyVoice(connection: CosyVoiceConnection): void {
    const index = this.idleCosy.indexOf(connection);
    if (index >= 0) this.idleCosy.splice(index, 1);
    connection.close();
    if (this.options.keepWarm && this.users.size > 0 && this.idleCosy.length === 0) {
      this.counts.renewed++;
      this.prewarmCosyVoice();
    }
  }

  /** A warm socket that could not be replaced is tried again later, as long as anyone needs it. */
  private scheduleRewarm(): void {
    if (this.closed || this.gate.authFailed || !this.options.keepWarm || this.users.size === 0 || this.rewarmTimer) return;
    const delay = Math.max(1000, (this.options.backoff ?? DEFAULT_BACKOFF).maxMs);
    this.rewarmTimer = setTimeout(() => {
      this.rewarmTimer = undefined;
      this.prewarmCosyVoice();
    }, delay);
    this.rewarmTimer.unref?.();
  }

  // ---- Qwen ------------------------------------------------------------------------------

  /** A session with exactly these settings: an idle one if there is one, else a new one. */
  async acquireQwen(model: string, settings: QwenSessionSettings): Promise<QwenLease> {
    const key = qwenKey(model, settings);
    const session = this.takeIdleQwen(key) ?? (await this.openQwen(model, settings));
    return this.qwenLease(key, session);
  }

  prewarmQwen(model: string, settings: QwenSessionSettings): void {
    const key = qwenKey(model, settings);
    if (this.closed || (this.idleQwen.get(key)?.length ?? 0) > 0 || this.gate.authFailed) return;
    this.openQwen(model, settings)
      .then((session) => this.parkQwen(key, session))
      .catch(() => undefined); // state and counters already tell the users
  }

  private takeIdleQwen(key: string): QwenRealtimeSession | undefined {
    const list = this.idleQwen.get(key);
    while (list && list.length > 0) {
      const session = list.pop() as QwenRealtimeSession;
      this.clearIdleTimer(session);
      if (list.length === 0) this.idleQwen.delete(key);
      if (session.isOpen && !session.responding) {
        this.counts.reused++;
        return session;
      }
      session.close();
    }
    return undefined;
  }

  private async openQwen(model: string, settings: QwenSessionSettings): Promise<QwenRealtimeSession> {
    this.setState(this.currentState === 'connected' ? 'connected' : 'connecting');
    const url = qwenRealtimeUrl(this.options.endpoints, model);
    const session = await this.gate.attempt(() =>
      QwenRealtimeSession.open(url, model, this.options.credentials, settings, {
        connectTimeoutMs: this.connectTimeoutMs,
        setupTimeoutMs: this.connectTimeoutMs,
      }),
    );
    if (this.closed) {
      session.terminate();
      throw closedManager();
    }
    this.counts.opened++;
    this.sockets.add(session);
    session.onClose((s) => this.forget(s));
    this.setState('connected');
    return session;
  }

  private qwenLease(key: string, session: QwenRealtimeSession): QwenLease {
    let released = false;
    return {
      session,
      release: () => {
        if (released) return;
        released = true;
        session.listener = undefined;
        if (session.isOpen && !session.responding && !this.closed) this.parkQwen(key, session);
        else session.close();
      },
      discard: () => {
        if (released) return;
        released = true;
        session.listener = undefined;
        session.close();
      },
    };
  }

  private parkQwen(key: string, session: QwenRealtimeSession): void {
    if (this.closed || !session.isOpen) {
      session.close();
      return;
    }
    const list = this.idleQwen.get(key) ?? [];
    list.push(session);
    this.idleQwen.set(key, list);
    if (!this.options.keepWarm) {
      this.setIdleTimer(session, this.qwenIdleMs, () => {
        const current = this.idleQwen.get(key);
        const i = current?.indexOf(session) ?? -1;
        if (current && i >= 0) current.splice(i, 1);
        if (current?.length === 0) this.idleQwen.delete(key);
        session.close();
      });
    }
  }

  // ---- shared ----------------------------------------------------------------------------

  private setIdleTimer(socket: CosyVoiceConnection | QwenRealtimeSession, ms: number, fire: () => void): void {
    this.clearIdleTimer(socket);
    const timer = setTimeout(() => {
      this.idleTimers.delete(socket);
      fire();
    }, ms);
    timer.unref?.();
    this.idleTimers.set(socket, timer);
  }

  private clearIdleTimer(socket: CosyVoiceConnection | QwenRealtimeSession): void {
    const timer = this.idleTimers.get(socket);
    if (timer) clearTimeout(timer);
    this.idleTimers.delete(socket);
  }

  /** A socket closed (by us, the service or the network): it leaves every list. */
  private forget(socket: CosyVoiceConnection | QwenRealtimeSession): void {
    this.sockets.delete(socket);
    this.clearIdleTimer(socket);
    if (socket instanceof CosyVoiceConnection) {
      const i = this.idleCosy.indexOf(socket);
      if (i >= 0) {
        this.idleCosy.splice(i, 1);
        // The service closed a warm socket (its idle limit, a network drop): bring one back.
        if (this.options.keepWarm && this.users.size > 0 && !this.closed) this.prewarmCosyVoice();
      }
    } else {
      for (const [key, list] of this.idleQwen) {
        const i = list.indexOf(socket);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.idleQwen.delete(key);
      }
    }
    if (this.sockets.size === 0 && this.currentState === 'connected') this.setState('idle');
  }

  private closeIdle(): void {
    for (const connection of this.idleCosy.splice(0)) {
      this.clearIdleTimer(connection);
      connection.close();
    }
    for (const list of this.idleQwen.values()) for (const session of list.splice(0)) session.close();
    this.idleQwen.clear();
  }

  private setState(state: ConnectionState, error?: DashScopeError): void {
    if (this.closed && state !== 'closed') return;
    if (this.currentState === 'auth-failed' && state !== 'closed') return;
    this.lastError = state === 'connected' || state === 'idle' ? undefined : (error ?? this.lastError);
    if (state === this.currentState && !error) return;
    this.currentState = state;
    for (const user of this.users.values()) user.onConnectionState?.(state, this.lastError);
  }

  /** Closes every socket and timer; resolves when the sockets have closed (forced after 2 s). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.setState('closed');
    this.disarm();
    this.closed = true;
    this.gate.close();
    this.limiter.close();
    clearTimeout(this.rewarmTimer);
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    this.idleCosy.length = 0;
    this.idleQwen.clear();
    const closing = [...this.sockets].map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.onClose(() => resolve());
          socket.close(1000);
        }),
    );
    this.users.clear();
    await Promise.all(closing);
  }
}

function closedManager(): DashScopeError {
  return new DashScopeError({ code: 'Closed', message: 'the configuration node was closed', origin: 'client', retryable: false });
}
