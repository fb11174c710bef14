import { hasSegmentHeaders, SegmentHeaderStripper } from '../audio/container-header';
import type { AudioFormat } from '../dashscope/cosyvoice';
import type { Message, Utterance } from './utterance';

/** msg.audio: what a player needs to open a device. */
export interface AudioDescriptor {
  format: AudioFormat;
  sampleRate: number;
  channels: 1;
  bitDepth?: 16;
  /** Spoken by the local fallback voice, not the service. */
  fallback?: true;
}

/** What an emitter needs of an utterance: whose properties travel, and where the output goes. */
export type EmitterTarget = Pick<Utterance<unknown>, 'id' | 'base' | 'output'>;

export function describeAudio(format: AudioFormat, sampleRate: number): AudioDescriptor {
  return format === 'pcm' || format === 'wav' ? { format, sampleRate, channels: 1, bitDepth: 16 } : { format, sampleRate, channels: 1 };
}

/** What every finished utterance reports on output 2, whichever service spoke it. */
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

const WAV_HEADER_BYTES = 44;

/** Playing time of the audio bytes received, where the format allows computing it. */
export function durationMs(audio: AudioDescriptor, bytes: number): number | undefined {
  if (audio.format === 'pcm') return (bytes / 2 / audio.sampleRate) * 1000;
  if (audio.format === 'wav') return (Math.max(0, bytes - WAV_HEADER_BYTES) / 2 / audio.sampleRate) * 1000;
  return undefined;
}

/**
 * Turns audio frames into output messages the moment they arrive. Each chunk is the frame's own
 * Buffer (never copied); the input message's properties travel with it; msg.parts lets a core
 * join node rebuild the utterance. The end is only known after the last frame, so the end marker
 * is a final zero-length chunk carrying parts.count.
 *
 * An utterance may be answered in several segments (CosyVoice tasks, Qwen responses), each with
 * its own container header: the engine says where one begins, and the header of every segment
 * after the first is dropped, so the stream carries one header at its start.
 */
export class ChunkEmitter {
  private index = 0;
  private stripper: SegmentHeaderStripper | undefined;
  bytes = 0;
  firstAudioAt: number | undefined;

  constructor(
    private readonly utterance: EmitterTarget,
    readonly audio: AudioDescriptor,
  ) {}

  get chunks(): number {
    return this.index;
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
    if (this.firstAudioAt === undefined) this.firstAudioAt = performance.now();
    this.bytes += payload.length;
    const msg: Message = { ...this.utterance.base, payload, audio: this.audio, parts: { id: this.utterance.id, index: this.index++, type: 'buffer' } };
    this.utterance.output.audio(msg);
  }

  /** The utterance was spoken: end marker, summary on output 2, input messages done. */
  finish(summary: object): void {
    this.end();
    this.utterance.output.event({ ...this.utterance.base, payload: summary });
    this.utterance.output.complete();
  }

  /** The utterance failed: a sequence already begun is closed (marked partial), then the error. */
  fail(err: Error): void {
    if (this.index > 0) this.end({ partial: true });
    this.utterance.output.complete(err);
  }

  /** Stopped on purpose (msg.stop): not an error. */
  interrupt(): void {
    if (this.index > 0) this.end({ interrupted: true });
    this.utterance.output.complete();
  }

  /** Bytes held back to recognise a header in a segment that ended first: they were audio. */
  private flushHeld(): void {
    const held = this.stripper?.flush();
    this.stripper = undefined;
    if (held && held.length > 0) this.emit(held);
  }

  /** Closes the sequence with a zero-length chunk carrying parts.count, so join nodes complete it. */
  private end(extra?: Message): void {
    this.flushHeld();
    const parts = { id: this.utterance.id, index: this.index, type: 'buffer', count: this.index + 1 };
    this.index++;
    this.utterance.output.audio({ ...this.utterance.base, ...extra, payload: Buffer.alloc(0), audio: this.audio, parts });
  }
}
