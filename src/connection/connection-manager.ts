import type { Credentials } from '../dashscope/auth';
import {
  COSYVOICE_LIMITS,
  CosyVoiceConnection,
  type CosyVoiceLimits,
  type CosyVoiceTask,
  type CosyVoiceTaskParams,
  type TaskHandlers,
} from '../dashscope/cosyvoice';
import { CosyVoicePrimer, type ArmedTask, type PrimerStats } from '../dashscope/cosyvoice-primer';
import type { Endpoints } from '../dashscope/endpoints';
import { qwenRealtimeUrl } from '../dashscope/endpoints';
import { DashScopeError } from '../dashscope/errors';
import { QwenRealtimeSession, sessionUpdatePayload, type QwenSessionSettings } from '../dashscope/qwen-realtime';
import { loadWebSocketSoon, openSocket } from '../dashscope/socket';
import { accountId, DEFAULT_QUOTA, holdAccount, type AccountHold } from './account-limits';
import { DEFAULT_RECONNECT, THROTTLE_BACKOFF, type BackoffPolicy, type ReconnectPolicy } from './backoff';
import { abortedWait, ConnectGate, deadlineError, type AttemptMode } from './connect-gate';
import { QwenSpares } from './qwen-spares';
import type { QueuedWork, RateLimiter } from './rate-limiter';
import { KEEP_WARM_WINDOW_MS, UseWindow } from './use-window';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'retrying' | 'auth-failed' | 'closed';

/** A node that borrows sessions. It hears about the shared connection's state, as MQTT users do. */
export interface ManagerUser {
  readonly id: string;
  onConnectionState?(state: ConnectionState, error?: DashScopeError): void;
}

export interface ManagerOptions {
  endpoints: Endpoints;
  credentials: Credentials;
  /** Keep a CosyVoice socket open and renewed, and (while in use) a task started ahead of the text. */
  keepWarm: boolean;
  connectTimeoutMs?: number;
  /** How failed connection attempts are retried, and how long an utterance waits (see backoff.ts). */
  reconnect?: Partial<ReconnectPolicy>;
  /** CosyVoice task starts per second for the whole account (the service allows 3; 0 = no limit). */
  taskStartsPerSecond?: number;
  /** Qwen sessions per minute by model, for an account with a raised quota. */
  qwenRequestsPerMinute?: Readonly<Record<string, number>>;
  /** The length of the Qwen rate window (a minute; tests shorten it). */
  qwenRateWindowMs?: number;
  /** This Node-RED's share of the account's rate limits, in percent (1–100). */
  limitShare?: number;
  /** An idle CosyVoice socket is renewed (keepWarm) or closed this long after its last task; the service closes at 60 s. */
  cosyvoiceIdleMs?: number;
  /** A parked Qwen session is ended (session.finish) after this long unused. */
  qwenIdleMs?: number;
  /** After session.finish, how long the service has to close the socket before we do. */
  qwenFinishGraceMs?: number;
  /** Idle CosyVoice sockets kept at most (never more than maxIdleSessions). */
  maxIdleCosyVoice?: number;
  /**
   * Idle sessions kept at most, CosyVoice sockets and Qwen spares together (default 4). Qwen spares
   * are the ones closed beyond it, least recently used first: they multiply with message settings,
   * while idle CosyVoice sockets are few (maxIdleCosyVoice) and one is what keepWarm promises.
   */
  maxIdleSessions?: number;
  /**
   * keepWarm: a task started ahead of the text is replaced after this long, well inside the
   * service's 23 s limit for a task without instructions (see cosyvoice-primer.ts).
   */
  armedTaskMs?: number;
  /** keepWarm: tasks are started ahead only within this long of the last utterance (or deploy). */
  keepWarmWindowMs?: number;
  cosyvoiceLimits?: Partial<CosyVoiceLimits>;
  /** Pauses before an utterance refused for the account's rate (Throttling) is tried again. */
  throttleBackoff?: BackoffPolicy;
  random?: () => number;
}

