/** Just enough RIFF parsing to judge a WAV clone sample's sample rate and duration. */

export interface WavInfo {
  sampleRate: number;
  channels: number;
  durationSeconds: number;
}

export function readWavInfo(buf: Buffer): WavInfo | undefined {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let offset = 12;
  let sampleRate = 0;
  let channels = 0;
  let byteRate = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= buf.length) {
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      byteRate = buf.readUInt32LE(body + 8);
    } else if (id === 'data') {
      if (!sampleRate || !byteRate) return undefined;
      // Streaming headers carry 0xFFFFFFFF: fall back to the bytes actually present.
      const dataBytes = Math.min(size, buf.length - body);
      return { sampleRate, channels, durationSeconds: dataBytes / byteRate };
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}
