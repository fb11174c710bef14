import { performance } from 'node:perf_hooks';
import type { AudioDescriptor } from '../audio/audio-message';

/**
 * What every finished utterance reports, whichever service (or the cache, or the local voice) spoke
 * it; each engine's summary adds its own figures (characters billed, request ids, timestamps…).
 */
export interface UtteranceSummary {
  text: string;
  model: string;
  voice: string;
  format: string;
  sampleRate: number;
  bytes: number;
  durationMs?: number;
  timeToFirstAudioMs?: number;
}

/**
 * Output 2 of an utterance that was never spoken: its msg.ttl passed while it waited in the node's
 * queue, so it was not sent to the service (nothing billed, no audio).
 */
export interface ExpiredSummary extends UtteranceSummary {
  expired: true;
  bytes: 0;
  durationMs: 0;
  characters: 0;
  /** msg.ttl, in seconds, as the message gave it. */
  ttl: number;
  /** How long it waited in the queue before its turn came. */
  waitedMs: number;
}

/**
 * What happens to an utterance, in order: `started` once before its first chunk, `audio` for each
 * chunk, then exactly one of `done`, `failed` or `stopped`. The node adapter turns these into
 * messages; the phrase cache and the fallback voice sit between an engine and the adapter and
 * both hear and tell the same events.
 */
export interface UtteranceEvents {
  /** Its audio begins, in this format. An utterance that fails before any audio never starts. */
  started(audio: AudioDescriptor): void;
  /** One chunk of audio: the frame's own Buffer, never copied. */
  audio(chunk: Buffer): void;
  /** Spoken whole. */
  done(summary: UtteranceSummary): void;
  /** Not spoken whole: the service (or anything on the way) failed it. */
  failed(err: Error): void;
  /** Stopped on purpose (msg.stop, a dropped queue, a redeploy): not an error. */
  stopped(): void;
}

export interface TextListener {
  onText(text: string): void;
  onEnd(): void;
}

/** One thing to say: its text (all at once, or streamed in pieces) and the settings to say it with. */
export class Utterance<Settings> {
  readonly receivedAt = performance.now();
  private readonly pieces: string[] = [];
  private closed = false;
  private listener: TextListener | undefined;

  /**
   * performance.now() time after which it is no longer worth saying (msg.ttl): the queue drops it
   * unsaid if its turn comes later. Undefined: it never expires.
   */
  readonly expiresAt: number | undefined;

  constructor(
    readonly settings: Settings,
    /** Not readonly: the phrase cache and the fallback voice wrap it to hear what the engine says. */
    public events: UtteranceEvents,
    /** How long after it was received it is still worth saying (msg.ttl, in milliseconds). */
    readonly ttlMs?: number,
  ) {
    this.expiresAt = ttlMs === undefined ? undefined : this.receivedAt + ttlMs;
  }

  get ended(): boolean {
    return this.closed;
  }

  get text(): string {
    return this.pieces.join('');
  }

  append(text: string): void {
    if (this.closed || text.length === 0) return;
    this.pieces.push(text);
    this.listener?.onText(text);
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener?.onEnd();
  }

  /** The engine that speaks this utterance receives the text so far at once, then each new piece. */
  attach(listener: TextListener): void {
    this.listener = listener;
    for (const piece of this.pieces) listener.onText(piece);
    if (this.closed) listener.onEnd();
  }

  detach(): void {
    this.listener = undefined;
  }
}
