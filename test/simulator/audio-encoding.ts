/**
 * Wraps PCM frames in the requested container. WAV is real (a streaming header whose lengths are
 * "unknown"). MP3 and Opus are PLACEHOLDERS, not decodable audio: deterministic pseudo-frames
 * that only look right at the start ('ID3' / 'OggS'), so tests can compare bytes without a codec.
 */

export type AudioFormat = 'pcm' | 'wav' | 'mp3' | 'opus';

export const AUDIO_FORMATS: readonly AudioFormat[] = ['pcm', 'wav', 'mp3', 'opus'];

export function isAudioFormat(value: unknown): value is AudioFormat {
  return typeof value === 'string' && (AUDIO_FORMATS as readonly string[]).includes(value);
}

/** A streamed WAV cannot know its length, so both size fields carry the "unknown" 0xFFFFFFFF. */
export function wavHeader(sampleRate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(0xffffffff, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(0xffffffff, 40);
  return h;
}

/** Keeps every n-th byte: a stand-in for compression that is still derived from the audio. */
function decimate(pcm: Buffer, stride: number): Buffer {
  const out = Buffer.alloc(Math.ceil(pcm.length / stride));
  for (let i = 0, j = 0; i < pcm.length; i += stride, j++) out[j] = pcm[i] ?? 0;
  return out;
}

const ID3_HEADER = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);

function pseudoMp3(pcm: Buffer, first: boolean): Buffer {
  const frameHeader = Buffer.from([0xff, 0xfb, 0x90, 0x64]);
  const body = decimate(pcm, 8);
  return Buffer.concat(first ? [ID3_HEADER, frameHeader, body] : [frameHeader, body]);
}

function pseudoOpus(pcm: Buffer, sampleRate: number, first: boolean): Buffer {
  const body = decimate(pcm, 12);
  const page = Buffer.alloc(8);
  page.write('OggS', 0, 'ascii');
  page.writeUInt32LE(body.length, 4);
  if (!first) return Buffer.concat([page, body]);
  const head = Buffer.alloc(16);
  head.write('OggS', 0, 'ascii');
  head.write('OpusHead', 4, 'ascii');
  head.writeUInt32LE(sampleRate, 12);
  return Buffer.concat([head, page, body]);
}

/**
 * Encodes one frame. `isFirstFrameOfStream` marks the first frame of a CosyVoice task or of a
 * Qwen response: only that one carries the container header.
 */
export function encodeAudio(pcm: Buffer, format: AudioFormat, sampleRate: number, isFirstFrameOfStream: boolean): Buffer {
  switch (format) {
    case 'pcm':
      return pcm;
    case 'wav':
      return isFirstFrameOfStream ? Buffer.concat([wavHeader(sampleRate), pcm]) : pcm;
    case 'mp3':
      return pseudoMp3(pcm, isFirstFrameOfStream);
    case 'opus':
      return pseudoOpus(pcm, sampleRate, isFirstFrameOfStream);
  }
}
