import { BufferMeter } from './buffer-meter';
import { checkLaterChunk, decodeFirstChunk } from './chunk-decoder';
import { CompletionSchedule } from './completion-schedule';
import { DeviceSlot } from './device-slot';
import { PendingAudio } from './pending-audio';
import { AudioInputError, bytesToMs, framesIn, sameFormat, type PcmFormat } from './pcm-format';
import { monotonicNow, PlaybackClock, type Now } from './playback-clock';
import type { BackendName, PcmSink } from './sinks/sink';
import { StallWatch } from './stall-watch';
import { Utterance, type UtteranceCut, type UtteranceReport } from './utterance';

export type { UtteranceCut, UtteranceReport } from './utterance';

export type QueueMode = 'queue' | 'replace' | 'ignore';

export const QUEUE_MODES: readonly QueueMode[] = ['queue', 'replace', 'ignore'];

/** Write sizes. The speaker addon leaks a little native memory per write, so writes are batched. */
export const BATCH_MIN_MS = 40;
export const BATCH_MAX_MS = 100;
/** How long an idle device stays open, so back-to-back utterances do not reopen it. */
export const IDLE_CLOSE_MS = 2000;
/** Slack after the clock says a device is empty before it is closed (a real device may lag a little). */
const DRAIN_MARGIN_MS = 50;
/** Ids of dropped utterances remembered so that their late chunks are dropped too. */
const DROPPED_IDS_KEPT = 256;
/** How long an utterance that holds the queue may receive nothing before it is ended as partial. */
export const STALL_MS = 5000;

/** "2.5 s": milliseconds for messages. */
function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

export interface PlayerOptions {
  gainPercent: number;
  prebufferMs: number;
  queueMode: QueueMode;
  openSink(format: PcmFormat): Promise<PcmSink>;
  /** A sink failed before it ever played: true when another backend was chosen and opening again may work. */
  fallBack?(sink: PcmSink, err: Error): boolean;
  now?: Now;
  idleCloseMs?: number;
  /** An utterance that holds the queue and has received nothing for this long is ended as partial (default STALL_MS). */
  stallMs?: number;
  /**
   * Audio the player may hold, in playing time (see BufferMeter): a new utterance that would pass
   * it is refused, a streaming one is ended where it would pass it.
   */
  maxBufferedMs: number;
  /** Where the user sets that limit, for the error (e.g. "settings.js ttsLimits.speakerBufferSeconds"). */
  bufferLimitSetting?: string;
}

export interface PlayerListener<Meta> {
  /**
   * One report per accepted utterance, when it has been heard to its end, or was cut or dropped.
   * Listeners must not throw: they are called from timers and device callbacks, mid-way through
   * the player's own bookkeeping.
   */
  finished(report: UtteranceReport<Meta>): void;
  warn(text: string): void;
  /** The device failed; the `lost` utterances it held are then reported interrupted, with `error` set. */
  deviceError(err: Error, lost: number): void;
  /** Something a status display shows changed. */
  changed(): void;
}

export interface Chunk<Meta> {
  payload: Buffer;
  /** msg.audio, as the message carried it. */
  audio: unknown;
  /** The last chunk of its utterance. */
  end: boolean;
  /** Set by the source on the last chunk: it stopped the utterance itself. */
  interrupted?: boolean;
  partial?: boolean;
  /** Cut what is playing and play this utterance next. */
  priority?: boolean;
  /** What the report carries (the input message's properties); asked for on an utterance's first chunk only. */
  meta: () => Meta;
}

/**
 * Plays utterances one after another on one device, gap-free.
 *
 * Chunks are grouped by utterance id; an utterance is written only after the previous one has been
 * written completely, so utterances from several sources never interleave. One write is in flight
 * at a time and the next goes out as soon as the device took the previous one, in batches of
 * BATCH_MIN..MAX ms. A starved device first gets `prebufferMs` of audio, so a slow network gives one
 * pause instead of stutter. The next utterance follows in the same write stream (no reopen, no gap)
 * unless its format differs; then the device is closed once it has played out, and reopened.
 *
 * Completion is judged by the playback clock, not by when the device took the bytes: an utterance
 * is reported when its last sample has been heard.
 *
 * Nothing waits forever and nothing grows without bound: an utterance whose end never comes is
 * ended as partial once it holds the queue and has received nothing for `stallMs`, and the audio
 * held is capped at `maxBufferedMs` of playing time.
 */
