import type { PcmFormat } from '../pcm-format';
import type { SpeakerConstructor, SpeakerStream } from '../speaker-addon';
import { DeviceError, deviceLabel, type PcmSink } from './sink';

/**
 * Plays through the `speaker` addon (ALSA via mpg123's output module), working around its faults:
 *
 * - Each native write leaks its async-work handle, so the player writes batches of tens of
 *   milliseconds, and `samplesPerFrame` is set so that one batch is one native write (speaker
 *   would otherwise split it into 1024-frame writes).
 * - `end()` drains synchronously on the main thread, and closing while a native write runs in the
 *   thread pool can crash. So `end()` is never called: abort waits for the write in flight, then
 *   `close(true)` drops the device buffer; finish uses `close(false)` only once the playback clock
 *   says the buffer is empty, so the drain inside returns at once.
 * - `close` is emitted twice (close() and autoDestroy) and errors come both as the write callback
 *   and as an 'error' event: neither event drives anything here, each write settles exactly once.
 */
export class SpeakerSink implements PcmSink {
  readonly backend = 'speaker';
  private readonly speaker: SpeakerStream;
  private writing: ((err?: Error) => void) | undefined;
  private afterWrite: (() => void) | undefined;
  private closed = false;
  private failureListener: ((err: Error) => void) | undefined;
  private failed: Error | undefined;
  private failureReported = false;
  opened = false;

  constructor(
    Ctor: SpeakerConstructor,
    readonly format: PcmFormat,
    private readonly device: string,
    maxBatchFrames: number,
  ) {
    this.speaker = new Ctor({
      channels: format.channels,
      bitDepth: format.bitDepth,
      sampleRate: format.sampleRate,
      signed: format.bitDepth !== 8,
      samplesPerFrame: maxBatchFrames,
      ...(device ? { device } : {}),
    });
    this.speaker.on('error', (err: Error) => this.settle(err));
  }

  write(batch: Buffer, cb: (err?: Error) => void): void {
    if (this.closed || this.failed) {
      cb(this.failed ?? new DeviceError('DeviceFailed', 'the speaker device is closed'));
      return;
    }
    this.writing = cb;
    this.speaker.write(batch, (err?: Error | null) => this.settle(err ?? undefined));
  }

  abort(): Promise<void> {
    return this.closeAfterWrite(true);
  }

  finish(): Promise<void> {
    return this.closeAfterWrite(false);
  }

  onFailure(listener: (err: Error) => void): void {
    this.failureListener = listener;
  }

  private settle(err: Error | undefined): void {
    if (err && !this.failed) {
      this.failed = this.describe(err);
      // The stream is destroyed after an error; release the native handle too (no write is running).
      this.close(true);
    }
    const cb = this.writing;
    if (!cb) {
      // An error outside a write, or the second report of one already given to its write callback.
      if (err && !this.failureReported) {
        this.failureReported = true;
        this.failureListener?.(this.failed as Error);
      }
      return;
    }
    this.writing = undefined;
    if (err) this.failureReported = true;
    else this.opened = true;
    const next = this.afterWrite;
    this.afterWrite = undefined;
    cb(err ? this.failed : undefined);
    next?.();
  }

  private describe(err: Error): DeviceError {
    const where = `ALSA device "${deviceLabel(this.device)}"`;
    if (/open/i.test(err.message)) return new DeviceError('DeviceOpenFailed', `speaker could not open ${where}: ${err.message}`);
    return new DeviceError('DeviceFailed', `speaker failed on ${where}: ${err.message}`);
  }

  private closeAfterWrite(drop: boolean): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.writing) {
      return new Promise((resolve) => {
        const previous = this.afterWrite;
        this.afterWrite = () => {
          previous?.();
          this.close(drop);
          resolve();
        };
      });
    }
    this.close(drop);
    return Promise.resolve();
  }

  private close(drop: boolean): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.speaker.close(drop);
    } catch {
      // The native close reports failures of a device that is going away anyway.
    }
  }
}
