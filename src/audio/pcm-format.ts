/**
 * Linear PCM as the playback layer understands it: interleaved little-endian integer samples,
 * unsigned for 8 bits and signed for 16, 24 (packed in 3 bytes) and 32 bits, which is what WAV
 * files, DashScope's pcm/wav output, aplay and the speaker addon all agree on.
 */
export type BitDepth = 8 | 16 | 24 | 32;

export interface PcmFormat {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitDepth: BitDepth;
}

/** DashScope's default output: what raw PCM without msg.audio or a WAV header is taken to be. */
export const DEFAULT_PCM_FORMAT: PcmFormat = { sampleRate: 24000, channels: 1, bitDepth: 16 };

export const BIT_DEPTHS: readonly BitDepth[] = [8, 16, 24, 32];

/** Problems with the audio a message carries; `code` reaches catch nodes as msg.error.code. */
export class AudioInputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AudioInputError';
  }
}

export function isBitDepth(value: unknown): value is BitDepth {
  return typeof value === 'number' && (BIT_DEPTHS as readonly number[]).includes(value);
}

/** Bytes per frame: one sample for every channel. Devices only take whole frames. */
export function frameBytes(format: PcmFormat): number {
  return format.channels * (format.bitDepth / 8);
}

export function bytesToMs(format: PcmFormat, bytes: number): number {
  return (bytes / frameBytes(format) / format.sampleRate) * 1000;
}

/** Whole frames that fit in `ms` of audio (at least one). */
export function framesIn(format: PcmFormat, ms: number): number {
  return Math.max(1, Math.floor((ms * format.sampleRate) / 1000));
}

export function sameFormat(a: PcmFormat, b: PcmFormat): boolean {
  return a.sampleRate === b.sampleRate && a.channels === b.channels && a.bitDepth === b.bitDepth;
}

export function describeFormat(f: PcmFormat): string {
  const channels = f.channels === 1 ? 'mono' : f.channels === 2 ? 'stereo' : `${f.channels} ch`;
  return `${f.sampleRate} Hz ${channels} ${f.bitDepth}-bit`;
}

/** Throws AudioInputError unless the numbers describe PCM a device can be opened with. */
export function checkFormat(f: PcmFormat, source: string): PcmFormat {
  if (!Number.isInteger(f.sampleRate) || f.sampleRate < 4000 || f.sampleRate > 384000) {
    throw new AudioInputError('InvalidAudioFormat', `${source}: sample rate must be an integer from 4000 to 384000 Hz (got ${String(f.sampleRate)})`);
  }
  if (!Number.isInteger(f.channels) || f.channels < 1 || f.channels > 8) {
    throw new AudioInputError('InvalidAudioFormat', `${source}: channels must be 1 to 8 (got ${String(f.channels)})`);
  }
  if (!isBitDepth(f.bitDepth)) {
    throw new AudioInputError('InvalidAudioFormat', `${source}: bit depth must be 8, 16, 24 or 32 (got ${String(f.bitDepth)})`);
  }
  return f;
}
