/** Voice-cloning sample files for tests: recorded-file WAVs (real lengths in the header) and look-alikes. */

export interface WavSpec {
  sampleRate?: number;
  seconds?: number;
  channels?: number;
  bitsPerSample?: number;
  /** 1 = PCM, 3 = float. */
  formatTag?: number;
}

/** The 44-byte header of a WAV file with `dataBytes` of samples, the real sizes in it, as a recorder writes it. */
export function wavFileHeader(format: { sampleRate: number; channels: number; bitsPerSample: number; formatTag?: number }, dataBytes: number): Buffer {
  const blockAlign = format.channels * Math.ceil(format.bitsPerSample / 8);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format.formatTag ?? 1, 20);
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(format.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(format.bitsPerSample, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** A WAV file as a recorder writes it: a 44-byte header with the real sizes, then a quiet tone. */
export function wavSample(spec: WavSpec = {}): Buffer {
  const rate = spec.sampleRate ?? 24000;
  const channels = spec.channels ?? 1;
  const bits = spec.bitsPerSample ?? 16;
  const dataBytes = Math.round((spec.seconds ?? 12) * rate) * channels * (bits / 8);
  const data = Buffer.alloc(dataBytes);
  if (bits === 16) for (let i = 0; i + 1 < dataBytes; i += 2) data.writeInt16LE(Math.round(800 * Math.sin(i / 20)), i);
  return Buffer.concat([wavFileHeader({ sampleRate: rate, channels, bitsPerSample: bits, formatTag: spec.formatTag }, dataBytes), data]);
}

/** Starts like an MP3 (ID3 tag, then a frame header); the service, not the client, decodes it. */
export function mp3Sample(bytes = 4096): Buffer {
  const out = Buffer.alloc(bytes);
  Buffer.from([0x49, 0x44, 0x33, 0x04, 0, 0, 0, 0, 0, 0, 0xff, 0xfb, 0x90, 0x64]).copy(out);
  return out;
}

/** Starts like an M4A (an ISO BMFF ftyp box). */
export function m4aSample(bytes = 4096): Buffer {
  const out = Buffer.alloc(bytes);
  out.writeUInt32BE(24, 0);
  out.write('ftypM4A ', 4, 'latin1');
  return out;
}

/** An Ogg file: a format voice cloning does not take. */
export function oggSample(bytes = 4096): Buffer {
  const out = Buffer.alloc(bytes);
  out.write('OggS', 0, 'latin1');
  return out;
}
