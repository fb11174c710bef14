import { createHash } from 'node:crypto';
import { RateLimiter, WINDOW_MARGIN_MS } from './rate-limiter';

/**
 * The service's rate limits belong to the account, not to a tts-config node
 * (docs/protocol.md "Rate limits"): every manager of one account in this Node-RED takes its
 * starts from the same limiters, so a burst across nodes queues instead of being refused.
 */

/** CosyVoice: run-task submissions per second per account (docs/protocol.md "CosyVoice: rate limit"). */
export const COSYVOICE_TASK_STARTS_PER_SECOND = 3;

/**
 * Qwen realtime: requests per minute per model (docs/protocol.md "Qwen: limits and rate limits");
 * one session counts as one request (unconfirmed: "Unconfirmed points" qwen-rate-unit).
 */
export const QWEN_REQUESTS_PER_MINUTE = 180;

/** The models with a lower documented rate (docs/protocol.md "Qwen: limits and rate limits"). */
const QWEN_SLOWER_MODELS: readonly (readonly [RegExp, number])[] = [
  [/^qwen3-tts-flash-realtime-2025-09-18$/, 10],
  [/^qwen-tts-realtime/, 10],
];

export function qwenRequestsPerMinute(model: string, overrides: Readonly<Record<string, number>> = {}): number {
  const own = overrides[model];
  if (typeof own === 'number') return own;
  return QWEN_SLOWER_MODELS.find(([pattern]) => pattern.test(model))?.[1] ?? QWEN_REQUESTS_PER_MINUTE;
}

export interface AccountQuota {
  /** CosyVoice task starts per second for the whole account; 0 = no limit. */
  taskStartsPerSecond: number;
  /** Qwen sessions per minute by model, for an account whose quota was raised (else the documented rates). */
  qwenRequestsPerMinute: Readonly<Record<string, number>>;
  /** The length of the Qwen rate window: a minute (tests shorten it). */
  qwenWindowMs: number;
  /** This Node-RED's share of the account's limits, in percent (1–100): other instances use the rest. */
  limitShare: number;
}

export const DEFAULT_QUOTA: AccountQuota = {
  taskStartsPerSecond: COSYVOICE_TASK_STARTS_PER_SECOND,
  qwenRequestsPerMinute: {},
  qwenWindowMs: 60_000,
  limitShare: 100,
};

/**
 * A share of `perWindow` starts per `windowMs` as a rolling budget: `count` starts per returned
 * window. A burst is never larger than the share allows within the service's own window (so
 * instances sharing an account do not exceed it together); a share below one start per window
 * stretches the window instead.
 */
export function shareOf(perWindow: number, windowMs: number, sharePercent: number): { count: number; windowMs: number } {
  if (perWindow <= 0) return { count: 0, windowMs: windowMs + WINDOW_MARGIN_MS };
  const share = Math.min(1, Math.max(0.01, sharePercent / 100));
  const allowed = perWindow * share;
  const count = Math.max(1, Math.floor(allowed));
  return { count, windowMs: Math.round(windowMs * Math.max(1, count / allowed)) + WINDOW_MARGIN_MS };
}

/**
 * The registry key of an account: a hash of the endpoint and the key, so the key itself is kept
 * nowhere but in the managers that must send it (and is never logged).
 */
export function accountId(apiKey: string, endpoint: string): string {
  return createHash('sha256').update(`${endpoint}\n${apiKey}`).digest('hex');
}

/** One manager's use of its account's limiters. */
export interface AccountHold {
  readonly cosyvoice: RateLimiter;
  qwen(model: string): RateLimiter;
  /** The manager closed; the last one to leave closes the limiters. */
  release(): void;
}

class Account {
  readonly holders = new Set<AccountQuota>();
  /**
   * When the last holder left, the starts of the past window still count at the service: the
   * account is kept (limiters, history and all) until then, so a redeploy that joins it again does
   * not start a fresh budget on top of the old one. No timer: it is dropped when it is next looked at.
   */
  keptUntil = 0;
  readonly cosyvoice = new RateLimiter(0);
  private readonly qwen = new Map<string, RateLimiter>();

  qwenLimiter(model: string): RateLimiter {
    let limiter = this.qwen.get(model);
    if (!limiter) {
      const q = this.quota();
      const { count, windowMs } = shareOf(qwenRequestsPerMinute(model, q.qwenRequestsPerMinute), q.qwenWindowMs, q.limitShare);
      limiter = new RateLimiter(count, windowMs);
      this.qwen.set(model, limiter);
    }
    return limiter;
  }

  /**
   * Settings.js values are the same for every holder of one Node-RED; the share is a node setting,
   * so two nodes of one account may disagree: the smaller share wins.
   */
  quota(): AccountQuota {
    const [first] = this.holders;
    let share = (first ?? DEFAULT_QUOTA).limitShare;
    for (const h of this.holders) share = Math.min(share, h.limitShare);
    return { ...(first ?? DEFAULT_QUOTA), limitShare: share };
  }

  retune(): void {
    const q = this.quota();
    const c = shareOf(q.taskStartsPerSecond, 1000, q.limitShare);
    this.cosyvoice.configure(c.count, c.windowMs);
    for (const [model, limiter] of this.qwen) {
      const w = shareOf(qwenRequestsPerMinute(model, q.qwenRequestsPerMinute), q.qwenWindowMs, q.limitShare);
      limiter.configure(w.count, w.windowMs);
    }
  }

  /** The longest window of its limiters: how long a start still counts at the service. */
  longestWindowMs(): number {
    let ms = this.cosyvoice.limit.windowMs;
    for (const limiter of this.qwen.values()) ms = Math.max(ms, limiter.limit.windowMs);
    return ms;
  }

  close(): void {
    this.cosyvoice.close();
    for (const limiter of this.qwen.values()) limiter.close();
    this.qwen.clear();
  }
}

const accounts = new Map<string, Account>();

/** Joins the account's limiters (creating them for its first manager). */
export function holdAccount(id: string, quota: AccountQuota): AccountHold {
  dropExpired();
  let account = accounts.get(id);
  if (!account) {
    account = new Account();
    accounts.set(id, account);
  }
  const joined = account;
  const mine = { ...quota };
  joined.holders.add(mine);
  joined.retune();
  let released = false;
  return {
    cosyvoice: joined.cosyvoice,
    qwen: (model) => joined.qwenLimiter(model),
    release: () => {
      if (released) return;
      released = true;
      joined.holders.delete(mine);
      if (joined.holders.size > 0) {
        joined.retune();
        return;
      }
      // docs/protocol.md "Rate limits": kept for one more window (the closing managers cancelled
      // their waiting work, so its limiters hold no timer), then dropped by dropExpired().
      joined.keptUntil = Date.now() + joined.longestWindowMs();
      dropExpired();
    },
  };
}

/** Closes and forgets the accounts nobody holds whose last window has passed. */
function dropExpired(): void {
  const now = Date.now();
  for (const [id, account] of accounts) {
    if (account.holders.size > 0 || account.keptUntil > now) continue;
    account.close();
    accounts.delete(id);
  }
}

/** Accounts with a live manager (for tests and diagnostics). */
export function heldAccounts(): number {
  let n = 0;
  for (const account of accounts.values()) if (account.holders.size > 0) n++;
  return n;
}
