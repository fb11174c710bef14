/**
 * The live check's transcript: a WireTap that turns every event on the wire into one JSON line
 * (transcript-format.ts says what each line holds). Audio is replaced by its length, a hash and
 * its container; every line is redacted (redact.ts) as the last step before it is written.
 */
import { createHash } from 'node:crypto';
import { containerMarkOf } from '../audio/container-header';
import type { HttpTap, SocketTap, WireTap } from '../dashscope/wire-tap';
import type { Finding } from './probe';
import { Redactor } from './redact';
import { frameType, parseBody, serviceOfUrl, type AudioSummary, type Container, type Json, type Service, type TranscriptLine } from './transcript-format';

export interface TranscriptOptions {
  /** Strings that must never be written (the API key): replaced wherever they occur. */
  secrets: readonly string[];
  /** A clock in milliseconds (any origin); default performance.now. `t` counts from the recorder's creation. */
  now?: () => number;
}

/** What a frame starts with: RIFF (wav), an ID3 tag or an MPEG frame sync (mp3), OggS (opus); null otherwise (pcm). */
export function containerOf(data: Buffer): Container {
  return containerMarkOf(data);
}

export function audioSummary(data: Buffer): AudioSummary {
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex').slice(0, 16), container: containerOf(data) };
}

/** A frame as a line holds it: a Qwen delta's base64 audio becomes its summary. */
function frameForLine(service: Service, frame: Json): Json {
  if (service !== 'qwen' || frame === null || typeof frame !== 'object' || Array.isArray(frame)) return frame;
  if (frame.type !== 'response.audio.delta' || typeof frame.delta !== 'string') return frame;
  return { ...frame, delta: { audio: true, ...audioSummary(Buffer.from(frame.delta, 'base64')) } };
}

type Line = TranscriptLine | { [key: string]: Json };

export class TranscriptRecorder implements WireTap {
  private readonly redactor: Redactor;
  private readonly now: () => number;
  private readonly origin: number;
  private readonly startedAt = new Date();
  private nextConn = 1;

  /** `write` gets one line of JSON at a time, without its newline. */
  constructor(
    private readonly write: (line: string) => void,
    options: TranscriptOptions,
  ) {
    this.redactor = new Redactor(options.secrets);
    this.now = options.now ?? (() => performance.now());
    this.origin = this.now();
  }

  /** The first line: what ran, where, when (no secret). The Node version and the start time are added. */
  meta(info: Record<string, string | number | boolean>): void {
    this.emit({ t: 0, kind: 'meta', node: process.version, started: this.startedAt.toISOString(), ...info });
  }

  /** A probe starts or ends. */
  mark(probe: string, phase: 'start' | 'end'): void {
    this.emit({ t: this.elapsed(), kind: 'probe', probe, phase });
  }

  /** What the run concluded about a point (run.ts writes it as it learns it); redacted like every line. */
  finding(f: Finding): void {
    this.emit({ t: this.elapsed(), kind: 'finding', point: f.point, shown: f.shown ?? null, evidence: f.evidence });
  }

  socket(url: string): SocketTap {
    const conn = this.nextConn++;
    const service = serviceOfUrl(url);
    this.emit({ t: this.elapsed(), kind: 'open', conn, service, url });
    const at = (): number => this.elapsed();
    return {
      opened: () => this.emit({ t: at(), kind: 'opened', conn }),
      refused: (status, body) => this.emit({ t: at(), kind: 'refused', conn, status, body: parseBody(body) }),
      failed: (message) => this.emit({ t: at(), kind: 'failed', conn, message }),
      sent: (data) => {
        const frame = parseBody(data);
        this.emit({ t: at(), kind: 'out', conn, type: frameType(service, 'out', frame), frame });
      },
      received: (data, isBinary) => {
        const t = at();
        if (isBinary) {
          this.emit({ t, kind: 'audio', conn, ...audioSummary(data) });
          return;
        }
        const frame = parseBody(data.toString('utf8'));
        this.emit({ t, kind: 'in', conn, type: frameType(service, 'in', frame), frame: frameForLine(service, frame) });
      },
      closing: (code) => this.emit({ t: at(), kind: 'closing', conn, code }),
      closed: (code, reason) => this.emit({ t: at(), kind: 'closed', conn, code, reason }),
    };
  }

  http(method: string, url: string, body: string | undefined): HttpTap {
    const conn = this.nextConn++;
    this.emit({ t: this.elapsed(), kind: 'http', conn, method, url, body: body === undefined ? null : parseBody(body) });
    return {
      replied: (status, text) => this.emit({ t: this.elapsed(), kind: 'http-reply', conn, status, body: parseBody(text) }),
      failed: (message) => this.emit({ t: this.elapsed(), kind: 'http-failed', conn, message }),
    };
  }

  private elapsed(): number {
    return Math.round((this.now() - this.origin) * 10) / 10;
  }

  private emit(line: Line): void {
    this.write(this.redactor.line(line as { [key: string]: Json }));
  }
}
