/**
 * Plain HTTP to DashScope's REST side (customization, upload policy): one JSON request, its
 * envelope turned into a result or a DashScopeError (docs/protocol.md "HTTP envelope"). Uses
 * Node's built-in fetch.
 */
import type { Credentials } from './auth';
import { requestHeaders } from './auth';
import type { Endpoints } from './endpoints';
import { DashScopeError, networkError, serviceError, timeoutError } from './errors';
import type { WireTap } from './wire-tap';

/** Where the REST calls go and as whom: what a tts-config node lends the voice nodes. */
export interface HttpAccess {
  readonly endpoints: Pick<Endpoints, 'httpBase' | 'customization'>;
  readonly credentials: Credentials;
}

export interface CallOptions {
  /** Aborts the call (the node was closed). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Records the request and its answer (the live check). */
  tap?: WireTap;
}

export interface JsonReply {
  status: number;
  body: Record<string, unknown>;
  requestId?: string;
}

export interface JsonRequest extends CallOptions {
  method: 'GET' | 'POST';
  url: string;
  credentials: Credentials;
  /** Extra headers, e.g. X-DashScope-OssResourceResolve. */
  headers?: Record<string, string>;
  body?: unknown;
  /** Names the call in error messages ("voice customization", "upload policy"). */
  what: string;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 60_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function stoppedError(): DashScopeError {
  return new DashScopeError({ code: 'Closed', message: 'stopped: the node was closed', origin: 'client', retryable: false });
}

export interface Deadline {
  readonly signal: AbortSignal;
  /** True when the deadline (not the caller) aborted. */
  readonly expired: boolean;
  clear(): void;
}

/**
 * One signal that fires on the caller's abort or after `ms`. Written out rather than
 * AbortSignal.any/timeout so the timer is cleared the moment the call ends (no timer outlives it).
 */
export function deadline(parent: AbortSignal | undefined, ms: number): Deadline {
  const controller = new AbortController();
  let expired = false;
  const onAbort = (): void => controller.abort();
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, ms);
  if (parent?.aborted) controller.abort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    clear: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}

/** A failure envelope, in the service's words; auth failures in ours (never echoing the key). */
export function envelopeError(status: number, body: Record<string, unknown>, what: string): DashScopeError {
  const code = typeof body.code === 'string' && body.code ? body.code : status === 401 ? 'InvalidApiKey' : 'Unknown';
  const requestId = typeof body.request_id === 'string' ? body.request_id : undefined;
  const text = typeof body.message === 'string' ? body.message : typeof body.msg === 'string' ? body.msg : '';
  if (status === 401 || code === 'InvalidApiKey') {
    return new DashScopeError({
      code,
      message: `invalid API key (HTTP ${status}): check the key and that it belongs to this region`,
      origin: 'http',
      retryable: false,
      status,
      requestId,
    });
  }
  return serviceError('http', code, text || `${what} failed with HTTP ${status}`, { status, requestId });
}

/**
 * Sends one request and returns the parsed success body. A non-2xx status, a non-JSON body or a
 * top-level `code` (some endpoints answer 200 with one) is a DashScopeError.
 */
export async function requestJson(req: JsonRequest): Promise<JsonReply> {
  if (req.signal?.aborted) throw stoppedError();
  const headers: Record<string, string> = { ...requestHeaders(req.credentials), Accept: 'application/json; charset=utf-8', ...req.headers };
  let payload: string | undefined;
  if (req.body !== undefined) {
    payload = JSON.stringify(req.body);
    headers['Content-Type'] = 'application/json; charset=utf-8';
  }
  const timeoutMs = req.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const limit = deadline(req.signal, timeoutMs);
  const tap = req.tap?.http(req.method, req.url, payload);
  let status: number;
  let text: string;
  try {
    const res = await fetch(req.url, { method: req.method, headers, body: payload, signal: limit.signal });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const failure = limit.expired
      ? timeoutError('ResponseTimeout', `${req.what}: no answer within ${Math.round(timeoutMs / 1000)} s`)
      : req.signal?.aborted
        ? stoppedError()
        : networkError(err instanceof TypeError && err.cause !== undefined ? err.cause : err, `${req.what}: cannot reach the service`);
    tap?.failed(failure.message);
    throw failure;
  } finally {
    limit.clear();
  }
  tap?.replied(status, text);
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!isRecord(body)) {
    const code = status >= 200 && status < 300 ? 'BadResponse' : 'Unknown';
    throw new DashScopeError({
      code,
      message: `${req.what}: the service answered HTTP ${status} with a body that is not a JSON object`,
      origin: 'protocol',
      retryable: status >= 500,
      status,
    });
  }
  if (status < 200 || status >= 300 || (typeof body.code === 'string' && body.code !== '')) throw envelopeError(status, body, req.what);
  return { status, body, requestId: typeof body.request_id === 'string' ? body.request_id : undefined };
}
