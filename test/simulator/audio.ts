/**
 * Deterministic audio of the simulator. Tests use expectedAudio() to predict every byte a client
 * receives; the building blocks are re-exported for finer-grained assertions.
 */
import { type AudioFormat } from './audio-encoding';
import { DEFAULT_CHUNK_MS } from './audio-frames';
import { sentenceFrames } from './sentence-audio';
import { allSentences, COSYVOICE_TERMINATORS, QWEN_TERMINATORS } from './sentences';

export { encodeAudio, wavHeader, isAudioFormat, AUDIO_FORMATS, type AudioFormat } from './audio-encoding';
export { frameBytes, pcmChunks, pcmDurationMs, DEFAULT_CHUNK_MS } from './audio-frames';
export { sentencePcm, samplesPerCharacter, voiceBasePitch } from './pcm-synth';
export { splitSentences, allSentences, COSYVOICE_TERMINATORS, QWEN_TERMINATORS, type SplitResult } from './sentences';
export { sentenceFrames, type AudioFrame, type AudioShape } from './sentence-audio';

export interface ExpectedAudioOptions {
  text: string;
  voice: string;
  sampleRate: number;
  format?: AudioFormat;
  service?: 'cosyvoice' | 'qwen';
  /** Qwen only: server_commit makes one response (one container header) per sentence, commit one per commit. */
  qwenMode?: 'server_commit' | 'commit';
  /** Must match the simulator's chunkMs when the format is not pcm/wav (frames are encoded one by one). */
  chunkMs?: number;
  /** Defaults to the service's terminators. */
  terminators?: string;
}

/**
 * Bytes a client receives, concatenated, for `text` sent in one CosyVoice task or one Qwen
 * session (tail flushed at the end; in Qwen commit mode: committed once).
 */
export function expectedAudio(opts: ExpectedAudioOptions): Buffer {
  const service = opts.service ?? 'cosyvoice';
  const terminators = opts.terminators ?? (service === 'qwen' ? QWEN_TERMINATORS : COSYVOICE_TERMINATORS);
  const shape = {
    voice: opts.voice,
    sampleRate: opts.sampleRate,
    format: opts.format ?? 'pcm',
    chunkMs: opts.chunkMs ?? DEFAULT_CHUNK_MS,
  };
  const headerPerSentence = service === 'qwen' && (opts.qwenMode ?? 'server_commit') === 'server_commit';
  const out: Buffer[] = [];
  allSentences(opts.text, terminators).forEach((sentence, i) => {
    for (const frame of sentenceFrames(sentence, shape, headerPerSentence || i === 0)) out.push(frame.data);
  });
  return Buffer.concat(out);
}
