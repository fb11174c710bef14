/**
 * RIFF/WAVE reading for everything that meets a WAV: what a clone sample is (rate, channels, bit
 * depth, duration), where a design preview's PCM starts, and the header of a streamed WAV that
 * pcm-speaker plays (wav.ts).
 */

export interface WavInfo {
  /** 1 = integer PCM, 3 = float, 0xFFFE = extensible (its sub-format decides). */
  formatTag: number;
  /** Integer PCM, directly or through WAVE_FORMAT_EXTENSIBLE. */
  isPcm: boolean;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Where the samples start, and how many bytes of them are actually present. */
  dataOffset: number;
  dataBytes: number;
  durationSeconds: number;
}

const PCM = 1;
const EXTENSIBLE = 0xfffe;

export function isRiffWave(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.toString('ascii', 0, 4) === 'RIFF' && bytes.toString('ascii', 8, 12) === 'WAVE';
}

/**
 * Reads the fmt and data chunks. Returns a reason (string) instead when the header is not usable.
 * A streamed WAV carries 0xFFFFFFFF (or 0) as its data length: the bytes present count instead.
 */
export function readWav(bytes: Buffer): WavInfo | string {
  if (!isRiffWave(bytes)) return 'not a RIFF/WAVE file';
  let offset = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'durationSeconds'> | undefined;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) return 'its fmt chunk is truncated';
      const formatTag = bytes.readUInt16LE(body);
      // The sub-format GUID starts with the plain format tag (KSDATAFORMAT_SUBTYPE_PCM = 1).
      const subFormat = formatTag === EXTENSIBLE && size >= 40 && body + 26 <= bytes.length ? bytes.readUInt16LE(body + 24) : formatTag;
      fmt = {
        formatTag,
        isPcm: subFormat === PCM,
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        bitsPerSample: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) return 'its data chunk comes before the fmt chunk';
      if (fmt.channels === 0 || fmt.sampleRate === 0 || fmt.bitsPerSample === 0) return 'its fmt chunk is invalid';
      const present = bytes.length - body;
      const dataBytes = size === 0 || size === 0xffffffff ? present : Math.min(size, present);
      const bytesPerSecond = fmt.sampleRate * fmt.channels * Math.ceil(fmt.bitsPerSample / 8);
      return { ...fmt, dataOffset: body, dataBytes, durationSeconds: dataBytes / bytesPerSecond };
    }
    if (size === 0xffffffff) break;
    offset = body + size + (size % 2);
  }
  return fmt ? 'it has no data chunk' : 'it has no fmt chunk';
}
