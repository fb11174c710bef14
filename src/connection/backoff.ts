/** Exponential backoff with "equal jitter": half the delay is fixed, half random, so clients spread out. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Connection attempts one request makes before it reports the failure. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, maxAttempts: 4 };

/**
 * An utterance refused for the account's rate (Throttling.*) is tried again after a growing pause.
 * The service counts task starts per second, so the first pause is about a second.
 */
export const THROTTLE_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 8000, maxAttempts: 5 };

/** Delay before retry number `failures` (1 = after the first failure). */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
