import type WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { authError, DashScopeError, networkError, serviceError, timeoutError } from './errors';
import { requestHeaders, type Credentials } from './auth';

let wsModule: typeof WebSocket | undefined;

/**
 * `ws` is loaded when a connection is first needed, not with the node files: a Node-RED that has
 * these nodes installed but no tts-config deployed (or only plays audio) never pays its load time
 * and memory (10–20 ms and about 5 MB on a small machine).
 */
function webSocketClass(): typeof WebSocket {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (wsModule ??= require('ws') as typeof WebSocket);
}

/**
 * Loads `ws` right after the current work (a tts-config being deployed), so that the first
 * utterance, which may come long before any connection was opened ahead, does not wait for it.
 */
export function loadWebSocketSoon(): void {
  if (!wsModule) setImmediate(webSocketClass).unref();
}

export interface OpenOptions {
  connectTimeoutMs: number;
}

const MAX_ERROR_BODY = 4096;

function readErrorBody(res: IncomingMessage): Promise<{ code?: string; message?: string; request_id?: string }> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < MAX_ERROR_BODY) body += chunk;
    });
    const settle = (): void => {
      try {
        const parsed: unknown = JSON.parse(body);
        resolve(parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {});
      } catch {
        resolve({});
      }
    };
    res.on('end', settle);
    res.on('error', settle);
    res.on('aborted', settle);
  });
}

/**
 * Opens a WebSocket with DashScope's headers and resolves once it is open. A refused upgrade
 * becomes a typed error: 401/403 an auth failure (never retried), other statuses by their code.
 * `adopt` runs synchronously on open: a server that speaks first (Qwen's session.created may ride
 * in the same TCP segment as the upgrade) must find its listeners already attached.
 */
export function openSocket(url: string, credentials: Credentials, options: OpenOptions): Promise<WebSocket>;
export function openSocket<T>(url: string, credentials: Credentials, options: OpenOptions, adopt: (ws: WebSocket) => T): Promise<T>;
export function openSocket<T>(
  url: string,
  credentials: Credentials,
  options: OpenOptions,
  adopt?: (ws: WebSocket) => T,
): Promise<T | WebSocket> {
  return new Promise((resolve, reject) => {
    const WebSocketClass = webSocketClass();
    const ws = new WebSocketClass(url, {
      headers: requestHeaders(credentials),
      handshakeTimeout: options.connectTimeoutMs,
      perMessageDeflate: false,
    });
    let settled = false;
    const fail = (err: DashScopeError): void => {
      if (settled) return;
      settled = true;
      ws.removeAllListeners();
      ws.on('error', () => undefined); // a late socket error after terminate must not crash
      ws.terminate();
      reject(err);
    };
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      ws.removeAllListeners('unexpected-response');
      ws.removeAllListeners('error');
      resolve(adopt ? adopt(ws) : ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      void readErrorBody(res).then((body) => {
        if (status === 401 || status === 403) fail(authError(status, body.code, body.request_id));
        else
          fail(
            serviceError('handshake', body.code ?? `HTTP${status}`, body.message ?? `handshake refused with HTTP ${status}`, {
              status,
              requestId: body.request_id,
            }),
          );
      });
    });
    ws.once('error', (err: Error) => {
      if (/timed out/i.test(err.message)) fail(timeoutError('ConnectTimeout', `connection timed out after ${options.connectTimeoutMs} ms`));
      else fail(networkError(err, `cannot connect to ${new URL(url).host}`));
    });
  });
}

/** Parses a text frame; undefined for anything that is not a JSON object. */
export function parseJsonFrame(data: WebSocket.RawData): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(data.toString());
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
