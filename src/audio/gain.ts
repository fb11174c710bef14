import type { BitDepth } from './pcm-format';

/**
 * Software volume. Each sample becomes trunc(sample * percent / 100): truncation toward zero,
 * clamped to the sample range. The rule is exact and documented so that tests (and users) can
 * predict every output sample, e.g. 50 % maps 3 → 1 and -3 → -1.
 *
 * For integer percentages the product is an exact double and a non-integer quotient is at least
 * 1/100 away from the next integer, so floating point never changes the truncated result.
 */
export function scaleSample(sample: number, percent: number, min: number, max: number): number {
  const v = Math.trunc((sample * percent) / 100);
  return v < min ? min : v > max ? max : v;
}

/**
 * Copies whole samples of `src` into `dst` at `offset`, scaled by `percent`. This is the one copy
 * a batch needs anyway (gathering chunks into a device write), so gain costs no extra copy.
 * Returns the number of bytes written.
 */
export function copyWithGain(src: Buffer, dst: Buffer, offset: number, bitDepth: BitDepth, percent: number): number {
  if (percent === 100) return src.copy(dst, offset);
  const n = src.length - (src.length % (bitDepth / 8));
  switch (bitDepth) {
    case 8:
      // 8-bit WAV is unsigned with silence at 128.
      for (let i = 0; i < n; i++) dst[offset + i] = scaleSample((src[i] as number) - 128, percent, -128, 127) + 128;
      break;
    case 16:
      for (let i = 0; i < n; i += 2) dst.writeInt16LE(scaleSample(src.readInt16LE(i), percent, -32768, 32767), offset + i);
      break;
    case 24:
      for (let i = 0; i < n; i += 3) dst.writeIntLE(scaleSample(src.readIntLE(i, 3), percent, -8388608, 8388607), offset + i, 3);
      break;
    case 32:
      for (let i = 0; i < n; i += 4) dst.writeInt32LE(scaleSample(src.readInt32LE(i), percent, -2147483648, 2147483647), offset + i);
      break;
  }
  return n;
}

/** A scaled copy of a whole buffer (tests and one-off uses; the player scales while batching). */
export function applyGain(src: Buffer, bitDepth: BitDepth, percent: number): Buffer {
  const out = Buffer.allocUnsafe(src.length - (src.length % (bitDepth / 8)));
  copyWithGain(src, out, 0, bitDepth, percent);
  return out;
}
