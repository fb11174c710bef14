import type { BufferMeter } from './buffer-meter';
import type { PendingAudio } from './pending-audio';
import { bytesToMs, type PcmFormat } from './pcm-format';
import type { BackendName } from './sinks/sink';

export type UtteranceCut = 'stalled' | 'bufferFull';

/** What the player tells about an utterance once: when it was heard to its end, cut, or dropped. */
export interface UtteranceReport<Meta> {
  id: string;
  meta: Meta;
  /** Audio time heard: all of it for a finished utterance, up to the cut for an interrupted one. */
  durationMs: number;
  /** PCM bytes received (after a WAV header was removed, before gain). */
  bytes: number;
  interrupted: boolean;
  /** The source said the utterance is incomplete (synthesis failed midway), or the player ended it early (`cut`). */
  partial: boolean;
  /** Why the player ended it before its end arrived: nothing came for too long, or the buffer was full. */
  cut?: UtteranceCut;
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
  cut: UtteranceCut | undefined;
  /** `now()` when its last chunk arrived: an utterance that blocks the queue and gets nothing more is ended. */
  lastChunkAt = 0;
  bytes = 0;
  writtenMs = 0;
  /** Clock time its first sample plays; undefined until a write of it succeeded. */
  startsAt: number | undefined;
  endsAt = 0;
  /** Batches in the device but not yet heard: written again if something cuts in before they play. */
  private unheard: Buffer[] = [];
  private unheardMs = 0;
  backend: BackendName | undefined;

  constructor(
    readonly id: string,
    readonly meta: Meta,
    /** Counts the unheard batches, which are held as much as the pending audio is. */
    private readonly meter?: BufferMeter,
  ) {}

  /** Playing time of `bytes` of its audio (0 before its format is known). */
  msOf(bytes: number): number {
    return this.format ? bytesToMs(this.format, bytes) : 0;
  }

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
    if (this.heard(now)) this.forgetUnheard();
    else this.keepUnheard(batch, ms);
  }

  /** A batch that is in the device but may have to be written again (the write in flight at a cut). */
  keepUnheard(batch: Buffer, ms: number): void {
    this.unheard.push(batch);
    this.unheardMs += ms;
    this.meter?.add(ms);
  }

  /** Forgets that it was written: it will be written again from its first sample. */
  rewind(): void {
    this.pending?.requeue(this.unheard);
    this.forgetUnheard();
    this.startsAt = undefined;
    this.writtenMs = 0;
    this.endsAt = 0;
  }

  /** It has been reported: the audio it still holds is let go. */
  release(): void {
    this.pending?.clear();
    this.forgetUnheard();
  }

  private forgetUnheard(): void {
    if (this.unheard.length === 0) return;
    this.unheard = [];
    this.meter?.remove(this.unheardMs);
    this.unheardMs = 0;
  }

  report(outcome: { interrupted: boolean; durationMs: number; error?: Error }): UtteranceReport<Meta> {
    return {
      id: this.id,
      meta: this.meta,
      durationMs: Math.round(outcome.durationMs),
      bytes: this.bytes,
      interrupted: outcome.interrupted,
      partial: this.partial,
      ...(this.cut ? { cut: this.cut } : {}),
      format: this.format,
      backend: this.backend,
      ...(outcome.error ? { error: outcome.error } : {}),
    };
  }
}
