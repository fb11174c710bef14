/**
 * The recorded HTTP exchanges, answered again: a request gets the reply of the first unused
 * recorded request with the same method, path and query (signed query parameters left out: the
 * recording has them redacted). Redacted values in the reply stay redacted: the kit never uses them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpExchange } from './script';

/** Parameters that sign a URL: the transcript replaced them (src/live-check/redact.ts). */
const SIGNED_PARAM = /^(signature|ossaccesskeyid|x-oss-.*|expires|security-token|x-amz-.*)$/i;

export interface RequestShape {
  method: string;
  path: string;
  query: string;
}

export function requestShape(method: string, url: string): RequestShape {
  const parsed = new URL(url.replace('?[redacted]', ''), 'http://replay.local');
  const params = [...parsed.searchParams.entries()].filter(([k]) => !SIGNED_PARAM.test(k)).map(([k, v]) => `${k}=${v}`);
  return { method: method.toUpperCase(), path: parsed.pathname.replace(/\/+$/, ''), query: params.sort().join('&') };
}

/** Same request: the recorded path may carry a custom endpoint's prefix, so one path may end the other. */
export function sameRequest(a: RequestShape, b: RequestShape): boolean {
  return a.method === b.method && a.query === b.query && (a.path === b.path || a.path.endsWith(b.path) || b.path.endsWith(a.path));
}

export function findExchange(exchanges: HttpExchange[], req: IncomingMessage): HttpExchange | undefined {
  const live = requestShape(req.method ?? 'GET', req.url ?? '/');
  return exchanges.find((e) => !e.used && sameRequest(requestShape(e.method, e.url), live));
}

export function sendRecorded(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
