import type { ManagerOptions } from '../../connection/connection-manager';
import type { ReconnectPolicy } from '../../connection/backoff';

export type Tuning = Pick<
  ManagerOptions,
  | 'taskStartsPerSecond'
  | 'cosyvoiceIdleMs'
  | 'qwenIdleMs'
  | 'qwenFinishGraceMs'
  | 'connectTimeoutMs'
  | 'keepWarmWindowMs'
  | 'qwenRateWindowMs'
  | 'qwenRequestsPerMinute'
  | 'reconnect'
  | 'throttleBackoff'
  | 'cosyvoiceLimits'
  | 'maxIdleSessions'
>;

const TUNABLE = ['taskStartsPerSecond', 'cosyvoiceIdleMs', 'qwenIdleMs', 'qwenFinishGraceMs', 'connectTimeoutMs', 'keepWarmWindowMs', 'qwenRateWindowMs'] as const;
const THROTTLE_KEYS = ['baseMs', 'maxMs', 'maxAttempts'] as const;
const LIMIT_KEYS = ['startTimeoutMs', 'finishTimeoutMs', 'idleFinishMs'] as const;

function isTuningNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `backoff: { baseMs, maxMs, waitingMaxMs }` (baseMs and maxMs required) and `waitDeadlineMs`
 * make the reconnect policy. An older `backoff.maxAttempts` is accepted and ignored: an utterance
 * now waits up to the deadline, not for a number of attempts.
 */
function reconnectTuning(values: Record<string, unknown>): Partial<ReconnectPolicy> | undefined {
  const policy: Partial<ReconnectPolicy> = {};
  const backoff = values.backoff;
  if (isRecord(backoff) && isTuningNumber(backoff.baseMs) && isTuningNumber(backoff.maxMs)) {
    policy.baseMs = backoff.baseMs;
    policy.maxMs = backoff.maxMs;
    if (isTuningNumber(backoff.waitingMaxMs)) policy.waitingMaxMs = backoff.waitingMaxMs;
  }
  if (isTuningNumber(values.waitDeadlineMs) && values.waitDeadlineMs > 0) policy.deadlineMs = values.waitDeadlineMs;
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/**
 * Advanced settings.js tuning, `ttsConfigConnection: { taskStartsPerSecond, cosyvoiceIdleMs, ... }`:
 * an account with a higher rate quota, or a proxy that drops idle sockets sooner than the service.
 * `throttleBackoff: { baseMs, maxMs, maxAttempts }` (all three) the pauses before an utterance
 * refused with Throttling is retried, `qwenRequestsPerMinute: { model: n }` a raised Qwen quota,
 * `cosyvoiceLimits: { startTimeoutMs, finishTimeoutMs, idleFinishMs }` the client's task clocks,
 * `maxIdleSessions` the idle sessions (CosyVoice and Qwen together) one config node keeps (4).
 * Anything malformed is ignored (the default applies).
 */
export function connectionTuning(settings: Record<string, unknown>): Tuning {
  const raw = settings.ttsConfigConnection;
  const tuning: Tuning = {};
  if (!isRecord(raw)) return tuning;
  for (const key of TUNABLE) {
    const value = raw[key];
    if (isTuningNumber(value)) tuning[key] = value;
  }
  // At least one: a node that may keep no idle session at all would open a spare only to close it.
  if (isTuningNumber(raw.maxIdleSessions) && raw.maxIdleSessions >= 1) tuning.maxIdleSessions = Math.floor(raw.maxIdleSessions);
  const reconnect = reconnectTuning(raw);
  if (reconnect) tuning.reconnect = reconnect;
  const throttle = raw.throttleBackoff;
  if (isRecord(throttle) && THROTTLE_KEYS.every((k) => isTuningNumber(throttle[k]))) {
    tuning.throttleBackoff = { baseMs: throttle.baseMs as number, maxMs: throttle.maxMs as number, maxAttempts: throttle.maxAttempts as number };
  }
  const rpm = raw.qwenRequestsPerMinute;
  if (isRecord(rpm)) {
    const picked: Record<string, number> = {};
    for (const [model, value] of Object.entries(rpm)) if (isTuningNumber(value) && value > 0) picked[model] = value;
    if (Object.keys(picked).length > 0) tuning.qwenRequestsPerMinute = picked;
  }
  const limits = raw.cosyvoiceLimits;
  if (isRecord(limits)) {
    const picked: NonNullable<Tuning['cosyvoiceLimits']> = {};
    for (const key of LIMIT_KEYS) {
      const value = limits[key];
      if (isTuningNumber(value) && value > 0) picked[key] = value;
    }
    if (Object.keys(picked).length > 0) tuning.cosyvoiceLimits = picked;
  }
  return tuning;
}

export const DEFAULT_LIMIT_SHARE = 100;

/**
 * The node's "limit share": the percentage of the account's rate limits this Node-RED may use
 * (1–100; empty = 100). The editor validates it; a flow edited by hand gets a clear warning.
 */
export function parseLimitShare(value: unknown): { share: number; problem?: string } {
  if (value === undefined || value === null || value === '') return { share: DEFAULT_LIMIT_SHARE };
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (Number.isFinite(n) && n >= 1 && n <= 100) return { share: n };
  return { share: DEFAULT_LIMIT_SHARE, problem: `limit share must be a percentage from 1 to 100 (got ${JSON.stringify(value)}): using 100` };
}
