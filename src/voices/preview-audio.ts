/**
 * A designed voice's preview, made ready for a player: PCM with the descriptor the synthesis
 * nodes use for their chunks (`{format:'pcm', sampleRate, channels:1, bitDepth:16}`). A WAV
 * preview is unwrapped (header stripped, rate read from it); mp3/opus stay as they are.
 */
import type { PreviewAudio } from '../dashscope/customization';
import { DashScopeError } from '../dashscope/errors';
import { readWav } from '../audio/wav-info';

export interface PlayableAudio {
  payload: Buffer;
  audio: { format: string; sampleRate: number; channels: 1; bitDepth?: 16 };
}

function badPreview(problem: string): DashScopeError {
  return new DashScopeError({ code: 'BadResponse', message: `the preview audio ${problem}`, origin: 'protocol', retryable: false });
}

export function playablePreview(preview: PreviewAudio): PlayableAudio {
  if (preview.format === 'wav') {
    const wav = readWav(preview.data);
    if (typeof wav === 'string') throw badPreview(`is not a readable WAV: ${wav}`);
    if (!wav.isPcm || wav.bitsPerSample !== 16 || wav.channels !== 1) {
      throw badPreview(`is ${wav.bitsPerSample}-bit, ${wav.channels}-channel WAV; expected 16-bit mono PCM`);
    }
    // A view into the decoded bytes: no copy.
    const payload = preview.data.subarray(wav.dataOffset, wav.dataOffset + wav.dataBytes);
    return { payload, audio: { format: 'pcm', sampleRate: wav.sampleRate, channels: 1, bitDepth: 16 } };
  }
  if (preview.format === 'pcm') {
    return { payload: preview.data, audio: { format: 'pcm', sampleRate: preview.sampleRate, channels: 1, bitDepth: 16 } };
  }
  return { payload: preview.data, audio: { format: preview.format, sampleRate: preview.sampleRate, channels: 1 } };
}
