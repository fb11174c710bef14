/** Preview audio of a designed voice: the preview text spoken by the new voice, base64 (§2.2, §4.1). */
import { encodeAudio, type AudioFormat } from '../audio-encoding';
import { sentencePcm } from '../pcm-synth';

export interface PreviewAudio {
  data: string;
  sample_rate: number;
  response_format: AudioFormat;
}

export function previewAudio(text: string, voiceId: string, sampleRate: number, format: AudioFormat): PreviewAudio {
  const audio = encodeAudio(sentencePcm(text, voiceId, sampleRate), format, sampleRate, true);
  return { data: audio.toString('base64'), sample_rate: sampleRate, response_format: format };
}
