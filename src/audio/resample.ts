/**
 * Linear-interpolation resampling of 16-bit little-endian mono PCM. Good enough for a fallback
 * voice (espeak-ng's formant speech has little energy near the Nyquist limit) and needs no sox,
 * which users' machines may not have.
 */
export function resampleS16(input: Buffer, fromRate: number, toRate: number): Buffer {
  const inSamples = Math.floor(input.length / 2);
  if (fromRate === toRate || inSamples === 0) return input.subarray(0, inSamples * 2);
  const outSamples = Math.max(1, Math.round((inSamples * toRate) / fromRate));
  const out = Buffer.alloc(outSamples * 2);
  const step = fromRate / toRate;
  for (let i = 0; i < outSamples; i++) {
    const pos = i * step;
    const left = Math.min(Math.floor(pos), inSamples - 1);
    const right = Math.min(left + 1, inSamples - 1);
    const frac = pos - left;
    const a = input.readInt16LE(left * 2);
    const b = input.readInt16LE(right * 2);
    out.writeInt16LE(Math.round(a + (b - a) * frac), i * 2);
  }
  return out;
}

/** The canonical 44-byte header of a mono 16-bit WAV with `dataBytes` of samples. */
export function wavHeader(sampleRate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // integer PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
