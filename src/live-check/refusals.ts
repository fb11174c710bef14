/**
 * Refusals that say nothing about the point a probe asks: the user's key refused (a key of the
 * other region, an expired key; docs/protocol.md "Endpoints and regions": a key belongs to one
 * region), or the account's rate exceeded (docs/protocol.md "CosyVoice: rate limit"; the user's
 * own flows share it). Either would otherwise be read as the service's answer to the question.
 */
import { classifyError, DashScopeError, isThrottling } from '../dashscope/errors';

/**
 * The service refused the key itself (HTTP 401, or a code of the auth class): no probe can learn
 * anything more with it. A 403 is the key's refusal only when its code says nothing more: one that
 * names a permission or the account (`AccessDenied`, `Model.AccessDenied`, `Arrearage`) is about
 * this model or workspace, which a probe reports as such ("Errors and retries").
 */
export function isKeyRefusal(err: unknown): err is DashScopeError {
  if (!(err instanceof DashScopeError)) return false;
  const byCode = classifyError(err.code).kind;
  if (err.status === 401 || byCode === 'auth') return true;
  return err.status === 403 && byCode !== 'permission' && byCode !== 'billing';
}

/** A rate limit (Throttling.*, HTTP 429, a close naming one): outside cv-throttle, "cannot tell (rate-limited)". */
export function isRateLimited(err: unknown): boolean {
  return err instanceof DashScopeError && isThrottling(err);
}

/** The evidence of a point left unanswered because the key was refused. */
export function keyRefusedEvidence(err: DashScopeError): string {
  const status = err.status !== undefined ? `HTTP ${err.status} ` : '';
  return `not answered: the key was refused (${status}${err.code})`;
}

export const RATE_LIMITED = 'cannot tell (rate-limited)';
