import type { PcmFormat } from '../pcm-format';

export type BackendName = 'speaker' | 'aplay' | 'pulse';

/**
 * An open audio device in one PCM format. The player keeps at most one write in flight, so a
 * sink never queues audio of its own: what is not yet written can still be dropped for free.
 */
export interface PcmSink {
  readonly backend: BackendName;
  readonly format: PcmFormat;
  /** True once a write has succeeded: for speaker the device really opened; for aplay the pipe took it. */
  readonly opened: boolean;
  /** Hands whole frames to the device; `cb` runs when the device (or the pipe to it) took them. */
  write(batch: Buffer, cb: (err?: Error) => void): void;
  /** Stops at once, dropping what the device still holds; resolves when the device is released. */
  abort(): Promise<void>;
  /** Releases the device after what was written has played. Call it only once the playback clock says so. */
  finish(): Promise<void>;
  /** A failure outside a write (the aplay child died); called at most once. */
  onFailure(listener: (err: Error) => void): void;
}

export type DeviceErrorCode = 'BackendUnavailable' | 'DeviceOpenFailed' | 'DeviceFailed';

export class DeviceError extends Error {
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DeviceError';
  }
}

export function deviceLabel(device: string): string {
  return device === '' ? 'default' : device;
}
