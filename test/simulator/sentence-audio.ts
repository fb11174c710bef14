/** The single path from a sentence to wire frames, shared by both services and expectedAudio(). */
import { encodeAudio, type AudioFormat } from './audio-encoding';
import { pcmChunks, pcmDurationMs } from './audio-frames';
import { sentencePcm } from './pcm-synth';

export interface AudioFrame {
  /** Bytes as sent (container header included on the first frame of a stream). */
  data: Buffer;
  /** Playback length of the PCM inside, which drives real-time pacing. */
  durationMs: number;
}

export interface AudioShape {
  voice: string;
  sampleRate: number;
  format: AudioFormat;
  chunkMs: number;
}

export function sentenceFrames(sentence: string, shape: AudioShape, firstOfStream: boolean): AudioFrame[] {
  const chunks = pcmChunks(sentencePcm(sentence, shape.voice, shape.sampleRate), shape.sampleRate, shape.chunkMs);
  return chunks.map((pcm, i) => ({
    data: encodeAudio(pcm, shape.format, shape.sampleRate, firstOfStream && i === 0),
    durationMs: pcmDurationMs(pcm.length, shape.sampleRate),
  }));
}
