/**
 * A deliberately dumb WebSocket/HTTP client for testing the simulator itself (not the project's
 * protocol clients): it records every frame and lets a test wait for the next one that matches.
 */
import http from 'node:http';
import WebSocket, { type RawData } from 'ws';

export interface RawFrame {
  binary: boolean;
  /** Parsed JSON of text frames that are JSON. */
  json?: Record<string, unknown>;
  text?: string;
  data?: Buffer;
}

export interface HandshakeFailure {
  status?: number;
  body?: string;
  error?: Error;
}

function toBuffer(d: RawData): Buffer {
  if (Buffer.isBuffer(d)) return d;
  if (Array.isArray(d)) return Buffer.concat(d);
  return Buffer.from(d);
}

export class RawClient {
  readonly frames: RawFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: RawData, isBinary: boolean) => {
      const buf = toBuffer(d);
      if (isBinary) this.frames.push({ binary: true, data: buf });
      else {
        const text = buf.toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        this.frames.push({ binary: false, text, json });
      }
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      }),
    );
    ws.on('error', () => undefined);
  }

  static open(url: string, headers: Record<string, string> = { Authorization: 'Bearer sk-test-key' }): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new RawClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Expects the handshake to fail and reports how. */
  static refused(url: string, headers: Record<string, string> = { Authorization: 'Bearer sk-test-key' }): Promise<HandshakeFailure> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => {
        ws.terminate();
        resolve({});
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode, body });
          ws.terminate();
        });
      });
      ws.once('error', (error) => resolve({ error }));
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Resolves with the next frame (after the cursor) that `match` accepts; earlier ones are skipped. */
  async next(match: (f: RawFrame) => boolean = () => true, timeoutMs = 3000): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++];
        if (f && match(f)) return f;
      }
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    return this.closed;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export interface HttpReply {
  status: number;
  body: Record<string, unknown>;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = { Authorization: 'Bearer sk-test-key' }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      url,
      { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers }, agent: false },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
