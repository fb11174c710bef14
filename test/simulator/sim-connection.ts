/**
 * One accepted WebSocket: sends and receives frames, records the transcript, keeps the socket
 * counter right, and applies the frame-level faults (malformed frame, drop after N audio frames).
 */
import { WebSocket, type RawData } from 'ws';
import type { FaultQueue, ServiceName } from './faults';
import { malformedFrame } from './malformed';
import type { SimulatorStats } from './stats';
import { binaryEntry, textEntry, type ConnectionTranscript } from './transcript';

export interface ConnectionInfo {
  id: number;
  service: ServiceName;
  url: string;
  headers: Record<string, string | undefined>;
  apiKey: string;
  remote: string;
}

export type ClientFrame = { binary: false; text: string } | { binary: true; data: Buffer };

export interface ConnectionDeps {
  faults: FaultQueue;
  stats: SimulatorStats;
  transcript?: ConnectionTranscript;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class SimConnection {
  readonly closed: Promise<void>;
  private frameBudget: number | undefined;
  private readonly closeHandlers: Array<(code: number) => void> = [];

  constructor(
    private readonly ws: WebSocket,
    readonly info: ConnectionInfo,
    private readonly deps: ConnectionDeps,
  ) {
    deps.stats.openSockets += 1;
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number) => {
        deps.stats.openSockets -= 1;
        if (deps.transcript) deps.transcript.closeCode = code;
        for (const h of this.closeHandlers) h(code);
        resolve();
      });
    });
    // A client vanishing mid-write must not become an unhandled 'error'.
    ws.on('error', () => undefined);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  onFrame(handler: (frame: ClientFrame) => void): void {
    this.ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = toBuffer(data);
      if (isBinary) {
        this.record(binaryEntry('C', buf.length));
        handler({ binary: true, data: buf });
      } else {
        const text = buf.toString('utf8');
        this.record(textEntry('C', text));
        handler({ binary: false, text });
      }
    });
  }

  onClose(handler: (code: number) => void): void {
    this.closeHandlers.push(handler);
  }

  /** Sends a JSON event, unless a malformed-frame fault replaces it with garbage. */
  sendEvent(event: Record<string, unknown>): void {
    if (!this.isOpen) return;
    const fault = this.deps.faults.takeFor('malformed-frame', this.info.service);
    const text = fault ? malformedFrame(event, fault.what, this.info.service) : JSON.stringify(event);
    this.ws.send(text);
    this.record(textEntry('S', text));
  }

  sendBinary(data: Buffer): void {
    if (!this.isOpen) return;
    this.ws.send(data, { binary: true });
    this.record(binaryEntry('S', data.length));
  }

  /**
   * Wraps the emission of one audio frame (CosyVoice: synthesis event + binary; Qwen: one delta)
   * so drop-after-frames can cut the socket right after the Nth frame. Returns false once the
   * connection is gone.
   */
  emitAudioFrame(emit: () => void): boolean {
    if (!this.isOpen) return false;
    if (this.frameBudget === undefined) {
      const fault = this.deps.faults.takeFor('drop-after-frames', this.info.service);
      if (fault) this.frameBudget = Math.max(0, fault.frames);
    }
    if (this.frameBudget === 0) {
      this.terminate();
      return false;
    }
    emit();
    if (this.frameBudget !== undefined) {
      this.frameBudget -= 1;
      if (this.frameBudget === 0) {
        this.terminate();
        return false;
      }
    }
    return this.isOpen;
  }

  close(code: number, reason = ''): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  /** Abrupt end: no close frame, the client sees 1006. */
  terminate(): void {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }

  private record(entry: ReturnType<typeof textEntry>): void {
    this.deps.transcript?.entries.push(entry);
  }
}