export class PcmPlayer<Meta> {
  private readonly clock: PlaybackClock;
  private readonly now: Now;
  private readonly device: DeviceSlot;
  /** Not completely written yet, in playing order; the first one is being written. */
  private readonly queue: Utterance<Meta>[] = [];
  /** Completely written, waiting to be heard to the end. */
  private readonly written: CompletionSchedule<Meta>;
  private readonly byId = new Map<string, Utterance<Meta>>();
  /** Ids whose remaining chunks are dropped (refused, ignored, stopped or replaced utterances). */
  private readonly dropped = new Set<string>();
  private inFlight: { utterance: Utterance<Meta>; batch: Buffer } | undefined;
  private readonly buffer: BufferMeter;
  private readonly stall: StallWatch;
  private readonly stallMs: number;
  private closed = false;

  constructor(
    private readonly options: PlayerOptions,
    private readonly listener: PlayerListener<Meta>,
  ) {
    this.now = options.now ?? monotonicNow;
    this.clock = new PlaybackClock(this.now);
    this.buffer = new BufferMeter(options.maxBufferedMs);
    this.stallMs = options.stallMs ?? STALL_MS;
    this.stall = new StallWatch(this.now, () => this.stallDue());
    this.written = new CompletionSchedule(this.now, (heard) => {
      for (const u of heard) this.report(u, { interrupted: u.interrupted, durationMs: u.writtenMs });
      this.pump();
      this.listener.changed();
    });
    this.device = new DeviceSlot(options.openSink, {
      settled: () => {
        this.pump();
        this.listener.changed();
      },
      failed: (err) => this.deviceFailed(err),
    });
  }

  /** Utterances accepted and not yet reported, the one playing included. */
  get pendingCount(): number {
    return this.queue.length + this.written.length;
  }

  /** The backend of the open device, else of the last one. */
  get backend(): BackendName | undefined {
    return this.device.backend;
  }

  /** Playing time of the audio held now (received and not yet heard, see BufferMeter). */
  get bufferedMs(): number {
    return this.buffer.heldMs;
  }

  /**
   * One chunk of utterance `id`. Throws AudioInputError for audio that cannot be played: on the
   * first chunk the whole utterance is refused (its later chunks are dropped silently); a bad
   * later chunk is refused on its own.
   *
   * Throws AudioInputError 'BufferFull' for audio past the buffer limit: a new utterance is refused
   * whole (its later chunks dropped silently); a later chunk ends its utterance there as partial
   * (it plays what arrived; its later chunks are dropped silently).
   */
  push(id: string, chunk: Chunk<Meta>): void {
    if (this.closed) return;
    if (this.dropped.has(id)) {
      if (chunk.end) this.dropped.delete(id);
      return;
    }
    let pcm = chunk.payload;
    let u = this.byId.get(id);
    if (!u) {
      const busy = this.pendingCount > 0;
      if (busy && !chunk.priority && this.options.queueMode === 'ignore') {
        this.listener.warn(`busy: utterance ${id} dropped (queue mode "ignore")`);
        this.drop(id, chunk.end);
        return;
      }
      u = new Utterance(id, chunk.meta(), this.buffer);
      const cutsIn = busy && (chunk.priority === true || this.options.queueMode === 'replace');
      if (pcm.length > 0) {
        try {
          pcm = this.startAudio(u, pcm, chunk.audio);
          // Replace mode lets go of everything else it holds: then the limit is all there is to fit in.
          const room = cutsIn && this.options.queueMode === 'replace' ? this.buffer.limitMs : this.buffer.limitMs - this.buffer.heldMs;
          const ms = u.msOf(pcm.length);
          if (ms > room) throw this.bufferFull(u, ms, 'refused');
        } catch (err) {
          this.drop(id, chunk.end);
          throw err;
        }
      }
      this.byId.set(id, u);
      if (cutsIn) this.cutIn(u);
      else this.queue.push(u);
    } else if (pcm.length > 0) {
      if (u.pending) checkLaterChunk(chunk.audio);
      else pcm = this.startAudio(u, pcm, chunk.audio);
      const ms = u.msOf(pcm.length);
      if (!u.ended && !this.buffer.fits(ms)) {
        const err = this.bufferFull(u, ms, 'ended');
        this.endEarly(u, 'bufferFull', chunk.end);
        this.pump();
        this.listener.changed();
        throw err;
      }
    }
    u.lastChunkAt = this.now();
    if (pcm.length > 0 && u.pending && !u.ended) {
      u.pending.push(pcm);
      u.bytes += pcm.length;
    }
    if (chunk.end) this.endUtterance(u, chunk);
    this.pump();
    this.listener.changed();
  }

