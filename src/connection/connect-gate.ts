import { DashScopeError } from '../dashscope/errors';
import { backoffDelay, type ReconnectPolicy } from './backoff';

/**
 * Why a connection is wanted; it decides how failures are retried (docs/protocol.md "Reconnecting"):
 * - `waiting`: an utterance waits for it. Attempts follow one another at most `waitingMaxMs` apart
 *   until one succeeds or `deadlineMs` has passed.
 * - `probe`: the fallback voice asks whether the service is back. One attempt, as early as a
 *   waiting one would be allowed.
 * - `background`: a warm socket or a spare session. One attempt, after the full backoff.
 */
export type AttemptMode = 'waiting' | 'probe' | 'background';

/** How many of the latest backoff pauses ConnectGate.waits keeps. */
export const WAITS_KEPT = 50;

/**
 * Every connection attempt of one account passes through here. Failures push the next allowed
 * attempt out exponentially for everyone (one flaky network never turns into a retry storm), but
 * an utterance that waits is never kept waiting longer than `waitingMaxMs` between attempts. An
 * auth failure closes the gate for good: a wrong key stays wrong until the user redeploys.
 */
export class ConnectGate {
  private consecutiveFailures = 0;
  private lastFailureAt = 0;
  /** Pauses after the last failure, jittered once: the full one, and the one capped for a waiting utterance. */
  private idleDelay = 0;
  private waitingDelay = 0;
  private authFailure: DashScopeError | undefined;
  private closed = false;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  /** Attempts under way, and who waits for them to settle (background attempts never race one). */
  private inFlight = 0;
  private settled: (() => void)[] = [];
  /**
   * The pauses imposed after failures on the attempt that failed, newest last (for tests and
   * diagnostics): the last WAITS_KEPT only, as a long outage fails about once a second.
   */
  readonly waits: number[] = [];

  constructor(
    private readonly policy: ReconnectPolicy,
    private readonly random: () => number = Math.random,
    private readonly onFailure: (err: DashScopeError) => void = () => undefined,
  ) {}

  get authFailed(): DashScopeError | undefined {
    return this.authFailure;
  }

  get failures(): number {
    return this.consecutiveFailures;
  }

  /** How long an utterance waits for a connection. */
  get deadlineMs(): number {
    return this.policy.deadlineMs;
  }

  /**
   * Runs `open` when the backoff allows it. `open` gets the time left before the deadline (waiting
   * mode only), so one hanging handshake cannot carry the wait past it. `signal`: the utterance
   * that waits was stopped; no further attempt is made for it (AbortedError).
   */
  async attempt<T>(open: (budgetMs: number | undefined) => Promise<T>, mode: AttemptMode = 'waiting', signal?: AbortSignal): Promise<T> {
    const deadlineAt = mode === 'waiting' ? Date.now() + this.policy.deadlineMs : Infinity;
    for (;;) {
      this.checkOpen();
      if (signal?.aborted) throw abortedWait();
      // The last attempt of a waiting utterance is made at its deadline, however the backoff falls.
      const wait = Math.min(this.nextAttemptAt(mode), deadlineAt) - Date.now();
      if (wait > 0) {
        await this.sleep(wait, signal);
        continue; // on time, or woken early by a success, close() or the signal: look again
      }
      // A spare or warm socket waits for the attempt under way: after a wrong key or an outage,
      // one handshake tells, not two racing ones (the auth latch stays at one refused handshake).
      if (mode === 'background' && this.inFlight > 0) {
        await new Promise<void>((resolve) => this.settled.push(resolve));
        continue;
      }
      this.inFlight++;
      try {
        const result = await open(mode === 'waiting' ? deadlineAt - Date.now() : undefined);
        this.succeeded();
        return result;
      } catch (err) {
        // `open` ran out of the utterance's time before connecting (a rate slot): no connection
        // failed, so no backoff for anyone; the error already says why.
        if (err instanceof DashScopeError && deadlineErrors.has(err)) throw err;
        const failure = err instanceof DashScopeError ? err : undefined;
        if (failure?.isAuthFailure) {
          this.authFailure = failure;
          this.onFailure(failure);
          throw failure;
        }
        if (!failure?.retryable) throw err;
        this.failed(failure, mode);
        if (mode !== 'waiting') throw failure;
        if (Date.now() >= deadlineAt) throw deadlineError(failure, this.policy.deadlineMs);
      } finally {
        this.inFlight--;
        if (this.inFlight === 0) for (const wake of this.settled.splice(0)) wake();
      }
    }
  }

  close(): void {
    this.closed = true;
    this.wakeAll();
    for (const wake of this.settled.splice(0)) wake();
  }

  private checkOpen(): void {
    if (this.authFailure) throw this.authFailure;
    if (this.closed) throw closedGate();
  }

  private nextAttemptAt(mode: AttemptMode): number {
    if (this.consecutiveFailures === 0) return 0;
    return this.lastFailureAt + (mode === 'background' ? this.idleDelay : this.waitingDelay);
  }

  private succeeded(): void {
    this.consecutiveFailures = 0;
    // Background attempts sleeping out a long pause may go now: the service is back.
    this.wakeAll();
  }

  private failed(failure: DashScopeError, mode: AttemptMode): void {
    this.consecutiveFailures++;
    this.lastFailureAt = Date.now();
    const r = this.random();
    this.idleDelay = backoffDelay(this.policy, this.consecutiveFailures, () => r);
    const waitingCap = Math.min(this.policy.waitingMaxMs, this.policy.maxMs);
    this.waitingDelay = backoffDelay({ baseMs: this.policy.baseMs, maxMs: waitingCap }, this.consecutiveFailures, () => r);
    this.waits.push(mode === 'background' ? this.idleDelay : this.waitingDelay);
    if (this.waits.length > WAITS_KEPT) this.waits.splice(0, this.waits.length - WAITS_KEPT);
    this.onFailure(failure);
  }

  private wakeAll(): void {
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.set(timer, wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * An utterance waited `deadlineMs` for a connection. It keeps the last attempt's code (a catch
 * node may tell a refused connection from a 503) and is retryable, so the fallback voice speaks.
 */
export function deadlineError(cause: DashScopeError | undefined, deadlineMs: number): DashScopeError {
  const err = new DashScopeError({
    code: cause?.code ?? 'NetworkError',
    message: `no connection to the service within ${seconds(deadlineMs)} (last attempt: ${cause?.message ?? 'none'})`,
    origin: cause?.origin ?? 'network',
    retryable: true,
    status: cause?.status,
    requestId: cause?.requestId,
    cause,
  });
  deadlineErrors.add(err);
  return err;
}

/** Errors made by deadlineError(): thrown by an attempt, they end the wait as they are. */
const deadlineErrors = new WeakSet<DashScopeError>();

/** The utterance waiting for a connection (or a rate slot) was stopped: nothing more is attempted for it. */
export function abortedWait(): DashScopeError {
  return new DashScopeError({ code: 'Aborted', message: 'the utterance was stopped while it waited for the service', origin: 'client', retryable: false });
}

function closedGate(): DashScopeError {
  return new DashScopeError({ code: 'Closed', message: 'the configuration node was closed', origin: 'client', retryable: false });
}
