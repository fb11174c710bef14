/** Exponential backoff with "equal jitter": half the delay is fixed, half random, so clients spread out. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Attempts one request makes before it reports the failure. */
  maxAttempts: number;
}

/**
 * How the connection gate retries (docs/protocol.md "Reconnecting"). One policy for every node,
 * whatever keepWarm says: what differs is only whether an utterance is waiting.
 */
export interface ReconnectPolicy {
  /** Pause after the first failed attempt; it doubles with each further failure. */
  baseMs: number;
  /** Longest pause while nothing waits (a warm socket, a spare session): a long outage costs little. */
  maxMs: number;
  /** Longest pause while an utterance waits: the service's return is noticed within this long. */
  waitingMaxMs: number;
  /** An utterance waits at most this long for a connection, then fails (to catch, or to the fallback voice). */
  deadlineMs: number;
}

/**
 * waitingMaxMs 1 s: an utterance is spoken within about a second (plus one handshake) of the
 * service's return, at the cost of one connection attempt a second while it waits.
 * deadlineMs 30 s: an announcement older than that is stale; the flow should hear about it.
 */
export const DEFAULT_RECONNECT: ReconnectPolicy = { baseMs: 500, maxMs: 30_000, waitingMaxMs: 1000, deadlineMs: 30_000 };

/**
 * An utterance refused for the account's rate (Throttling.*) is tried again after a growing pause.
 * The service counts task starts per second, so the first pause is about a second.
 */
export const THROTTLE_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 8000, maxAttempts: 5 };

/** Delay before retry number `failures` (1 = after the first failure). */
export function backoffDelay(policy: Pick<BackoffPolicy, 'baseMs' | 'maxMs'>, failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
