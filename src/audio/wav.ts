import { AudioInputError, checkFormat, type BitDepth, type PcmFormat } from './pcm-format';

export interface WavHeader {
  format: PcmFormat;
  /** Where the sample data starts: 44 for the canonical header DashScope streams. */
  dataOffset: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export function looksLikeWav(buf: Buffer): boolean {
  return buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WAVE';
}

/**
 * Reads the format of a RIFF/WAVE stream from its first bytes. Streamed WAV (DashScope's) carries
 * 0xFFFFFFFF as RIFF and data sizes, so sizes are not trusted: everything after the `data` chunk
 * header is sample data. Only integer PCM is accepted; the devices are opened for integer samples.
 */
export function parseWavHeader(buf: Buffer): WavHeader {
  if (!looksLikeWav(buf)) throw new AudioInputError('InvalidWav', 'not a WAV stream: it does not start with a RIFF/WAVE header');
  let offset = 12;
  let format: PcmFormat | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'data') {
      if (!format) throw new AudioInputError('InvalidWav', 'WAV header has no "fmt " chunk before its data');
      return { format, dataOffset: body };
    }
    if (id === 'fmt ') {
      if (body + 16 > buf.length) break;
      format = readFmt(buf, body, size);
    }
    // RIFF chunks are padded to an even size.
    offset = body + size + (size % 2);
  }
  throw new AudioInputError('InvalidWav', 'WAV header is incomplete: the first chunk of a WAV stream must hold the whole header');
}

function readFmt(buf: Buffer, at: number, size: number): PcmFormat {
  let tag = buf.readUInt16LE(at);
  const channels = buf.readUInt16LE(at + 2);
  const sampleRate = buf.readUInt32LE(at + 4);
  const bitDepth = buf.readUInt16LE(at + 14);
  if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 40 && at + 26 <= buf.length) {
    // The first two bytes of the sub-format GUID are the actual format tag.
    tag = buf.readUInt16LE(at + 24);
  }
  if (tag !== WAVE_FORMAT_PCM) {
    throw new AudioInputError('UnsupportedWav', `WAV format tag ${tag} is not supported: only integer PCM can be played (not float or compressed)`);
  }
  return checkFormat({ sampleRate, channels, bitDepth: bitDepth as BitDepth }, 'WAV header');
}
