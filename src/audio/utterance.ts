import type { PendingAudio } from './pending-audio';
import type { PcmFormat } from './pcm-format';
import type { BackendName } from './sinks/sink';

/** What the player tells about an utterance once: when it was heard to its end, cut, or dropped. */
export interface UtteranceReport<Meta> {
  id: string;
  meta: Meta;
  /** Audio time heard: all of it for a finished utterance, up to the cut for an interrupted one. */
  durationMs: number;
  /** PCM bytes received (after a WAV header was removed, before gain). */
  bytes: number;
  interrupted: boolean;
  /** The source said the utterance is incomplete (synthesis failed midway). */
  partial: boolean;
  format: PcmFormat | undefined;
  backend: BackendName | undefined;
  error?: Error;
}

/** One utterance inside the player: its audio not yet written, and where its written audio sits in time. */
export class Utterance<Meta> {
  format: PcmFormat | undefined;
  pending: PendingAudio | undefined;
  ended = false;
  interrupted = false;
  partial = false;
  bytes = 0;
  writtenMs = 0;
  /** Clock time its first sample plays; undefined until a write of it succeeded. */
  startsAt: number | undefined;
  endsAt = 0;
  /** Batches in the device but not yet heard: written again if something cuts in before they play. */
  unheard: Buffer[] = [];
  backend: BackendName | undefined;

  constructor(
    readonly id: string,
    readonly meta: Meta,
  ) {}

  heard(now: number): boolean {
    return this.startsAt !== undefined && this.startsAt <= now;
  }

  heardMs(now: number): number {
    if (this.startsAt === undefined || now <= this.startsAt) return 0;
    return Math.min(this.writtenMs, now - this.startsAt);
  }

  /** A write of it succeeded: it plays from `startsAt` to `endsAt` on the playback clock. */
  wrote(batch: Buffer, ms: number, startsAt: number, endsAt: number, backend: BackendName, now: number): void {
    if (this.startsAt === undefined) {
      this.startsAt = startsAt;
      this.backend = backend;
    }
    this.endsAt = endsAt;
    this.writtenMs += ms;
    // Keep batches only while they could still have to be written again.
    if (this.heard(now)) this.unheard.length = 0;
    else this.unheard.push(batch);
  }

  /** Forgets that it was written: it will be written again from its first sample. */
  rewind(): void {
    this.pending?.requeue(this.unheard);
    this.unheard = [];
    this.startsAt = undefined;
    this.writtenMs = 0;
    this.endsAt = 0;
  }

  report(outcome: { interrupted: boolean; durationMs: number; error?: Error }): UtteranceReport<Meta> {
    return {
      id: this.id,
      meta: this.meta,
      durationMs: Math.round(outcome.durationMs),
      bytes: this.bytes,
      interrupted: outcome.interrupted,
      partial: this.partial,
      format: this.format,
      backend: this.backend,
      ...(outcome.error ? { error: outcome.error } : {}),
    };
  }
}