  /** msg.stop: silence now and forget everything queued. Each utterance is reported interrupted. */
  stop(): void {
    if (this.closed) return;
    const now = this.now();
    const deviceBusy = this.inFlight !== undefined || this.clock.ahead() > 0;
    const all = [...this.written.takeAll(), ...this.queue.splice(0)];
    for (const u of all) {
      if (!u.ended) this.drop(u.id, false);
      this.report(u, { interrupted: true, durationMs: u.heardMs(now) });
    }
    if (deviceBusy) this.abortDevice();
    this.watchStall();
    this.listener.changed();
  }

  /** Node close: stop everything, release every device, clear every timer. Nothing is reported. */
  async close(): Promise<void> {
    this.closed = true;
    this.stall.cancel();
    this.written.takeAll();
    this.queue.length = 0;
    this.byId.clear();
    this.inFlight = undefined;
    this.buffer.reset();
    await this.device.close();
  }

  /** The first audio of `u` fixes its format; returns its samples (past a WAV header). */
  private startAudio(u: Utterance<Meta>, payload: Buffer, audio: unknown): Buffer {
    const first = decodeFirstChunk(payload, audio);
    u.format = first.format;
    u.pending = new PendingAudio(first.format, this.options.gainPercent, this.buffer);
    return first.pcm;
  }

  private bufferFull(u: Utterance<Meta>, ms: number, outcome: 'refused' | 'ended'): AudioInputError {
    const where = this.options.bufferLimitSetting ? ` (${this.options.bufferLimitSetting})` : '';
    const what = outcome === 'refused' ? `utterance ${u.id} refused` : `utterance ${u.id} ends here and plays what arrived (partial)`;
    return new AudioInputError(
      'BufferFull',
      `audio buffer full: ${seconds(this.buffer.heldMs)} of audio waiting to play and ${seconds(ms)} more would pass the limit of ${seconds(this.buffer.limitMs)}${where}; ${what}`,
    );
  }

  /** The player ends `u` before its end arrived: it plays what it has, and what comes later is dropped. */
  private endEarly(u: Utterance<Meta>, cut: UtteranceCut, lastChunk = false): void {
    u.ended = true;
    u.partial = true;
    u.cut = cut;
    this.drop(u.id, lastChunk);
  }

  /**
   * When the utterance at the head of the queue counts as stalled: `stallMs` after its last chunk,
   * but not before the device has played what it holds (a source may pause between sentences
   * while they play, and until the device runs dry nothing is held up).
   */
  private stallDeadline(u: Utterance<Meta>): number {
    return Math.max(u.lastChunkAt + this.stallMs, this.clock.endsAt);
  }

  /** Only the head can hold the queue, and only until its end has arrived. */
  private watchStall(): void {
    const u = this.queue[0];
    this.stall.watch(u && !u.ended ? this.stallDeadline(u) : undefined);
  }

  private stallDue(): void {
    if (this.closed) return;
    const u = this.queue[0];
    // Timers may fire a fraction of a millisecond early by the monotonic clock.
    if (u && !u.ended && this.now() + 1 >= this.stallDeadline(u)) {
      this.endEarly(u, 'stalled');
      this.listener.warn(`utterance ${u.id} stalled: nothing arrived for ${seconds(this.stallMs)}; it plays what arrived (partial) and the queue goes on`);
    }
    this.pump();
    this.listener.changed();
  }

  private endUtterance(u: Utterance<Meta>, chunk: Chunk<Meta>): void {
    u.ended = true;
    if (chunk.partial) u.partial = true;
    if (!chunk.interrupted) return;
    // The source stopped this utterance: nothing more of it is written, and if it is being heard
    // right now it is cut at once.
    u.interrupted = true;
    u.pending?.clear();
    const now = this.now();
    if (u.heard(now) && now < u.endsAt) this.cutAudible();
  }

  private drop(id: string, ended: boolean): void {
    if (ended) return;
    this.dropped.add(id);
    if (this.dropped.size > DROPPED_IDS_KEPT) this.dropped.delete(this.dropped.values().next().value as string);
  }

  /**
   * `u` plays now. Queue mode (msg.priority): what is heard is cut, what was written after it but not
   * heard yet is written again after `u`. Replace mode: everything else is dropped.
   */
  private cutIn(u: Utterance<Meta>): void {
    if (this.options.queueMode !== 'replace') {
      this.cutAudible();
      this.queue.unshift(u);
      return;
    }
    const now = this.now();
    for (const old of [...this.written.takeAll(), ...this.queue.splice(0)]) {
      if (!old.ended) this.drop(old.id, false);
      this.report(old, { interrupted: true, durationMs: old.heardMs(now) });
    }
    this.queue.push(u);
    this.abortDevice();
  }

