import { bytesToMs, frameBytes, framesIn } from './pcm-format';
import type { PcmSink } from './sinks/sink';

/**
 * Silence written each time a device opens, before anything else: HDMI and Bluetooth sinks swallow
 * the first few hundred milliseconds after they open, and what they swallow should be nothing.
 * It belongs to no utterance (a cut never rewinds it: a device opened again gets its own), and it
 * is counted on the playback clock like any write, so the times an utterance starts and is heard
 * to its end include it.
 */
export class LeadIn {
  /** The device the lead-in being written is for. */
  private sink: PcmSink | undefined;
  private framesLeft = 0;
  /** One write of silence in the device's format, written as often as needed. */
  private silence: Buffer | undefined;
  /** Lead-in written before the next utterance to start: that utterance's started event tells it. */
  private owed = 0;

  constructor(
    readonly ms: number,
    private readonly maxBatchMs: number,
  ) {}

  /** The next write of silence for `sink`, or undefined once its lead-in is all handed out. */
  next(sink: PcmSink): Buffer | undefined {
    if (this.ms <= 0) return undefined;
    if (sink !== this.sink) this.begin(sink);
    if (this.framesLeft === 0) return undefined;
    const silence = this.silence as Buffer;
    const frame = frameBytes(sink.format);
    const frames = Math.min(this.framesLeft, silence.length / frame);
    this.framesLeft -= frames;
    return frames * frame === silence.length ? silence : silence.subarray(0, frames * frame);
  }

  /** Playing time of the lead-in still to be written before anything else plays on `sink` (undefined: a device must be opened). */
  remainingMs(sink: PcmSink | undefined): number {
    if (this.ms <= 0) return 0;
    if (sink === undefined || sink !== this.sink) return this.ms;
    return bytesToMs(sink.format, this.framesLeft * frameBytes(sink.format));
  }

  /** The lead-in that precedes an utterance starting now (0 when the device was open already). */
  claim(): number {
    const ms = this.owed;
    this.owed = 0;
    return ms;
  }

  private begin(sink: PcmSink): void {
    const { format } = sink;
    this.sink = sink;
    this.framesLeft = framesIn(format, this.ms);
    // 8-bit PCM is unsigned: its silence is the middle value.
    this.silence = Buffer.alloc(Math.min(this.framesLeft, framesIn(format, this.maxBatchMs)) * frameBytes(format), format.bitDepth === 8 ? 0x80 : 0);
    this.owed = this.ms;
  }
}
