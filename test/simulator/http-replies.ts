/** DashScope's JSON envelopes (README §3), over a normal response or a raw upgrade socket. */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { requestId } from './ids';

export interface ErrorBody {
  request_id: string;
  code: string;
  message: string;
}

export function errorBody(code: string, message: string): ErrorBody {
  return { request_id: requestId(), code, message };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

/** Answers an upgrade request with a plain HTTP error, so the client never gets a WebSocket. */
export function rejectUpgrade(socket: Duplex, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(json)}\r\n` +
      'Connection: close\r\n\r\n' +
      json,
  );
}
