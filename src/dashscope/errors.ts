/**
 * Every failure that crosses the protocol layer is a DashScopeError: the service's own code and
 * message, the request id to quote to support, and whether trying again can help. Messages never
 * contain credentials: they are built only from service responses and our own words.
 */
export type ErrorOrigin = 'handshake' | 'network' | 'task' | 'session' | 'http' | 'client' | 'protocol';

export interface DashScopeErrorInit {
  code: string;
  message: string;
  origin: ErrorOrigin;
  retryable: boolean;
  status?: number;
  requestId?: string;
  taskId?: string;
  /** Set when the failure is a WebSocket close: its code and reason decide the class. */
  closeCode?: number;
  closeReason?: string;
  cause?: unknown;
}

export class DashScopeError extends Error {
  readonly code: string;
  readonly origin: ErrorOrigin;
  readonly retryable: boolean;
  readonly status?: number;
  readonly requestId?: string;
  readonly taskId?: string;
  readonly closeCode?: number;
  readonly closeReason?: string;

  constructor(init: DashScopeErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'DashScopeError';
    this.code = init.code;
    this.origin = init.origin;
    this.retryable = init.retryable;
    this.status = init.status;
    this.requestId = init.requestId;
    this.taskId = init.taskId;
    this.closeCode = init.closeCode;
    this.closeReason = init.closeReason;
  }

  /** True for an authentication failure: retrying with the same key can never succeed. */
  get isAuthFailure(): boolean {
    return isAuthFailure(this);
  }
}

/**
 * What kind of failure a code names, and so what the client does about it. One table drives every
 * predicate below (docs/protocol.md "Errors and retries"):
 * - throttling: the account's rate was exceeded; retried after a growing pause.
 * - server: the service failed internally or is unavailable; retried.
 * - transport: the connection or an answer was lost (our own codes); retried.
 * - auth: the key or the workspace is wrong; never retried, the node says "invalid API key".
 * - permission, billing, content, request: the same request would be refused again; never retried.
 */
export type ErrorKind = 'throttling' | 'server' | 'transport' | 'auth' | 'permission' | 'billing' | 'content' | 'request';

export interface ErrorClass {
  kind: ErrorKind;
  retryable: boolean;
  throttling: boolean;
  auth: boolean;
}

const RETRYABLE_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['throttling', 'server', 'transport']);

function classOf(kind: ErrorKind): ErrorClass {
  return { kind, retryable: RETRYABLE_KINDS.has(kind), throttling: kind === 'throttling', auth: kind === 'auth' };
}

/**
 * Service codes (and our own client codes) by exact name: docs/protocol.md "Errors and retries".
 * A code not listed here falls to ERROR_CODE_PREFIXES, then to the HTTP status, else it is not
 * retryable: an unknown refusal repeated is most likely refused again.
 */
export const ERROR_CODES: Readonly<Record<string, ErrorKind>> = {
  // Rate limits (HTTP 429; on a WebSocket as task-failed or error).
  Throttling: 'throttling',
  'Throttling.RateQuota': 'throttling',
  'Throttling.AllocationQuota': 'throttling',
  // Service side.
  InternalError: 'server',
  'InternalError.Timeout': 'server',
  ServiceUnavailable: 'server',
  RequestTimeOut: 'server',
  // Ours: the connection or an answer was lost on the way.
  ConnectionClosed: 'transport',
  ConnectTimeout: 'transport',
  NetworkError: 'transport',
  StartTimeout: 'transport',
  ResponseTimeout: 'transport',
  ProtocolError: 'transport',
  // Qwen: the service ended an idle or over-long session (codes unconfirmed; the OpenAI-realtime
  // names the simulator uses). A new session can say the same text: docs/protocol.md
  // "Unconfirmed points" qwen-idle-timeout, qwen-max-session.
  idle_timeout: 'transport',
  session_expired: 'transport',
  // Identity: the key, its region or its workspace.
  InvalidApiKey: 'auth',
  'NOT AUTHORIZED': 'auth',
  // Allowed in principle, not for this key, model or workspace.
  AccessDenied: 'permission',
  'AccessDenied.Unpurchased': 'permission',
  'Model.AccessDenied': 'permission',
  'Workspace.AccessDenied': 'permission',
  // The account.
  Arrearage: 'billing',
  // The text itself (content inspection): the same text is refused again.
  DataInspectionFailed: 'content',
  // The request: parameters, voice, model, audio sample.
  InvalidParameter: 'request',
  invalid_value: 'request',
  invalid_parameter_error: 'request',
  CLIENT_ERROR: 'request',
  ModelNotFound: 'request',
  VoiceNotFound: 'request',
  'BadRequest.VoiceNotFound': 'request',
  'BadRequest.ResourceNotExist': 'request',
};

/** Families of codes: `Throttling.<anything>` is still a rate limit, `Audio.<anything>` a bad sample. */
export const ERROR_CODE_PREFIXES: readonly (readonly [prefix: string, kind: ErrorKind])[] = [
  ['Throttling.', 'throttling'],
  ['InternalError.', 'server'],
  ['AccessDenied.', 'permission'],
  // A model's quota for this account (`AllocationQuota.FreeTierOnly`: its free quota is used up and
  // the account takes the free tier only): the same request is refused until the account changes.
  ['AllocationQuota.', 'billing'],
  ['Audio.', 'request'],
  ['BadRequest.', 'request'],
];

