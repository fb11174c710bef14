import type WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { authError, DashScopeError, networkError, serviceError, timeoutError } from './errors';
import { requestHeaders, type Credentials } from './auth';
import type { SocketTap, WireTap } from './wire-tap';

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
  /** Records what crosses this socket (the live check). The speech nodes give none: see watchSocket. */
  tap?: WireTap;
}

const MAX_ERROR_BODY = 4096;

interface ErrorBody {
  /** The body as received (at most MAX_ERROR_BODY characters), for a tap. */
  text: string;
  fields: { code?: string; message?: string; request_id?: string };
}

function readErrorBody(res: IncomingMessage): Promise<ErrorBody> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < MAX_ERROR_BODY) body += chunk;
    });
    const settle = (): void => {
      try {
        const parsed: unknown = JSON.parse(body);
        resolve({ text: body, fields: parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {} });
      } catch {
        resolve({ text: body, fields: {} });
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
    const tap = options.tap?.socket(url);
    const ws = new WebSocketClass(url, {
      headers: requestHeaders(credentials),
      handshakeTimeout: options.connectTimeoutMs,
      perMessageDeflate: false,
    });
    // Before anything else is attached, so the tap hears every frame ahead of the client's own listener.
    if (tap) watchSocket(ws, tap);
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
      if (tap) tap.opened();
      resolve(adopt ? adopt(ws) : ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      void readErrorBody(res).then(({ text, fields: body }) => {
        if (tap && !settled) tap.refused(status, text);
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
      if (tap && !settled) tap.failed(err.message);
      if (/timed out/i.test(err.message)) fail(timeoutError('ConnectTimeout', `connection timed out after ${options.connectTimeoutMs} ms`));
      else fail(networkError(err, `cannot connect to ${new URL(url).host}`));
    });
  });
}

type Send = (data: unknown, ...rest: unknown[]) => void;
type Close = (code?: number, reason?: string | Buffer) => void;

/**
 * Reports one socket's traffic to a tap: frames in (attached first, so ahead of the client),
 * text frames out and the client's own close, by wrapping this one socket's send, close and
 * terminate. Only a socket opened with a tap gets any of this: without one, openSocket attaches
 * the same listeners and the frames take the same path as they always did.
 */
function watchSocket(ws: WebSocket, tap: SocketTap): void {
  const OPEN = ws.OPEN;
  let open = false;
  let closing = false;
  ws.once('open', () => (open = true));
  ws.on('message', (data, isBinary) => tap.received(data as Buffer, isBinary));
  ws.on('close', (code, reason) => {
    if (open) tap.closed(code, reason.toString('utf8'));
  });
  const send = ws.send.bind(ws) as Send;
  ws.send = ((data: unknown, ...rest: unknown[]) => {
    if (typeof data === 'string' && ws.readyState === OPEN) tap.sent(data);
    send(data, ...rest);
  }) as WebSocket['send'];
  // Only a close begun while open is the client's. ws answers the service's close frame by calling
  // this same close() with the frame already received (its `_closeFrameReceived`): not the client's.
  const answering = ws as unknown as { _closeFrameReceived?: boolean };
  const began = (code: number): void => {
    if (closing || ws.readyState !== OPEN || answering._closeFrameReceived === true) return;
    closing = true;
    tap.closing(code);
  };
  const close = ws.close.bind(ws) as Close;
  ws.close = ((code?: number, reason?: string | Buffer) => {
    began(code ?? 1005);
    close(code, reason);
  }) as WebSocket['close'];
  const terminate = ws.terminate.bind(ws);
  ws.terminate = () => {
    began(1006);
    terminate();
  };
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
