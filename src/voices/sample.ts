/**
 * Checks a voice-cloning sample before anything is uploaded or billed: the format is sniffed from
 * the bytes (never trusted from a name or a MIME type), then size, and for WAV the bit depth,
 * sample rate, channels and duration against the family's rules (docs/protocol.md "Custom voices:
 * clone samples"). MP3 and M4A are not decoded here; the service checks their insides.
 */
import { DashScopeError } from '../dashscope/errors';
import type { VoiceFamily } from '../dashscope/voice-services';
import { sampleRulesOf } from './rules';
import { isRiffWave, readWav, type WavInfo } from '../audio/wav-info';

export type SampleFormat = 'wav' | 'mp3' | 'm4a';

export const SAMPLE_MIME: Record<SampleFormat, string> = { wav: 'audio/wav', mp3: 'audio/mpeg', m4a: 'audio/mp4' };

export interface VoiceSample {
  bytes: Buffer;
  format: SampleFormat;
  mime: string;
  /** Present for WAV samples. */
  wav?: WavInfo;
}

export function invalidSample(problem: string): DashScopeError {
  return new DashScopeError({ code: 'InvalidSample', message: `voice sample refused (nothing was sent): ${problem}`, origin: 'client', retryable: false });
}

function ascii(bytes: Buffer, start: number, end: number): string {
  return bytes.length >= end ? bytes.toString('latin1', start, end) : '';
}

/** MPEG audio frame sync with a valid version and layer III/II/I (layer 00 would be AAC's ADTS). */
function isMpegFrame(bytes: Buffer): boolean {
  const b0 = bytes[0] ?? 0;
  const b1 = bytes[1] ?? 0;
  return b0 === 0xff && (b1 & 0xe0) === 0xe0 && ((b1 >> 3) & 3) !== 1 && ((b1 >> 1) & 3) !== 0;
}

/** The sample's format, or a name for what it is instead (for the error message). */
export function sniffSample(bytes: Buffer): { format: SampleFormat } | { other: string } {
  if (isRiffWave(bytes)) return { format: 'wav' };
  if (ascii(bytes, 0, 3) === 'ID3' || isMpegFrame(bytes)) return { format: 'mp3' };
  if (ascii(bytes, 4, 8) === 'ftyp') return { format: 'm4a' };
  if (ascii(bytes, 0, 4) === 'OggS') return { other: 'Ogg (Opus or Vorbis)' };
  if (ascii(bytes, 0, 4) === 'fLaC') return { other: 'FLAC' };
  if (ascii(bytes, 0, 5) === '#!AMR') return { other: 'AMR' };
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x1a45dfa3) return { other: 'WebM/Matroska' };
  if (ascii(bytes, 0, 4) === 'FORM' && ascii(bytes, 8, 12).startsWith('AIF')) return { other: 'AIFF' };
  if (ascii(bytes, 0, 4) === 'RIFF') return { other: `RIFF ${ascii(bytes, 8, 12).trim() || '(truncated)'} (not WAVE)` };
  if ((bytes[0] ?? 0) === 0xff && ((bytes[1] ?? 0) & 0xf6) === 0xf0) return { other: 'raw AAC (ADTS)' };
  return { other: 'not a recognisable audio file' };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Length of the data URI that carries `bytes` of `mime`. */
export function dataUriLength(bytes: number, mime: string): number {
  return `data:${mime};base64,`.length + 4 * Math.ceil(bytes / 3);
}

/** The largest file worth reading at all (a stat check before loading a path into memory). */
export function maxSampleFileBytes(family: VoiceFamily): number {
  return sampleRulesOf(family).maxBytes;
}

function checkWav(wav: WavInfo, family: VoiceFamily): void {
  const rules = sampleRulesOf(family);
  if (!wav.isPcm) throw invalidSample(`the WAV holds ${wav.formatTag === 3 ? 'floating-point' : 'compressed'} audio; voice cloning takes 16-bit PCM WAV`);
  if (wav.bitsPerSample !== 16) throw invalidSample(`the WAV is ${wav.bitsPerSample}-bit; voice cloning takes 16-bit PCM WAV`);
  if (wav.sampleRate < rules.minSampleRate) {
    throw invalidSample(`the sample rate is ${wav.sampleRate} Hz; ${family === 'qwen' ? 'Qwen' : 'CosyVoice'} cloning needs at least ${rules.minSampleRate} Hz`);
  }
  if (wav.channels > rules.maxChannels) {
    throw invalidSample(`the WAV has ${wav.channels} channels; ${family === 'qwen' ? 'Qwen cloning takes mono only' : 'CosyVoice takes mono or stereo'}`);
  }
  if (wav.dataBytes === 0) throw invalidSample('the WAV contains no audio samples');
  const seconds = wav.durationSeconds;
  if (seconds > rules.maxSeconds) throw invalidSample(`the sample is ${seconds.toFixed(1)} s long; the limit is ${rules.maxSeconds} s (10 to 20 s works best)`);
  if (seconds < rules.minSeconds) {
    throw invalidSample(`the sample is only ${seconds.toFixed(1)} s long; it needs at least ${rules.minSeconds} s of continuous speech (10 to 20 s works best)`);
  }
}

/** Throws InvalidSample naming what is wrong; returns the sample with its format and MIME type. */
export function inspectSample(bytes: Buffer, family: VoiceFamily): VoiceSample {
  if (bytes.length === 0) throw invalidSample('the sample is empty (0 bytes)');
  const sniffed = sniffSample(bytes);
  if ('other' in sniffed) throw invalidSample(`the sample is ${sniffed.other}; voice cloning takes WAV (16-bit), MP3 or M4A`);
  const { format } = sniffed;
  const mime = SAMPLE_MIME[format];
  const rules = sampleRulesOf(family);
  if (rules.limitAppliesToDataUri) {
    const sent = dataUriLength(bytes.length, mime);
    if (sent >= rules.maxBytes) throw invalidSample(`the sample is ${mb(bytes.length)}, ${mb(sent)} once base64-encoded; Qwen takes under ${mb(rules.maxBytes)} after encoding`);
  } else if (bytes.length > rules.maxBytes) {
    throw invalidSample(`the sample is ${mb(bytes.length)}; the limit is ${mb(rules.maxBytes)}`);
  }
  if (format !== 'wav') return { bytes, format, mime };
  const wav = readWav(bytes);
  if (typeof wav === 'string') throw invalidSample(`the WAV cannot be read: ${wav}`);
  checkWav(wav, family);
  return { bytes, format, mime, wav };
}

export function toDataUri(sample: VoiceSample): string {
  return `data:${sample.mime};base64,${sample.bytes.toString('base64')}`;
}