/** The HTTP status when the code says nothing we know (e.g. a bare `Unknown` for a non-JSON body). */
function kindOfStatus(status: number | undefined): ErrorKind | undefined {
  if (status === undefined) return undefined;
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'throttling';
  if (status >= 500) return 'server';
  if (status >= 400) return 'request';
  return undefined;
}

/**
 * The class of a service or client error code. The code decides when it is known (it is more
 * specific than the status), except that HTTP 401/403 is always an auth failure: the handshake
 * answers a bad key with either, whatever code the body carries.
 */
export function classifyError(code: string, status?: number): ErrorClass {
  if (status === 401 || status === 403) return classOf('auth');
  const exact = Object.prototype.hasOwnProperty.call(ERROR_CODES, code) ? ERROR_CODES[code] : undefined;
  if (exact) return classOf(exact);
  const family = ERROR_CODE_PREFIXES.find(([prefix]) => code.startsWith(prefix));
  if (family) return classOf(family[1]);
  return classOf(kindOfStatus(status) ?? 'request');
}

export function isRetryableCode(code: string, status?: number): boolean {
  return classifyError(code, status).retryable;
}

/**
 * WebSocket close codes (RFC 6455) whose meaning is known. The notes document only 1007 (the
 * service refused a malformed instruction); the rest follow the RFC. Only codes that say "what you
 * sent is wrong" are final: a close the service may use for something else (idle time, restarts)
 * must not lose an utterance (docs/protocol.md "WebSocket close codes").
 */
export const CLOSE_CODES: Readonly<Record<number, ErrorKind>> = {
  1000: 'transport',
  1001: 'transport',
  1003: 'request',
  1005: 'transport',
  1006: 'transport',
  1007: 'request',
  1009: 'request',
  1011: 'server',
  1012: 'server',
  1013: 'throttling',
  1014: 'server',
};

/** A close reason that names a rate limit makes the close a rate limit, whatever its code. */
const THROTTLING_REASON = /throttl|rate ?limit|too many requests/i;

/** The class of a WebSocket close: unknown codes count as a lost connection (retryable). */
export function classifyClose(closeCode: number, reason = ''): ErrorClass {
  if (THROTTLING_REASON.test(reason)) return classOf('throttling');
  return classOf(CLOSE_CODES[closeCode] ?? 'transport');
}

/** A key the service refused: a 401/403, or a code it uses for one. */
export function isAuthFailure(err: unknown): boolean {
  if (!(err instanceof DashScopeError)) return false;
  if (err.status === 401 || err.status === 403) return true;
  return classifyError(err.code, err.status).auth;
}

export function isThrottling(err: DashScopeError): boolean {
  if (err.closeCode !== undefined) return classifyClose(err.closeCode, err.closeReason).throttling;
  return classifyError(err.code, err.status).throttling;
}

/** A handshake refused with 401/403: the only words we use are our own, never the key. */
export function authError(status: number, code: string | undefined, requestId?: string): DashScopeError {
  return new DashScopeError({
    code: code || (status === 401 ? 'InvalidApiKey' : 'AccessDenied'),
    message: `invalid API key (HTTP ${status}): check the key and that it belongs to this region`,
    origin: 'handshake',
    retryable: false,
    status,
    requestId,
  });
}

export function networkError(cause: unknown, what: string): DashScopeError {
  const sysCode = (cause as NodeJS.ErrnoException | undefined)?.code;
  const detail = sysCode ?? (cause instanceof Error ? cause.message : String(cause));
  return new DashScopeError({
    code: 'NetworkError',
    message: `${what}: ${detail}`,
    origin: 'network',
    retryable: true,
    cause,
  });
}

export function timeoutError(code: 'ConnectTimeout' | 'StartTimeout' | 'ResponseTimeout', message: string): DashScopeError {
  return new DashScopeError({ code, message, origin: 'client', retryable: true });
}

/**
 * The connection closed under work in progress. Whether trying again can help depends on the close
 * code (and a reason naming a rate limit): docs/protocol.md "WebSocket close codes".
 */
export function closedError(origin: ErrorOrigin, closeCode: number, detail: string, taskId?: string, reason?: string): DashScopeError {
  const closeReason = reason ? reason.slice(0, 120) : undefined;
  return new DashScopeError({
    code: 'ConnectionClosed',
    message: `${detail} (WebSocket close ${closeCode}${closeReason ? `: ${closeReason}` : ''})`,
    origin,
    retryable: classifyClose(closeCode, closeReason).retryable,
    taskId,
    closeCode,
    closeReason,
  });
}

export function serviceError(
  origin: ErrorOrigin,
  code: string,
  message: string,
  extra: { status?: number; requestId?: string; taskId?: string } = {},
): DashScopeError {
  return new DashScopeError({
    code: code || 'Unknown',
    message: message || code || 'unknown service error',
    origin,
    retryable: isRetryableCode(code, extra.status),
    ...extra,
  });
}
