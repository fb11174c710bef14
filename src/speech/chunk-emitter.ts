import type { AudioDescriptor } from '../audio/audio-message';
import { hasSegmentHeaders, SegmentHeaderStripper } from '../audio/container-header';
import type { Utterance, UtteranceSummary } from './utterance';

/** What an emitter needs of an utterance: whom to tell. */
export type EmitterTarget = Pick<Utterance<unknown>, 'events'>;

const WAV_HEADER_BYTES = 44;

/** Playing time of the audio bytes received, where the format allows computing it. */
export function durationMs(audio: AudioDescriptor, bytes: number): number | undefined {
  if (audio.format === 'pcm') return (bytes / 2 / audio.sampleRate) * 1000;
  if (audio.format === 'wav') return (Math.max(0, bytes - WAV_HEADER_BYTES) / 2 / audio.sampleRate) * 1000;
  return undefined;
}

/**
 * Passes an engine's audio frames on as utterance events the moment they arrive (each chunk the
 * frame's own Buffer, never copied) and counts what went out: the figures of the summary.
 *
 * An utterance may be answered in several segments (CosyVoice tasks, Qwen responses), each with
 * its own container header: the engine says where one begins, and the header of every segment
 * after the first is dropped, so the stream carries one header at its start.
 */
export class ChunkEmitter {
  private count = 0;
  private stripper: SegmentHeaderStripper | undefined;
  bytes = 0;
  firstAudioAt: number | undefined;

  constructor(
    private readonly utterance: EmitterTarget,
    readonly audio: AudioDescriptor,
  ) {}

  get chunks(): number {
    return this.count;
  }

  /**
   * A new task or response of this utterance begins. Before any audio it is the first segment,
   * whose header stays; after it, a wav or mp3 header at the start of the segment is dropped.
   */
  beginSegment(): void {
    this.flushHeld();
    this.stripper = this.bytes > 0 && hasSegmentHeaders(this.audio.format) ? new SegmentHeaderStripper(this.audio.format) : undefined;
  }

  chunk(payload: Buffer): void {
    if (this.stripper) {
      if (this.stripper.passing) this.stripper = undefined;
      else {
        payload = this.stripper.next(payload);
        if (payload.length === 0) return;
      }
    }
    this.emit(payload);
  }

  private emit(payload: Buffer): void {
    if (this.firstAudioAt === undefined) this.start();
    this.bytes += payload.length;
    this.count++;
    this.utterance.events.audio(payload);
  }

  private start(): void {
    this.firstAudioAt = performance.now();
    this.utterance.events.started(this.audio);
  }

  /** The utterance was spoken. */
  finish(summary: UtteranceSummary): void {
    this.flushHeld();
    // Spoken whole but silent (a local voice given only punctuation): it still starts and ends.
    if (this.firstAudioAt === undefined) this.start();
    this.utterance.events.done(summary);
  }

  /** The utterance failed. */
  fail(err: Error): void {
    this.flushHeld();
    this.utterance.events.failed(err);
  }

  /** Stopped on purpose (msg.stop): not an error. */
  interrupt(): void {
    this.flushHeld();
    this.utterance.events.stopped();
  }

  /** Bytes held back to recognise a header in a segment that ended first: they were audio. */
  private flushHeld(): void {
    const held = this.stripper?.flush();
    this.stripper = undefined;
    if (held && held.length > 0) this.emit(held);
  }
}
