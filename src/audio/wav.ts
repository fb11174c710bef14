import { AudioInputError, checkFormat, type BitDepth, type PcmFormat } from './pcm-format';
import { isRiffWave, readWav } from './wav-info';

export interface WavHeader {
  format: PcmFormat;
  /** Where the sample data starts: 44 for the canonical header DashScope streams. */
  dataOffset: number;
}

export function looksLikeWav(buf: Buffer): boolean {
  return isRiffWave(buf);
}

/**
 * Reads the format of a RIFF/WAVE stream from its first bytes. Streamed WAV (DashScope's) carries
 * 0xFFFFFFFF as RIFF and data sizes, so sizes are not trusted: everything after the `data` chunk
 * header is sample data. Only integer PCM is accepted; the devices are opened for integer samples.
 */
export function parseWavHeader(buf: Buffer): WavHeader {
  if (!isRiffWave(buf)) throw new AudioInputError('InvalidWav', 'not a WAV stream: it does not start with a RIFF/WAVE header');
  const info = readWav(buf);
  if (typeof info === 'string') {
    throw new AudioInputError('InvalidWav', `WAV header is incomplete or invalid (${info}): the first chunk of a WAV stream must hold the whole header`);
  }
  if (!info.isPcm) {
    throw new AudioInputError('UnsupportedWav', `WAV format tag ${info.formatTag} is not supported: only integer PCM can be played (not float or compressed)`);
  }
  const format = checkFormat({ sampleRate: info.sampleRate, channels: info.channels, bitDepth: info.bitsPerSample as BitDepth }, 'WAV header');
  return { format, dataOffset: info.dataOffset };
}
