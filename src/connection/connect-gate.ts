import { DashScopeError } from '../dashscope/errors';
import { backoffDelay, type BackoffPolicy } from './backoff';

/**
 * Every connection attempt of one account passes through here. Failures push the next allowed
 * attempt out exponentially for everyone (one flaky network never turns into a retry storm), and
 * an auth failure closes the gate for good: a wrong key stays wrong until the user redeploys.
 */
export class ConnectGate {
  private consecutiveFailures = 0;
  private nextAttemptAt = 0;
  private authFailure: DashScopeError | undefined;
  private closed = false;
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  /** The backoff delays imposed after failures, newest last (for tests and diagnostics). */
  readonly waits: number[] = [];

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
    private readonly onFailure: (err: DashScopeError) => void = () => undefined,
  ) {}

  get authFailed(): DashScopeError | undefined {
    return this.authFailure;
  }

  get failures(): number {
    return this.consecutiveFailures;
  }

  async attempt<T>(open: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      if (this.authFailure) throw this.authFailure;
      if (this.closed) throw closedGate();
      const wait = this.nextAttemptAt - Date.now();
      if (wait > 0) await this.sleep(wait);
      if (this.authFailure) throw this.authFailure;
      if (this.closed) throw closedGate();
      try {
        const result = await open();
        this.consecutiveFailures = 0;
        this.nextAttemptAt = 0;
        return result;
      } catch (err) {
        const failure = err instanceof DashScopeError ? err : undefined;
        if (failure?.isAuthFailure) {
          this.authFailure = failure;
          this.onFailure(failure);
          throw failure;
        }
        if (!failure?.retryable) throw err;
        this.consecutiveFailures++;
        const delay = backoffDelay(this.policy, this.consecutiveFailures, this.random);
        this.waits.push(delay);
        this.nextAttemptAt = Date.now() + delay;
        this.onFailure(failure);
        if (tries >= this.policy.maxAttempts) throw failure;
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }
}

function closedGate(): DashScopeError {
  return new DashScopeError({ code: 'Closed', message: 'the configuration node was closed', origin: 'client', retryable: false });
}