  /** Cuts the utterance being heard; those written after it but not heard yet go back to the queue front. */
  private cutAudible(): void {
    const now = this.now();
    // The write in flight is in the device too.
    if (this.inFlight) {
      const { utterance, batch } = this.inFlight;
      utterance.keepUnheard(batch, utterance.msOf(batch.length));
    }
    const inDevice = this.written.takeAll();
    const current = this.queue[0];
    if (current && (current.startsAt !== undefined || this.inFlight?.utterance === current)) inDevice.push(this.queue.shift() as Utterance<Meta>);
    if (inDevice.length === 0) return;
    const again: Utterance<Meta>[] = [];
    for (const old of inDevice) {
      if (old.heard(now)) {
        if (!old.ended) this.drop(old.id, false);
        this.report(old, { interrupted: true, durationMs: old.heardMs(now) });
      } else {
        old.rewind();
        again.push(old);
      }
    }
    this.queue.unshift(...again);
    this.abortDevice();
  }

  /** Drops whatever the device holds; writing resumes on a new device once the old one is released. */
  private abortDevice(): void {
    this.clock.reset();
    this.inFlight = undefined;
    this.device.abort();
  }

  /** Writes what can be written now, and watches the utterance that may hold the queue. */
  private pump(): void {
    this.feedDevice();
    if (!this.closed) this.watchStall();
  }

  private feedDevice(): void {
    if (this.closed || this.inFlight || this.device.busy) return;
    const u = this.queue[0];
    if (!u) {
      if (this.written.length === 0) this.device.retire('idle', this.clock.ahead() + (this.options.idleCloseMs ?? IDLE_CLOSE_MS));
      return;
    }
    this.device.cancelIdleRetire();
    if (!u.pending || !u.format) {
      if (u.ended) this.writtenOut(u);
      return;
    }
    const format = u.format;
    const sink = this.device.current;
    if (sink && !sameFormat(sink.format, format)) {
      this.device.retire('format', this.clock.ahead() + DRAIN_MARGIN_MS);
      return;
    }
    const available = u.pending.writableBytes;
    if (available === 0) {
      if (u.ended) this.writtenOut(u);
      return;
    }
    if (!u.ended) {
      const availableMs = bytesToMs(format, available);
      const ahead = this.clock.ahead();
      // A starved device gets a cushion first; a playing one gets writes worth a native call.
      if (ahead <= 0 && availableMs < this.options.prebufferMs) return;
      if (ahead > 0 && availableMs < BATCH_MIN_MS) return;
    }
    if (!sink) {
      this.device.open(format);
      return;
    }
    this.write(sink, u, u.pending.take(framesIn(format, BATCH_MAX_MS) * u.pending.frame) as Buffer);
  }

  private write(sink: PcmSink, u: Utterance<Meta>, batch: Buffer): void {
    this.inFlight = { utterance: u, batch };
    sink.write(batch, (err) => {
      // The device was aborted meanwhile: whoever aborted it has dealt with this batch.
      if (this.device.current !== sink || this.closed) return;
      this.inFlight = undefined;
      if (err) {
        this.writeFailed(sink, u, batch, err);
        return;
      }
      const ms = bytesToMs(sink.format, batch.length);
      const { startsAt, endsAt } = this.clock.advance(ms);
      u.wrote(batch, ms, startsAt, endsAt, sink.backend, this.now());
      this.pump();
    });
  }

  private writeFailed(sink: PcmSink, u: Utterance<Meta>, batch: Buffer, err: Error): void {
    if (!this.options.fallBack?.(sink, err)) {
      this.deviceFailed(err);
      return;
    }
    // This device never played anything: the same batch goes to the next backend.
    this.listener.warn(`${err.message}; falling back to aplay`);
    u.pending?.requeue([batch]);
    this.device.abort();
  }

  /** The device failed: the utterances it held, and the one being written, are reported with the error. */
  private deviceFailed(err: Error): void {
    const now = this.now();
    const lost = this.written.takeAll();
    const current = this.queue.shift();
    if (current) {
      lost.push(current);
      if (!current.ended) this.drop(current.id, false);
    }
    this.abortDevice();
    this.listener.deviceError(err, lost.length);
    for (const u of lost) this.report(u, { interrupted: true, durationMs: u.heardMs(now), error: err });
    this.pump();
    this.listener.changed();
  }

  /** All of `u` is in the device: it is reported when the clock says it has been heard. */
  private writtenOut(u: Utterance<Meta>): void {
    this.queue.shift();
    if (u.startsAt === undefined) u.endsAt = this.clock.endsAt;
    this.written.add(u);
    this.pump();
  }

  private report(u: Utterance<Meta>, outcome: { interrupted: boolean; durationMs: number; error?: Error }): void {
    u.release();
    this.byId.delete(u.id);
    if (!this.closed) this.listener.finished(u.report(outcome));
  }
}
