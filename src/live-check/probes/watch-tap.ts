/**
 * A wire tap that passes everything on to the run's transcript and also shows the probe what the
 * service sent, before the client merged or dropped it: where word timestamps travelled
 * (docs/protocol.md "Unconfirmed points" cv-words-in), whether a session.created came before a
 * close (qwen-unknown-model). The client is the package's own; only the looking is the probe's.
 */
import type { HttpTap, SocketTap, WireTap } from '../../dashscope/wire-tap';

/** What a probe wants to see of one socket; every hook is optional. */
export interface SocketWatcher {
  /** A text frame from the service, parsed (frames that are not JSON objects are skipped). */
  event?(frame: Record<string, unknown>): void;
  /** A binary frame from the service. */
  binary?(bytes: number): void;
  closed?(code: number, reason: string): void;
}

function parse(data: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The transcript's tap, with `watcher` told about the next socket opened through it (only that one). */
export function watchNextSocket(inner: WireTap, watcher: SocketWatcher): WireTap {
  let used = false;
  return {
    http: (method: string, url: string, body: string | undefined): HttpTap => inner.http(method, url, body),
    socket: (url: string): SocketTap => {
      const tap = inner.socket(url);
      if (used) return tap;
      used = true;
      return {
        opened: () => tap.opened(),
        refused: (status, body) => tap.refused(status, body),
        failed: (message) => tap.failed(message),
        sent: (data) => tap.sent(data),
        received: (data, isBinary) => {
          tap.received(data, isBinary);
          if (isBinary) watcher.binary?.(data.length);
          else {
            const frame = parse(data);
            if (frame) watcher.event?.(frame);
          }
        },
        closing: (code) => tap.closing(code),
        closed: (code, reason) => {
          tap.closed(code, reason);
          watcher.closed?.(code, reason);
        },
      };
    },
  };
}
