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
  cause?: unknown;
}

export class DashScopeError extends Error {
  readonly code: string;
  readonly origin: ErrorOrigin;
  readonly retryable: boolean;
  readonly status?: number;
  readonly requestId?: string;
  readonly taskId?: string;

  constructor(init: DashScopeErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'DashScopeError';
    this.code = init.code;
    this.origin = init.origin;
    this.retryable = init.retryable;
    this.status = init.status;
    this.requestId = init.requestId;
    this.taskId = init.taskId;
  }

  /** True for an authentication failure: retrying with the same key can never succeed. */
  get isAuthFailure(): boolean {
    return isAuthFailure(this);
  }
}

/** Codes after which the same request may succeed later. */
const RETRYABLE_CODES = new Set([
  'Throttling',
  'Throttling.RateQuota',
  'Throttling.AllocationQuota',
  'InternalError',
  'InternalError.Timeout',
  'ServiceUnavailable',
  'RequestTimeOut',
  'ConnectionClosed',
  'ConnectTimeout',
  'NetworkError',
  'StartTimeout',
  'ResponseTimeout',
]);

export function isRetryableCode(code: string, status?: number): boolean {
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  if (RETRYABLE_CODES.has(code)) return true;
  return code.startsWith('Throttling');
}

/**
 * Auth failure by shape, not by class: each node file is its own bundle, so an error made by the
 * connection manager (in tts-config.js) is not an instance of another bundle's DashScopeError.
 */
export function isAuthFailure(err: unknown): boolean {
  const e = err as Partial<DashScopeError> | undefined;
  return e?.status === 401 || e?.status === 403 || e?.code === 'InvalidApiKey';
}

export function isThrottling(err: DashScopeError): boolean {
  return err.code.startsWith('Throttling') || err.status === 429;
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

export function closedError(origin: ErrorOrigin, closeCode: number, detail: string, taskId?: string): DashScopeError {
  return new DashScopeError({
    code: 'ConnectionClosed',
    message: `${detail} (WebSocket close ${closeCode})`,
    origin,
    retryable: true,
    taskId,
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
