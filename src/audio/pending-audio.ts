import type { BufferMeter } from './buffer-meter';
import { copyWithGain } from './gain';
import { bytesToMs, frameBytes, type PcmFormat } from './pcm-format';

/**
 * The audio of one utterance that has arrived but is not yet written to the device.
 *
 * Chunks are kept as they came (no copy) and handed out as device writes of whole frames: the
 * speaker addon fails on a partial frame, and a chunk may end mid-frame (the remainder waits for
 * the next chunk). A write that one chunk can fill is that chunk's own bytes; only gathering
 * several chunks, or applying gain, copies, and both happen in the same single copy.
 *
 * Audio that was already written once and must be written again (the utterance was in the device
 * but not yet heard when something cut in) comes back through `requeue` as ready-made batches:
 * it already has the gain applied, so it is the only part never scaled again.
 *
 * A chime comes in through `pushReady`, in front of the utterance's first samples: it is scaled,
 * counted and rewound like them, and `readyBytes` tells the player that it exists in full, so a
 * starved device need not wait for a pre-buffer of speech to start playing it.
 *
 * Every byte that comes or goes is counted on the player's BufferMeter, if it has one.
 */
export class PendingAudio {
  private readonly chunks: Buffer[] = [];
  /** Bytes of chunks[0] already handed out. */
  private head = 0;
  private queued = 0;
  /** Leading bytes that are already scaled (requeued batches). Always whole frames. */
  private prepared = 0;
  /** Bytes of the utterance handed out and not given back: where the next `take` starts in it. */
  private position = 0;
  /** Where the audio pushed with `pushReady` ends in the utterance, in bytes. */
  private readyEnd = 0;
  readonly frame: number;
  private readonly msPerByte: number;

  constructor(
    readonly format: PcmFormat,
    private readonly gainPercent: number,
    private readonly meter?: BufferMeter,
  ) {
    this.frame = frameBytes(format);
    this.msPerByte = bytesToMs(format, 1);
  }

  get bytes(): number {
    return this.queued;
  }

  /** Bytes that form whole frames, i.e. what can be written now. */
  get writableBytes(): number {
    return this.queued - (this.queued % this.frame);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.queued += chunk.length;
    this.meter?.add(chunk.length * this.msPerByte);
  }

  /** Audio that exists in full (a chime), pushed before anything else of the utterance. */
  pushReady(audio: Buffer): void {
    this.push(audio);
    this.readyEnd = this.position + this.queued;
  }

  /** Bytes of `pushReady` audio not handed out yet: they may be written without waiting for more. */
  get readyBytes(): number {
    return this.readyEnd > this.position ? this.readyEnd - this.position : 0;
  }

  /** Puts already written (and scaled) batches back in front, in their original order. */
  requeue(batches: readonly Buffer[]): void {
    if (batches.length === 0) return;
    if (this.head > 0) {
      this.chunks[0] = (this.chunks[0] as Buffer).subarray(this.head);
      this.head = 0;
    }
    let bytes = 0;
    for (const b of batches) bytes += b.length;
    this.chunks.unshift(...batches);
    this.queued += bytes;
    this.prepared += bytes;
    this.position -= bytes;
    this.meter?.add(bytes * this.msPerByte);
  }

  /** Up to `maxBytes` (rounded down to whole frames) of scaled audio, or undefined if not a frame is there. */
  take(maxBytes: number): Buffer | undefined {
    const n = Math.min(this.writableBytes, maxBytes - (maxBytes % this.frame));
    if (n <= 0) return undefined;
    this.meter?.remove(n * this.msPerByte);
    this.position += n;
    const first = this.chunks[0] as Buffer;
    const scaled = Math.min(this.prepared, n);
    this.prepared -= scaled;
    let out: Buffer;
    if (first.length - this.head >= n) {
      const piece = first.subarray(this.head, this.head + n);
      this.advance(n);
      if (this.gainPercent === 100 || scaled === n) return piece;
      out = Buffer.allocUnsafe(n);
      if (scaled === 0) {
        copyWithGain(piece, out, 0, this.format.bitDepth, this.gainPercent);
        return out;
      }
      piece.copy(out);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[0] as Buffer;
        const copied = chunk.copy(out, filled, this.head, Math.min(chunk.length, this.head + (n - filled)));
        filled += copied;
        this.advance(copied);
      }
    }
    if (this.gainPercent !== 100 && scaled < n) {
      // In place: every sample is read before it is written, at the same offset.
      const rest = out.subarray(scaled);
      copyWithGain(rest, rest, 0, this.format.bitDepth, this.gainPercent);
    }
    return out;
  }

  clear(): void {
    this.meter?.remove(this.queued * this.msPerByte);
    this.chunks.length = 0;
    this.head = 0;
    this.queued = 0;
    this.prepared = 0;
  }

  private advance(n: number): void {
    this.queued -= n;
    this.head += n;
    const first = this.chunks[0];
    if (first && this.head >= first.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
