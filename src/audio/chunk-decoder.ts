import { AudioInputError, checkFormat, DEFAULT_PCM_FORMAT, type BitDepth, type PcmFormat } from './pcm-format';
import { looksLikeWav, parseWavHeader } from './wav';

export interface DecodedChunk {
  format: PcmFormat;
  /** The samples: the input Buffer itself, or a view past the WAV header (never a copy). */
  pcm: Buffer;
}

type Descriptor = Record<string, unknown>;

function isDescriptor(value: unknown): value is Descriptor {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Only magic long enough never to be mistaken for the first samples of raw PCM (an MP3 frame sync
// without ID3 tag is two bytes, which raw audio starts with once in 65536 utterances).
const COMPRESSED_MAGIC: [string, Buffer][] = [
  ['mp3', Buffer.from('ID3')],
  ['ogg/opus', Buffer.from('OggS')],
  ['flac', Buffer.from('fLaC')],
];

function compressedError(container: string): AudioInputError {
  return new AudioInputError('UnsupportedAudioFormat', `cannot play ${container} audio: set the synthesis node's format to pcm or wav`);
}

/** The PCM format msg.audio describes; missing fields take DashScope's defaults. */
function formatFromDescriptor(audio: Descriptor): PcmFormat {
  const LABELS: Record<string, string> = { sampleRate: 'sample rate', channels: 'channels', bitDepth: 'bit depth' };
  const num = (name: string, v: unknown, fallback: number): number => {
    if (v === undefined || v === null || v === '') return fallback;
    const n = Number(v);
    // Say what the message held: Number('fast') would otherwise be reported as "NaN".
    if (Number.isNaN(n)) throw new AudioInputError('InvalidAudioFormat', `msg.audio.${name}: ${LABELS[name] ?? name} must be a number (got ${JSON.stringify(v) ?? String(v)})`);
    return n;
  };
  return checkFormat(
    {
      sampleRate: num('sampleRate', audio.sampleRate, DEFAULT_PCM_FORMAT.sampleRate),
      channels: num('channels', audio.channels, DEFAULT_PCM_FORMAT.channels),
      bitDepth: num('bitDepth', audio.bitDepth, DEFAULT_PCM_FORMAT.bitDepth) as BitDepth,
    },
    'msg.audio',
  );
}

/**
 * The first chunk of an utterance decides its format: msg.audio when present (a wav stream's
 * header, which arrives only in this chunk, is read and cut off), else a WAV header in the
 * Buffer, else DashScope's default (24 kHz mono 16-bit). Compressed audio is refused clearly
 * rather than played as noise.
 */
export function decodeFirstChunk(payload: Buffer, audio: unknown): DecodedChunk {
  if (isDescriptor(audio) && audio.format !== undefined) {
    const container = String(audio.format).toLowerCase();
    if (container === 'pcm') return { format: formatFromDescriptor(audio), pcm: payload };
    if (container !== 'wav') throw compressedError(container);
  }
  if (looksLikeWav(payload)) {
    const header = parseWavHeader(payload);
    return { format: header.format, pcm: payload.subarray(header.dataOffset) };
  }
  if (isDescriptor(audio)) return { format: formatFromDescriptor(audio), pcm: payload };
  for (const [container, magic] of COMPRESSED_MAGIC) {
    if (payload.length >= magic.length && payload.subarray(0, magic.length).equals(magic)) throw compressedError(container);
  }
  return { format: DEFAULT_PCM_FORMAT, pcm: payload };
}

/** A later chunk: plain samples (only the container's format could still make it unplayable). */
export function checkLaterChunk(audio: unknown): void {
  if (isDescriptor(audio) && audio.format !== undefined) {
    const container = String(audio.format).toLowerCase();
    if (container !== 'pcm' && container !== 'wav') throw compressedError(container);
  }
}