/** The manager's counters, and those of the task it keeps started ahead (PrimerStats). */
export interface ManagerStats extends PrimerStats {
  opened: number;
  reused: number;
  failed: number;
  renewed: number;
  /** keepWarm: within the window of use, when tasks are started ahead. */
  inUse: boolean;
  /** Task starts and Qwen sessions of this manager that had to wait for the account's rate limit. */
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
  /**
   * Ends the session politely and for good: session.finish, then the service closes the socket
   * (or we do after a short grace). Its remaining events still reach the session's listener.
   */
  retire(): void;
}

/** A spare session on its way (prewarmQwen). */
interface QwenOpening {
  /** Its rate slot is granted and the handshake under way: it will be ready within a handshake. */
  handshaking: boolean;
  /** Settles once the session is parked (or the attempt failed). */
  done: Promise<void>;
}

/** Idle sessions a config node keeps at most (ManagerOptions.maxIdleSessions). */
export const DEFAULT_MAX_IDLE_SESSIONS = 4;

/** A handshake bounded by an utterance's deadline still gets at least this long. */
const MIN_HANDSHAKE_MS = 1000;

/** docs/protocol.md "Qwen: ending a session": the grace after session.finish before we close. */
const QWEN_FINISH_GRACE_MS = 2000;

/**
 * Keys already computed, by settings object: an utterance asks for its key several times (the
 * engine's guess of the next settings, acquire, prewarm) with the same object, and resolved
 * settings are never changed.
 */
const settingsKeys = new WeakMap<QwenSessionSettings, { model: string; key: string }>();

/** Sessions with equal keys are interchangeable (a session takes one session.update). */
export function qwenSettingsKey(model: string, settings: QwenSessionSettings): string {
  const known = settingsKeys.get(settings);
  if (known?.model === model) return known.key;
  const payload = sessionUpdatePayload(settings);
  const key = `${model}\n${JSON.stringify(Object.keys(payload).sort().map((k) => [k, payload[k]]))}`;
  settingsKeys.set(settings, { model, key });
  return key;
}

/**
 * One per tts-config node: the only place sockets are opened. Synthesis nodes borrow a CosyVoice
 * socket or a Qwen session, use it for an utterance and give it back warm for the next. The rate
 * limits are the account's, shared with every other manager of the same key (account-limits.ts).
 */
export class ConnectionManager {
  private readonly users = new Map<string, ManagerUser>();
  private readonly gate: ConnectGate;
  private readonly account: AccountHold;
  private readonly idleCosy: CosyVoiceConnection[] = [];
  private readonly qwenSpares: QwenSpares;
  private readonly sockets = new Set<CosyVoiceConnection | QwenRealtimeSession>();
  private readonly idleTimers = new Map<CosyVoiceConnection, NodeJS.Timeout>();
  /** This manager's work waiting for the account's rate budget: cancelled on close. */
  private readonly queued = new Set<QueuedWork>();
  private readonly slotWaiters = new Set<(err: DashScopeError) => void>();
  /** Spare sessions being opened, by settings key: one at a time. */
  private readonly prewarmingQwen = new Map<string, QwenOpening>();
  /** Leases that carry an utterance (not a warm socket or a task started ahead). */
  private readonly utteranceLeases = new WeakSet<CosyVoiceLease>();
  private readonly limits: CosyVoiceLimits;
  private readonly window: UseWindow;
  private warming = false;
  private currentState: ConnectionState = 'idle';
  private lastError: DashScopeError | undefined;
  private closed = false;
  private counts = { opened: 0, reused: 0, failed: 0, renewed: 0, throttled: 0 };
  /** keepWarm's task started ahead of the text: CosyVoice's business, on sockets lent by this manager. */
  private readonly primer: CosyVoicePrimer<CosyVoiceLease>;
  private readonly connectTimeoutMs: number;
  private readonly cosyvoiceIdleMs: number;
  private readonly maxIdleCosyVoice: number;
  private readonly maxIdleSessions: number;

