/**
 * Refusals that say nothing about the point a probe asks: the user's key refused (a key of the
 * other region, an expired key; docs/protocol.md "Endpoints and regions": a key belongs to one
 * region), the account refused (in arrears, a model it may not use, a wrong workspace), or the
 * account's rate exceeded (docs/protocol.md "CosyVoice: rate limit"; the user's own flows share
 * it). Any of them would otherwise be read as the service's answer to the question.
 *
 * One rule for the whole kit: a refusal is read by its code first, without the HTTP status
 * (`classifyError(code)`), because a 403 carries codes of every class ("Errors and retries": the
 * package itself counts every 403 as auth, which is right for giving up but says nothing about
 * whose refusal it was). The classifiers (probes/classify.ts `speaks`) use the same predicates.
 */
import { classifyClose, classifyError, DashScopeError, type ErrorKind } from '../dashscope/errors';

/** What the kit reads of a refusal: its code and, when it came with them, the status, the origin and the close. */
export type RefusalLike = Pick<DashScopeError, 'code'> & Partial<Pick<DashScopeError, 'status' | 'origin' | 'closeCode' | 'closeReason'>>;

function kindOf(err: RefusalLike): ErrorKind {
  return classifyError(err.code).kind;
}

/**
 * A 403 that names nothing: the service sent no code (`Unknown` over HTTP, http-json.ts), or only
 * the bare `AccessDenied` at a WebSocket upgrade (what socket.ts's authError puts when the body
 * carries no code; the service's own bare `AccessDenied` there reads the same). Before the key was
 * ever accepted it is taken for the key's refusal; after, it cannot be the key's.
 */
function namesNothing(err: RefusalLike): boolean {
  return err.status === 403 && (err.code === 'Unknown' || (err.origin === 'handshake' && err.code === 'AccessDenied'));
}

/**
 * The service refused the key itself: HTTP 401, or a code of the auth class (`InvalidApiKey`);
 * and, while the key has not been accepted yet (`accepted` false, the default: a probe cannot
 * know), a 403 that names nothing. A 403 with any other code (`AccessDenied.Unpurchased`,
 * `AllocationQuota.FreeTierOnly`, `InvalidParameter`, `Model.NotFound`) is about the account, a
 * model or the request, never the key.
 */
export function keyRefused(err: RefusalLike, { accepted = false }: { accepted?: boolean } = {}): boolean {
  if (err.status === 401 || kindOf(err) === 'auth') return true;
  return !accepted && namesNothing(err);
}

export function isKeyRefusal(err: unknown, options: { accepted?: boolean } = {}): err is DashScopeError {
  return err instanceof DashScopeError && keyRefused(err, options);
}

/** Codes that name a model the account cannot have: one it may not use, or one the service does not know. */
const MISSING_MODEL = /^(ModelNotFound|Model\.NotFound|Model\.AccessDenied|InvalidModel)$/i;

/**
 * The account refused: its permissions (`AccessDenied.*`, `Model.AccessDenied`,
 * `Workspace.AccessDenied`), its billing (`Arrearage`, `AllocationQuota.*`), or a model it cannot
 * have. Not the package's business: a probe meeting one on the model it asks with answers nothing.
 */
export function accountRefused(err: RefusalLike): boolean {
  const kind = kindOf(err);
  return kind === 'permission' || kind === 'billing' || MISSING_MODEL.test(err.code);
}

export function isAccountRefusal(err: unknown): err is DashScopeError {
  return err instanceof DashScopeError && accountRefused(err);
}

/**
 * An account refusal of the model a request named, as opposed to the account as a whole (its
 * arrears, its workspace): a permission, a quota of that model (`AllocationQuota.*`), or a model it
 * cannot have. The answer where the question is whether the account may use the model (cv-speaks-*,
 * qwen-speaks-*: "not available to this account").
 */
export function modelUnavailable(err: RefusalLike): boolean {
  return accountRefused(err) && err.code !== 'Arrearage' && err.code !== 'Workspace.AccessDenied';
}

/**
 * A refusal that can be the service's word about a model that does not exist: a permission or a
 * missing model, never a quota or a bill (a made-up model has none). The answer where the question
 * is how a made-up model is refused (cv-bad-model, qwen-unknown-model).
 */
export function modelRefused(err: RefusalLike): boolean {
  return modelUnavailable(err) && kindOf(err) !== 'billing';
}

/** The account is in arrears: nothing more can be learned with it, so the run stops (like a refused key). */
export function isArrears(err: unknown): err is DashScopeError {
  return err instanceof DashScopeError && err.code === 'Arrearage';
}

/** A rate limit (Throttling.*, HTTP 429, a close naming one): outside cv-throttle, "cannot tell (rate-limited)". */
export function rateLimited(err: RefusalLike): boolean {
  // errors.ts isThrottling, on the fields alone: a close is read by its code and reason, anything else by code and status.
  if (err.closeCode !== undefined) return classifyClose(err.closeCode, err.closeReason).throttling;
  return classifyError(err.code, err.status).throttling;
}

export function isRateLimited(err: unknown): boolean {
  return err instanceof DashScopeError && rateLimited(err);
}

function statusAndCode(err: DashScopeError): string {
  return `${err.status !== undefined ? `HTTP ${err.status} ` : ''}${err.code}`;
}

/** The evidence of a point left unanswered because the key was refused. */
export function keyRefusedEvidence(err: DashScopeError): string {
  return `not answered: the key was refused (${statusAndCode(err)})`;
}

/** The evidence of a point left unanswered because the account was refused (`model`: the one asked for, when known). */
export function accountRefusedEvidence(err: DashScopeError, model: string | undefined): string {
  if (err.code === 'Arrearage') return `not answered: the account is in arrears (${statusAndCode(err)})`;
  if (err.code === 'Workspace.AccessDenied') return `not answered: the workspace (DASHSCOPE_WORKSPACE) is not open to this key (${statusAndCode(err)})`;
  return `not answered: this account may not use ${model ?? 'what this asks for'} (${statusAndCode(err)})`;
}

/** Why a run in arrears stopped, and what to do (the account's to fix, as a refused key is). */
export function arrearsMessage(host: string, err: DashScopeError): string {
  return `the account is in arrears at ${host} (${statusAndCode(err)}): top it up in the console, then run the check again`;
}

export const RATE_LIMITED = 'cannot tell (rate-limited)';
