/**
 * A voice designed from a text description, for either family: one (billed) call that returns the
 * new voice and its preview; the preview is handed on at once, and a CosyVoice design is then
 * waited for until it is OK. Whether CosyVoice designs pass through DEPLOYING is unconfirmed, so
 * the voice is queried either way: an OK answer ends the wait on the first look (docs/protocol.md
 * "Unconfirmed points" voice-design-deploying).
 */
import { CustomizationClient, type CustomVoice, type DesignRequest } from '../dashscope/customization';
import type { VoiceFamily } from '../dashscope/voice-services';
import type { ActionContext } from './context';
import { waitForCosyVoice, type Polling } from './deployment';
import { playablePreview, type PlayableAudio } from './preview-audio';

export interface DesignSettings extends DesignRequest {
  family: VoiceFamily;
  polling: Polling;
}

export interface DesignResult {
  voice: CustomVoice;
  requestId?: string;
}

export async function createDesign(ctx: ActionContext, settings: DesignSettings, onPreview: (preview: PlayableAudio, voice: string, targetModel: string) => void): Promise<DesignResult> {
  const client = new CustomizationClient(ctx.http, { signal: ctx.signal });
  const request = {
    targetModel: settings.targetModel,
    name: settings.name,
    voicePrompt: settings.voicePrompt,
    previewText: settings.previewText,
    language: settings.language,
    sampleRate: settings.sampleRate,
    format: settings.format,
  };
  ctx.progress('designingVoice');
  const created = settings.family === 'qwen' ? await client.createQwenDesign(request) : await client.createCosyVoiceDesign(request);
  if (created.preview) onPreview(playablePreview(created.preview), created.voice, created.targetModel);
  if (settings.family === 'qwen') {
    const voice: CustomVoice = {
      voice: created.voice,
      family: 'qwen',
      kind: 'design',
      service: 'qwen-voice-design',
      targetModel: created.targetModel,
      status: 'OK',
      language: settings.language,
      voicePrompt: settings.voicePrompt,
      previewText: settings.previewText,
    };
    return { voice, requestId: created.requestId };
  }
  const voice = await waitForCosyVoice(ctx, client, created.voice, settings.polling);
  return { voice: { ...voice, targetModel: voice.targetModel ?? created.targetModel }, requestId: created.requestId };
}