  constructor(private readonly options: ManagerOptions) {
    loadWebSocketSoon();
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.cosyvoiceIdleMs = options.cosyvoiceIdleMs ?? 45_000;
    this.maxIdleSessions = Math.max(1, options.maxIdleSessions ?? DEFAULT_MAX_IDLE_SESSIONS);
    this.maxIdleCosyVoice = Math.min(options.maxIdleCosyVoice ?? 2, this.maxIdleSessions);
    this.limits = { ...COSYVOICE_LIMITS, ...options.cosyvoiceLimits };
    this.qwenSpares = new QwenSpares(options.qwenIdleMs ?? 60_000, options.qwenFinishGraceMs ?? QWEN_FINISH_GRACE_MS);
    this.window = new UseWindow(options.keepWarmWindowMs ?? KEEP_WARM_WINDOW_MS, () => this.onWindowEnd());
    this.account = holdAccount(accountId(options.credentials.apiKey, options.endpoints.httpBase), {
      taskStartsPerSecond: options.taskStartsPerSecond ?? DEFAULT_QUOTA.taskStartsPerSecond,
      qwenRequestsPerMinute: options.qwenRequestsPerMinute ?? DEFAULT_QUOTA.qwenRequestsPerMinute,
      qwenWindowMs: options.qwenRateWindowMs ?? DEFAULT_QUOTA.qwenWindowMs,
      limitShare: options.limitShare ?? DEFAULT_QUOTA.limitShare,
    });
    this.gate = new ConnectGate({ ...DEFAULT_RECONNECT, ...options.reconnect }, options.random, (err) => {
      this.counts.failed++;
      this.setState(err.isAuthFailure ? 'auth-failed' : 'retrying', err);
    });
    // Only while the node is in use (UseWindow), never for an idle node.
    this.primer = new CosyVoicePrimer(
      {
        mayArm: () => options.keepWarm && !this.closed && !this.gate.authFailed && this.users.size > 0 && this.window.active,
        inUse: () => this.window.active,
        lease: () => {
          const idle = this.idleLease();
          return idle ? Promise.resolve(idle) : this.openCosyVoice('background').then((c) => this.cosyvoiceLease(c));
        },
      },
      options.armedTaskMs ?? 15_000,
    );
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

  /** Delays the connect gate has imposed (backoff), for diagnostics and tests. */
  get backoffWaits(): readonly number[] {
    return this.gate.waits;
  }

  stats(): ManagerStats {
    return {
      ...this.counts,
      ...this.primer.stats(),
      inUse: this.options.keepWarm && this.window.active,
      open: this.sockets.size,
      idle: this.idleCosy.length + this.qwenSpares.size,
    };
  }

  register(user: ManagerUser, options: { prewarmCosyVoice?: boolean } = {}): void {
    this.users.set(user.id, user);
    user.onConnectionState?.(this.currentState, this.lastError);
    if (options.prewarmCosyVoice && this.options.keepWarm) {
      // A deploy is use: the first utterance after it finds a task started.
      this.window.touch();
      this.prewarmCosyVoice();
    }
  }

  /** A user leaves; when the last one leaves because it was removed, idle sockets go too. */
  deregister(user: ManagerUser, removed = false): void {
    this.users.delete(user.id);
    if (this.users.size === 0) this.primer.disarm();
    if (this.users.size === 0 && removed) this.closeIdle();
  }

  get userCount(): number {
    return this.users.size;
  }

  // ---- CosyVoice -------------------------------------------------------------------------

  /** A socket for an utterance: an idle one, else a new one (waiting out an outage up to the deadline). */
  async acquireCosyVoice(): Promise<CosyVoiceLease> {
    if (this.options.keepWarm) this.window.touch();
    const lease = this.idleLease() ?? this.cosyvoiceLease(await this.openCosyVoice('waiting'));
    this.utteranceLeases.add(lease);
    return lease;
  }

  /**
   * The fallback voice asks whether the service is back: one attempt (a socket parked already says
   * nothing about now), the new socket parked if it works. Its success is what returns the nodes
   * to the service ('connected').
   */
  async probeCosyVoice(): Promise<void> {
    this.parkCosyVoice(await this.openCosyVoice('probe'));
  }

  /** Opens a CosyVoice socket now (and keeps one renewed) so the first utterance finds it ready. */
  prewarmCosyVoice(): void {
    if (this.closed || this.warming || this.idleCosy.length > 0 || this.gate.authFailed) return;
    this.warming = true;
    this.openCosyVoice('background').then(
      (connection) => {
        this.warming = false;
        this.parkCosyVoice(connection);
      },
      (err: unknown) => {
        this.warming = false;
        // A failure that may pass is tried again after the gate's backoff (growing up to its idle
        // maximum, docs/protocol.md "Reconnecting"); anything else (closed, a wrong key, a refusal
        // that would repeat) stops warming: the next utterance reports it.
        if (err instanceof DashScopeError && err.retryable && this.wantsWarmSocket()) this.prewarmCosyVoice();
      },
    );
  }

  /** keepWarm: starts a task with these parameters ahead of the next utterance's text (cosyvoice-primer.ts). */
  armCosyVoice(params: CosyVoiceTaskParams): void {
    this.primer.arm(params);
  }

  /** The task started ahead for exactly these parameters, if there is one: it is the caller's now. */
  takeArmedCosyVoice(params: CosyVoiceTaskParams): ArmedTask<CosyVoiceLease> | undefined {
    const armed = this.primer.take(params);
    if (!armed) return undefined;
    // From here on its lease carries an utterance, whose end starts the window of use again.
    this.window.touch();
    this.utteranceLeases.add(armed.lease);
    return armed;
  }

  /** An idle socket, leased, if there is one (no await: the warm path stays synchronous). */
  private idleLease(): CosyVoiceLease | undefined {
    const idle = this.takeIdleCosyVoice();
    if (!idle) return undefined;
    // keepWarm means a spare is always ready: for the next utterance and for one that interrupts this one.
    if (this.wantsWarmSocket()) this.prewarmCosyVoice();
    return this.cosyvoiceLease(idle);
  }

  private wantsWarmSocket(): boolean {
    return this.options.keepWarm && this.users.size > 0 && !this.closed;
  }

  /** The window of use ended: no task waits ahead any more, and one idle socket is enough. */
  private onWindowEnd(): void {
    this.primer.disarm();
    while (this.idleCosy.length > 1) {
      const extra = this.idleCosy.shift() as CosyVoiceConnection;
      this.clearIdleTimer(extra);
      extra.close();
    }
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

  private async openCosyVoice(mode: AttemptMode): Promise<CosyVoiceConnection> {
    this.setState(this.currentState === 'connected' ? 'connected' : 'connecting');
    const ws = await this.gate.attempt(
      (budget) => openSocket(this.options.endpoints.cosyvoiceWs, this.options.credentials, { connectTimeoutMs: this.handshakeMs(budget) }),
      mode,
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

  /** The connect timeout, shortened so an utterance's wait ends near its deadline. */
  private handshakeMs(budget: number | undefined): number {
    return budget === undefined ? this.connectTimeoutMs : Math.min(this.connectTimeoutMs, Math.max(budget, MIN_HANDSHAKE_MS));
  }

  private cosyvoiceLease(connection: CosyVoiceConnection): CosyVoiceLease {
    let released = false;
    const lease: CosyVoiceLease = {
      connection,
      runTask: (params, handlers) => {
        const task = connection.runTask(params, handlers, false);
        this.startWhenAllowed(this.account.cosyvoice, (at) => {
          if (!task.finished && connection.isOpen) task.start();
          else this.account.cosyvoice.refund(at); // never sent: the slot is someone else's
        });
        return task;
      },
      release: () => {
        if (released) return;
        released = true;
        // The window of use runs from the end of an utterance (a stream may last longer than the window).
        if (this.utteranceLeases.delete(lease) && this.options.keepWarm) this.window.touch();
        if (connection.reusable && !this.closed) this.parkCosyVoice(connection);
        else connection.close();
      },
    };
    return lease;
  }

  /**
   * Runs `work` within the account's budget; work still waiting when this manager closes is
   * dropped. Returns the ticket of work that waits (undefined: it ran at once).
   */
  private startWhenAllowed(limiter: RateLimiter, work: (at: number) => void): QueuedWork | undefined {
    let ticket: QueuedWork | undefined;
    ticket = limiter.schedule((at) => {
      if (ticket) this.queued.delete(ticket);
      work(at);
    });
    if (ticket) {
      this.counts.throttled++;
      this.queued.add(ticket);
    }
    return ticket;
  }

  private parkCosyVoice(connection: CosyVoiceConnection): void {
    if (this.closed || !connection.reusable || this.idleCosy.length >= this.maxIdleCosyVoice) {
      connection.close();
      return;
    }
    this.idleCosy.push(connection);
    const age = Date.now() - connection.idleSince;
    this.setIdleTimer(connection, Math.max(0, this.cosyvoiceIdleMs - age), () => this.renewCosyVoice(connection));
    this.boundIdle();
  }

  /**
   * Before the service's 60 s idle close: replace the socket (keepWarm) or just close it. The
   * replacement opens once the old socket has closed, so an idle node never holds two.
   */
  private renewCosyVoice(connection: CosyVoiceConnection): void {
    const index = this.idleCosy.indexOf(connection);
    if (index >= 0) this.idleCosy.splice(index, 1);
    connection.onClose(() => {
      if (!this.wantsWarmSocket() || this.idleCosy.length > 0) return;
      this.counts.renewed++;
      this.prewarmCosyVoice();
    });
    connection.close();
  }

  // ---- Qwen ------------------------------------------------------------------------------

  /**
   * A session with exactly these settings: a parked one if there is one, else a new one. `signal`:
   * the utterance was stopped; while it still waits for a connection or a rate slot, it gives the
   * slot up (a session the service would count as a request of the model's budget, for nobody).
   */
  async acquireQwen(model: string, settings: QwenSessionSettings, signal?: AbortSignal): Promise<QwenLease> {
    const key = qwenSettingsKey(model, settings);
    let session = this.takeSpareQwen(key);
    const opening = session ? undefined : this.prewarmingQwen.get(key);
    // A spare whose handshake is under way is nearer than a new session, and a new one would cost
    // another request of the model's budget (docs/protocol.md "Rate limits"). One still waiting out
    // the gate's backoff or a rate slot is not waited for: an utterance keeps its own pace and deadline.
    if (opening?.handshaking) {
      await opening.done;
      session = this.takeSpareQwen(key);
    }
    return this.qwenLease(key, session ?? (await this.openQwen(model, settings, 'waiting', undefined, signal)));
  }

  /** Opens a session for these settings ahead of the utterance and parks it (at most one per settings). */
  prewarmQwen(model: string, settings: QwenSessionSettings): void {
    const key = qwenSettingsKey(model, settings);
    if (this.closed || this.qwenSpares.has(key) || this.prewarmingQwen.has(key) || this.gate.authFailed) return;
    const opening: QwenOpening = { handshaking: false, done: Promise.resolve() };
    this.prewarmingQwen.set(key, opening);
    opening.done = this.openQwen(model, settings, 'background', () => (opening.handshaking = true)).then(
      (session) => {
        this.prewarmingQwen.delete(key);
        // A spare parked meanwhile (by a release) is enough: each session costs a request of the model's budget.
        if (this.qwenSpares.has(key)) this.qwenSpares.retire(session);
        else this.parkQwen(key, session);
      },
      () => {
        this.prewarmingQwen.delete(key); // state and counters already tell the users
      },
    );
  }

  /**
   * The fallback voice asks whether the service is back: one attempt, the session parked if it
   * works. A parked spare answers without a new session: each one costs a request of the model's
   * per-minute budget.
   */
  async probeQwen(model: string, settings: QwenSessionSettings): Promise<void> {
    const key = qwenSettingsKey(model, settings);
    if (this.qwenSpares.has(key)) return;
    this.parkQwen(key, await this.openQwen(model, settings, 'probe'));
  }

  private takeSpareQwen(key: string): QwenRealtimeSession | undefined {
    const session = this.qwenSpares.take(key);
    if (session) this.counts.reused++;
    return session;
  }

  /** `onSlot`: the rate slot is granted, the handshake starts. */
  private async openQwen(model: string, settings: QwenSessionSettings, mode: AttemptMode, onSlot?: () => void, signal?: AbortSignal): Promise<QwenRealtimeSession> {
    this.setState(this.currentState === 'connected' ? 'connected' : 'connecting');
    const url = qwenRealtimeUrl(this.options.endpoints, model);
    const limiter = this.account.qwen(model);
    const session = await this.gate.attempt(async (budget) => {
      const askedAt = Date.now();
      // One session is one request against the model's per-minute limit (docs/protocol.md "Rate
      // limits"). An utterance waits for its slot only until its deadline ("Reconnecting").
      const at = await this.qwenSlot(limiter, budget, signal);
      onSlot?.();
      const timeout = this.handshakeMs(budget === undefined ? undefined : budget - (Date.now() - askedAt));
      try {
        return await QwenRealtimeSession.open(url, model, this.options.credentials, settings, { connectTimeoutMs: timeout, setupTimeoutMs: timeout });
      } catch (err) {
        // No session was created, so the service counted no request: the slot is free again
        // (else an outage retried once a second would use up a 10-a-minute budget in seconds).
        if (neverCreated(err)) limiter.refund(at);
        throw err;
      }
    }, mode, signal);
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

  /**
   * Resolves with the slot's time once the model's budget allows another session; with a budget
   * (an utterance's time left), rejects with the deadline error when it runs out first. A timer
   * only when the slot is not free at once: the warm path stays synchronous.
   */
  private qwenSlot(limiter: RateLimiter, budgetMs: number | undefined, signal?: AbortSignal): Promise<number> {
    if (this.closed) return Promise.reject(closedManager());
    if (signal?.aborted) return Promise.reject(abortedWait());
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let ticket: QueuedWork | undefined;
      // Whichever ends the wait first: the slot, the deadline, the utterance stopped, or close().
      const settle = (outcome: () => void): void => {
        this.slotWaiters.delete(drop);
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
        outcome();
      };
      const giveUp = (): void => {
        if (ticket) {
          this.queued.delete(ticket);
          ticket.cancel();
        }
        settle(() => reject(abortedWait()));
      };
      const drop = (err: DashScopeError): void => settle(() => reject(err));
      this.slotWaiters.add(drop);
      signal?.addEventListener('abort', giveUp, { once: true });
      ticket = this.startWhenAllowed(limiter, (at) => settle(() => resolve(at)));
      if (!ticket || budgetMs === undefined) return;
      const waiting = ticket;
      timer = setTimeout(() => {
        this.queued.delete(waiting);
        waiting.cancel();
        settle(() => reject(rateDeadlineError(limiter, this.gate.deadlineMs)));
      }, Math.max(0, budgetMs));
      timer.unref?.();
    });
  }

  private qwenLease(key: string, session: QwenRealtimeSession): QwenLease {
    let released = false;
    const end = (): boolean => {
      if (released) return false;
      released = true;
      session.listener = undefined;
      return true;
    };
    return {
      session,
      release: () => {
        if (!end()) return;
        if (session.isOpen && !session.responding && !this.closed) this.parkQwen(key, session);
        // Finished by its user: the service closes it after draining, or the grace does.
        else if (this.sockets.has(session) && !session.isOpen && !this.closed) this.qwenSpares.retire(session);
        else session.close();
      },
      discard: () => {
        if (!end()) return;
        session.close();
      },
      retire: () => {
        if (released) return;
        released = true;
        if (this.closed) session.close();
        else this.qwenSpares.retire(session);
      },
    };
  }

  private parkQwen(key: string, session: QwenRealtimeSession): void {
    if (this.closed || !session.isOpen) {
      session.close();
      return;
    }
    this.qwenSpares.park(key, session);
    this.boundIdle();
  }

  /**
   * Beyond maxIdleSessions idle sessions, the least recently used Qwen spares are retired: they
   * multiply with message settings. The newest spare is the one the next utterance takes, so once
   * only it is left, idle CosyVoice sockets give way first (oldest first; not reopened), else a
   * bound at or below maxIdleCosyVoice would retire every spare the moment it is parked, each one
   * a request of the model's per-minute budget spent for nothing.
   */
  private boundIdle(): void {
    let excess = this.idleCosy.length + this.qwenSpares.size - this.maxIdleSessions;
    while (excess > 0 && this.qwenSpares.size > 1 && this.qwenSpares.retireOldest()) excess--;
    for (; excess > 0 && this.idleCosy.length > 0; excess--) {
      // Out of the list first: forget() then sees no warm socket lost, and opens none in its place.
      const connection = this.idleCosy.shift() as CosyVoiceConnection;
      this.clearIdleTimer(connection);
      connection.close();
    }
    while (excess > 0 && this.qwenSpares.retireOldest()) excess--;
  }

  // ---- shared ----------------------------------------------------------------------------

  private setIdleTimer(connection: CosyVoiceConnection, ms: number, fire: () => void): void {
    this.clearIdleTimer(connection);
    const timer = setTimeout(() => {
      this.idleTimers.delete(connection);
      fire();
    }, ms);
    timer.unref?.();
    this.idleTimers.set(connection, timer);
  }

  private clearIdleTimer(connection: CosyVoiceConnection): void {
    const timer = this.idleTimers.get(connection);
    if (timer) clearTimeout(timer);
    this.idleTimers.delete(connection);
  }

  /** A socket closed (by us, the service or the network): it leaves every list. */
  private forget(socket: CosyVoiceConnection | QwenRealtimeSession): void {
    this.sockets.delete(socket);
    if (socket instanceof CosyVoiceConnection) {
      this.clearIdleTimer(socket);
      const i = this.idleCosy.indexOf(socket);
      if (i >= 0) {
        this.idleCosy.splice(i, 1);
        // The service closed a warm socket (its idle limit, a network drop): bring one back.
        if (this.wantsWarmSocket()) this.prewarmCosyVoice();
      }
    } else {
      this.qwenSpares.forget(socket);
    }
    if (this.sockets.size === 0 && this.currentState === 'connected') this.setState('idle');
  }

  private closeIdle(): void {
    for (const connection of this.idleCosy.splice(0)) {
      this.clearIdleTimer(connection);
      connection.close();
    }
    for (const session of this.qwenSpares.drain()) this.qwenSpares.retire(session);
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
    this.primer.close();
    this.closed = true;
    this.gate.close();
    this.window.close();
    for (const ticket of this.queued) ticket.cancel();
    this.queued.clear();
    for (const drop of this.slotWaiters) drop(closedManager());
    this.slotWaiters.clear();
    this.account.release();
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    this.idleCosy.length = 0;
    this.qwenSpares.clearTimers();
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

/**
 * A Qwen attempt that failed before the service created a session: refused or dropped connection,
 * a handshake answered with an HTTP error, or a handshake that timed out.
 */
function neverCreated(err: unknown): boolean {
  if (!(err instanceof DashScopeError)) return true;
  return err.origin === 'network' || err.origin === 'handshake' || err.code === 'ConnectTimeout';
}

/** An utterance's deadline passed while it waited for a rate slot (no connection was attempted). */
function rateDeadlineError(limiter: RateLimiter, deadlineMs: number): DashScopeError {
  const { count, windowMs } = limiter.limit;
  const cause = new DashScopeError({
    code: 'Throttling.RateQuota',
    message: `waiting for the model's rate limit (${count} sessions per ${Math.round(windowMs / 1000)} s)`,
    origin: 'client',
    retryable: true,
  });
  return deadlineError(cause, deadlineMs);
}

function closedManager(): DashScopeError {
  return new DashScopeError({ code: 'Closed', message: 'the configuration node was closed', origin: 'client', retryable: false });
}
