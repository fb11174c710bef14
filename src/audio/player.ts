import type { UtteranceOptions, UtteranceStart } from './announcement';
import { BufferMeter } from './buffer-meter';
import { checkLaterChunk, decodeFirstChunk } from './chunk-decoder';
import { DeadlineTimer } from './deadline-timer';
import { DeviceSlot } from './device-slot';
import { DueSchedule } from './due-schedule';
import { LeadIn } from './lead-in';
import { PendingAudio } from './pending-audio';
import { AudioInputError, bytesToMs, framesIn, sameFormat, type PcmFormat } from './pcm-format';
import { monotonicNow, PlaybackClock, type Now } from './playback-clock';
import type { BackendName, PcmSink } from './sinks/sink';
import { Utterance, type UtteranceCut, type UtteranceOutcome, type UtteranceReport } from './utterance';

export type { UtteranceCut, UtteranceReport } from './utterance';
export type { UtteranceOptions, UtteranceStart } from './announcement';

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
  /**
   * A sink failed (in a write, or between writes): true when another backend was chosen for the
   * next device. If nothing of the failed one was heard yet (by the playback clock), the player
   * plays everything it had written there on the next device, from the start, and reports nothing
   * of the failure; else it is a device failure.
   */
  fallBack?(sink: PcmSink, err: Error): boolean;
  now?: Now;
  /** Keep-open: how long a device stays open after the last utterance was heard (default IDLE_CLOSE_MS). */
  idleCloseMs?: number;
  /**
   * Silence written each time a device opens, before anything else (default 0): HDMI and Bluetooth
   * sinks swallow the first few hundred milliseconds after they open.
   */
  leadInMs?: number;
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
  /**
   * The first sample of an utterance (its chime's, if it has one) plays on the device: once per
   * utterance that really plays, before its `finished`. Not for one cut, stopped, replaced, expired
   * or failed before it started. Listeners must not throw (see `finished`).
   */
  started(start: UtteranceStart<Meta>): void;
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
  /**
   * Asked for on an utterance's first chunk only (one closure per chunk, called once): what its
   * reports carry (the input message's properties), and its chime, volume, expiry and request
   * time. A throw refuses the utterance like unplayable audio does.
   */
  first: () => { meta: Meta; options?: UtteranceOptions };
}

