import type { Chime, UtteranceOptions, UtteranceStart } from './announcement';
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
  /** Dropped unplayed: it could not start before its `expiresAt` (msg.ttl). Then durationMs is 0. */
  expired?: true;
  /** With `expired`: how many ms past its `expiresAt` it was dropped. */
  lateMs?: number;
  /** Playing time of the chime in front of it (part of durationMs), when it had one. */
  chimeMs?: number;
}

export interface UtteranceOutcome {
  interrupted: boolean;
  durationMs: number;
  error?: Error;
  /** Dropped unplayed at this clock time, past its `expiresAt`. */
  expiredAt?: number;
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
  /** Played before its first sample, once its format is known (UtteranceOptions.chime). */
  chime: Chime | undefined;
  /** The chime's samples in its format, until they are put in front of its first samples. */
  chimePcm: Buffer | undefined;
  /** Playing time of the chime put in front of it. */
  chimeMs: number | undefined;
  volumePercent: number | undefined;
  /** Player-clock times (UtteranceOptions). */
  expiresAt: number | undefined;
  requestedAt: number | undefined;
  /** Lead-in written right before it started (0 when the device was open already). */
  leadInMs = 0;

  constructor(
    readonly id: string,
    readonly meta: Meta,
    /** `now()` when its first chunk arrived. */
    readonly arrivedAt: number,
    /** Counts the unheard batches, which are held as much as the pending audio is. */
    private readonly meter?: BufferMeter,
  ) {}

  configure(options: UtteranceOptions): void {
    this.chime = options.chime;
    this.volumePercent = options.volumePercent;
    this.expiresAt = options.expiresAt;
    this.requestedAt = options.requestedAt;
  }

  /** It has not started and could not start by its `expiresAt` if it started at `start`. */
  expiresBy(start: number): boolean {
    return this.expiresAt !== undefined && this.startsAt === undefined && start > this.expiresAt;
  }

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
    // Not played anywhere yet: the device it is written to next says where (a hand-over changes backend).
    this.backend = undefined;
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

  /** The started event, once a write of it succeeded. */
  start(): UtteranceStart<Meta> {
    const startsAt = this.startsAt ?? this.arrivedAt;
    return {
      id: this.id,
      meta: this.meta,
      queueWaitMs: Math.round(startsAt - this.arrivedAt),
      firstAudioMs: Math.round(startsAt - (this.requestedAt ?? this.arrivedAt)),
      backend: this.backend as BackendName,
      ...(this.chime && this.chimeMs !== undefined ? { chime: { name: this.chime.name, durationMs: Math.round(this.chimeMs) } } : {}),
      leadInMs: this.leadInMs,
    };
  }

  report(outcome: UtteranceOutcome): UtteranceReport<Meta> {
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
      ...(outcome.expiredAt !== undefined ? { expired: true as const, lateMs: Math.max(0, Math.round(outcome.expiredAt - (this.expiresAt ?? outcome.expiredAt))) } : {}),
      ...(this.chimeMs !== undefined && outcome.expiredAt === undefined ? { chimeMs: Math.round(this.chimeMs) } : {}),
    };
  }
}