/** Dropped unplayed at `now`, its msg.ttl passed. */
function expiredAt(now: number): UtteranceOutcome {
  return { interrupted: false, durationMs: 0, expiredAt: now };
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
 *
 * Announcements (UtteranceOptions, asked for on an utterance's first chunk):
 * - A chime goes in front of its first samples, in the same PendingAudio: scaled, counted,
 *   rewound and written with them, gap-free. It exists in full, so a starved device plays it at
 *   once instead of waiting for `prebufferMs` of speech, and speech keeps arriving meanwhile: the
 *   chime costs no latency.
 * - Each device opened gets `leadInMs` of silence before anything else (LeadIn), counted on the
 *   playback clock; the utterance that follows it says so in its started event.
 * - `started` is told when the clock reaches an utterance's first sample: one timer at a time
 *   for the earliest start (a DueSchedule), or at once when it plays already.
 * - An utterance that has not started is dropped unplayed, reported `expired`, once it could no
 *   longer start by its `expiresAt`: on arrival, when it is about to be written first, and by one
 *   timer for the earliest `expiresAt` among those waiting. One that started is never expired.
 * - Its gain is the player's `gainPercent` × its `volumePercent` / 100.
 * After the last utterance was heard the device stays open `idleCloseMs` (keep-open), then is
 * released for other programs.
 */
export class PcmPlayer<Meta> {
  private readonly clock: PlaybackClock;
  private readonly now: Now;
  private readonly device: DeviceSlot;
  /** Not completely written yet, in playing order; the first one is being written. */
  private readonly queue: Utterance<Meta>[] = [];
  /** Completely written, waiting to be heard to the end. */
  private readonly written: DueSchedule<Utterance<Meta>>;
  /** Written (a batch of each succeeded), waiting for their first sample to play: told `started` then. */
  private readonly starts: DueSchedule<Utterance<Meta>>;
  private readonly byId = new Map<string, Utterance<Meta>>();
  /** Ids whose remaining chunks are dropped (refused, ignored, stopped or replaced utterances). */
  private readonly dropped = new Set<string>();
  /** The write the device has not taken yet: a batch of an utterance, or lead-in silence. */
  private inFlight: { utterance: Utterance<Meta> | undefined; batch: Buffer } | undefined;
  /**
   * The open device and the clock time its first sample of an utterance plays: until then nothing
   * of ours was heard on it, so if it fails another backend may play it all again (fallBack).
   */
  private firstSample: { sink: PcmSink; at: number } | undefined;
  private readonly buffer: BufferMeter;
  private readonly stall: DeadlineTimer;
  private readonly expiry: DeadlineTimer;
  private readonly leadIn: LeadIn;
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
    this.stall = new DeadlineTimer(this.now, () => this.stallDue());
    this.expiry = new DeadlineTimer(this.now, () => this.expiryDue());
    this.leadIn = new LeadIn(options.leadInMs ?? 0, BATCH_MAX_MS);
    this.written = new DueSchedule(
      this.now,
      (u) => u.endsAt,
      (heard) => {
        for (const u of heard) this.report(u, { interrupted: u.interrupted, durationMs: u.writtenMs });
        this.pump();
        this.listener.changed();
      },
    );
    this.starts = new DueSchedule(
      this.now,
      (u) => u.startsAt ?? 0,
      (started) => {
        for (const u of started) this.announce(u);
      },
    );
    this.device = new DeviceSlot(options.openSink, {
      settled: () => {
        this.pump();
        this.listener.changed();
      },
      failed: (err, sink) => (sink ? this.sinkFailed(sink, err) : this.deviceFailed(err)),
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
      const cutsIn = busy && (chunk.priority === true || this.options.queueMode === 'replace');
      try {
        const first = chunk.first();
        u = new Utterance(id, first.meta, this.now(), this.buffer);
        if (first.options) u.configure(first.options);
        if (pcm.length > 0) pcm = this.startAudio(u, pcm, chunk.audio);
        if (u.expiresBy(u.arrivedAt)) {
          this.drop(id, chunk.end);
          this.report(u, expiredAt(u.arrivedAt));
          return;
        }
        if (pcm.length > 0) {
          // Replace mode lets go of everything else it holds: then the limit is all there is to fit in.
          const room = cutsIn && this.options.queueMode === 'replace' ? this.buffer.limitMs : this.buffer.limitMs - this.buffer.heldMs;
          const ms = u.msOf(pcm.length + (u.chimePcm?.length ?? 0));
          if (ms > room) throw this.bufferFull(u, ms, 'refused');
        }
      } catch (err) {
        this.drop(id, chunk.end);
        throw err;
      }
      this.byId.set(id, u);
      if (cutsIn) this.cutIn(u);
      else this.queue.push(u);
      if (u.expiresAt !== undefined) this.expiry.watch(u.expiresAt);
    } else if (pcm.length > 0) {
      if (u.pending) checkLaterChunk(chunk.audio);
      else pcm = this.startAudio(u, pcm, chunk.audio);
      const ms = u.msOf(pcm.length + (u.chimePcm?.length ?? 0));
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
      // Its first samples: the chime goes in front of them (and never in front of a later chunk).
      if (u.chimePcm) this.putChime(u, u.pending, u.chimePcm);
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
    this.expiry.cancel();
    this.listener.changed();
  }

  /** Node close: stop everything, release every device, clear every timer. Nothing is reported. */
  async close(): Promise<void> {
    this.closed = true;
    this.stall.cancel();
    this.expiry.cancel();
    this.starts.takeAll();
    this.written.takeAll();
    this.queue.length = 0;
    this.byId.clear();
    this.inFlight = undefined;
    this.buffer.reset();
    await this.device.close();
  }

  /**
   * The first audio of `u` fixes its format, and so its chime's samples; returns its samples (past
   * a WAV header).
   */
  private startAudio(u: Utterance<Meta>, payload: Buffer, audio: unknown): Buffer {
    const first = decodeFirstChunk(payload, audio);
    u.format = first.format;
    const gain = u.volumePercent === undefined ? this.options.gainPercent : (this.options.gainPercent * u.volumePercent) / 100;
    u.pending = new PendingAudio(first.format, gain, this.buffer);
    if (u.chime) {
      try {
        u.chimePcm = u.chime.pcmFor(first.format);
      } catch (err) {
        // An alert is never silenced by its chime.
        this.listener.warn(`chime ${u.chime.name} cannot be played before utterance ${u.id}: ${(err as Error).message}; it plays without it`);
        u.chime = undefined;
      }
    }
    return first.pcm;
  }

  private putChime(u: Utterance<Meta>, pending: PendingAudio, chime: Buffer): void {
    pending.pushReady(chime);
    u.chimePcm = undefined;
    u.chimeMs = u.msOf(chime.length);
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
    if (this.takeBackFromDevice()) this.abortDevice();
  }

  /**
   * What the device holds comes back: an utterance heard already is reported cut; the others (the
   * write in flight included) go back to the queue front in playing order, to be written again from
   * their first sample, chime included, and told started when that plays. False when the device
   * held no utterance.
   */
  private takeBackFromDevice(): boolean {
    const now = this.now();
    // The write in flight is in the device too.
    if (this.inFlight?.utterance) {
      const { utterance, batch } = this.inFlight;
      utterance.keepUnheard(batch, utterance.msOf(batch.length));
    }
    const inDevice = this.written.takeAll();
    const current = this.queue[0];
    if (current && (current.startsAt !== undefined || this.inFlight?.utterance === current)) inDevice.push(this.queue.shift() as Utterance<Meta>);
    if (inDevice.length === 0) return false;
    const again: Utterance<Meta>[] = [];
    for (const old of inDevice) {
      if (old.heard(now)) {
        if (!old.ended) this.drop(old.id, false);
        this.report(old, { interrupted: true, durationMs: old.heardMs(now) });
      } else {
        // It has not started: it will, later, and is told started then (or expires meanwhile).
        this.starts.remove(old);
        old.rewind();
        again.push(old);
        if (old.expiresAt !== undefined) this.expiry.watch(old.expiresAt);
      }
    }
    this.queue.unshift(...again);
    return true;
  }

  /** Drops whatever the device holds; writing resumes on a new device once the old one is released. */
  private abortDevice(): void {
    this.clock.reset();
    this.inFlight = undefined;
    this.firstSample = undefined;
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
      // Nothing waits to start, so nothing can expire.
      this.expiry.cancel();
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
    if (sink) {
      const silence = this.leadIn.next(sink);
      if (silence) {
        this.write(sink, undefined, silence);
        return;
      }
    }
    const available = u.pending.writableBytes;
    if (available === 0) {
      if (u.ended) this.writtenOut(u);
      return;
    }
    // A chime exists in full: it is written without waiting for more.
    if (!u.ended && u.pending.readyBytes === 0) {
      const availableMs = bytesToMs(format, available);
      const ahead = this.clock.ahead();
      // A starved device gets a cushion first; a playing one gets writes worth a native call.
      if (ahead <= 0 && availableMs < this.options.prebufferMs) return;
      if (ahead > 0 && availableMs < BATCH_MIN_MS) return;
    }
    // About to be written first: when it would start (after a lead-in, if a device must be opened).
    if (u.expiresAt !== undefined && u.expiresBy(Math.max(this.now(), this.clock.endsAt) + this.leadIn.remainingMs(sink))) {
      this.expire(u);
      this.pump();
      this.listener.changed();
      return;
    }
    if (!sink) {
      this.device.open(format);
      return;
    }
    this.write(sink, u, u.pending.take(framesIn(format, BATCH_MAX_MS) * u.pending.frame) as Buffer);
  }

  /** Writes a batch of `u`, or lead-in silence (`u` undefined). */
  private write(sink: PcmSink, u: Utterance<Meta> | undefined, batch: Buffer): void {
    this.inFlight = { utterance: u, batch };
    sink.write(batch, (err) => {
      // The device was aborted meanwhile: whoever aborted it has dealt with this batch.
      if (this.device.current !== sink || this.closed) return;
      if (err) {
        // Still in flight: a hand-over to another backend writes it again.
        this.sinkFailed(sink, err);
        return;
      }
      this.inFlight = undefined;
      const ms = bytesToMs(sink.format, batch.length);
      const { startsAt, endsAt } = this.clock.advance(ms);
      if (u) {
        if (this.firstSample?.sink !== sink) this.firstSample = { sink, at: startsAt };
        const first = u.startsAt === undefined;
        u.wrote(batch, ms, startsAt, endsAt, sink.backend, this.now());
        if (first) this.starting(u);
      }
      this.pump();
    });
  }

  /**
   * The open device failed, in a write or between writes (a child that exited). Before anything
   * of ours was heard on it, the backend selector may choose another backend (fallBack); else it
   * is a device failure.
   */
  private sinkFailed(sink: PcmSink, err: Error): void {
    const heard = this.firstSample?.sink === sink && this.firstSample.at <= this.now();
    // Asked either way, so that the selector leaves a backend that never played for the next
    // device. What the clock says was heard cannot be played again (its batches are let go as
    // they play): it is reported lost. pacat's pipe takes writes before pacat connects, so a
    // server that refuses pacat costs the utterance being heard unless a lead-in covers pacat's
    // connect time.
    const other = this.options.fallBack?.(sink, err) === true;
    if (other && !heard) this.handOver(sink, err);
    else this.deviceFailed(err);
  }

  /**
   * Nothing of what `sink` took was heard: it is all written again on the next backend (the sound
   * server hands over to ALSA, the speaker addon to aplay), like a cut before anything played, and
   * nothing is reported. The next device gets its own lead-in first.
   */
  private handOver(sink: PcmSink, err: Error): void {
    this.listener.warn(`${err.message}; falling back to ${sink.backend === 'pulse' ? 'ALSA' : 'aplay'}`);
    this.takeBackFromDevice();
    this.abortDevice();
    this.pump();
    this.listener.changed();
  }

  /** The first write of `u` succeeded: it is told started when the clock reaches its first sample. */
  private starting(u: Utterance<Meta>): void {
    u.leadInMs = this.leadIn.claim();
    // At once when it plays already and no earlier start waits (starts are told in playing order).
    if (this.starts.length === 0 && (u.startsAt as number) <= this.now()) this.announce(u);
    else this.starts.add(u);
  }

  private announce(u: Utterance<Meta>): void {
    if (!this.closed) this.listener.started(u.start());
  }

  /** The expiry timer: every utterance still waiting to start whose `expiresAt` has come is dropped. */
  private expiryDue(): void {
    if (this.closed) return;
    // Timers may fire a fraction of a millisecond early by the monotonic clock.
    const now = this.now() + 1;
    let next: number | undefined;
    for (const u of [...this.queue]) {
      if (u.expiresAt === undefined || u.startsAt !== undefined || this.inFlight?.utterance === u) continue;
      if (u.expiresAt <= now) this.expire(u);
      else if (next === undefined || u.expiresAt < next) next = u.expiresAt;
    }
    this.expiry.watch(next);
    this.pump();
    this.listener.changed();
  }

  /** `u` has not started and cannot start in time: dropped unplayed, its later chunks too. */
  private expire(u: Utterance<Meta>): void {
    const i = this.queue.indexOf(u);
    if (i >= 0) this.queue.splice(i, 1);
    if (!u.ended) this.drop(u.id, false);
    this.report(u, expiredAt(this.now()));
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

  private report(u: Utterance<Meta>, outcome: UtteranceOutcome): void {
    // A start still waiting for its timer is told first if its first sample has played, else never.
    if (this.starts.remove(u) && u.heard(this.now())) this.announce(u);
    u.release();
    this.byId.delete(u.id);
    if (!this.closed) this.listener.finished(u.report(outcome));
  }
}
