/**
 * What voice-clone does for a create or an update, free of Node-RED: check the sample, turn it
 * into what the family's service takes (CosyVoice: a URL, so local bytes go through the temporary
 * upload; Qwen: a data URI), create, and for CosyVoice wait until the voice is OK.
 */
import { CustomizationClient, type CustomVoice } from '../../dashscope/customization';
import { safeFileName, uploadTemporaryFile } from '../../dashscope/temporary-upload';
import { inspectSample, toDataUri } from '../../dashscope/voice-sample';
import type { VoiceFamily } from '../../dashscope/voice-services';
import { waitForCosyVoice, type ActionContext, type Polling } from '../shared/action-context';
import type { CloneSettings } from './clone-settings';
import type { SampleInput } from './sample-input';

export interface CloneResult {
  voice: CustomVoice;
  requestId?: string;
  /** Qwen made the voice in a degraded mode (a poor sample); the node warns. */
  fallbackReason?: string;
}

/** The sample as a URL or data URI the service takes; local bytes are checked first, before any request. */
async function prepareSample(ctx: ActionContext, family: VoiceFamily, input: SampleInput): Promise<string> {
  if (input.kind === 'url') return input.url;
  ctx.progress('checking sample');
  const sample = inspectSample(input.bytes, family);
  if (family === 'qwen') return toDataUri(sample);
  ctx.progress('uploading sample');
  const file = { name: `${safeFileName(input.stem)}.${sample.format}`, bytes: sample.bytes, contentType: sample.mime };
  // The upload policy is asked for the consuming service's model, not the target model (docs/protocol.md "Temporary file upload").
  return uploadTemporaryFile(ctx.http, 'voice-enrollment', file, { signal: ctx.signal });
}

export async function createClone(ctx: ActionContext, settings: CloneSettings, input: SampleInput): Promise<CloneResult> {
  const audio = await prepareSample(ctx, settings.family, input);
  const client = new CustomizationClient(ctx.http, { signal: ctx.signal });
  ctx.progress('creating voice');
  if (settings.family === 'qwen') {
    const created = await client.createQwenClone({
      targetModel: settings.targetModel,
      preferredName: settings.name,
      audio,
      text: settings.text,
      language: settings.language,
    });
    // Qwen voices are usable at once: no status, no polling (docs/protocol.md "Custom voices: CosyVoice status").
    const voice: CustomVoice = { voice: created.voice, family: 'qwen', kind: 'clone', service: 'qwen-voice-enrollment', targetModel: created.targetModel, status: 'OK' };
    return { voice, requestId: created.requestId, fallbackReason: created.fallbackReason };
  }
  const created = await client.createCosyVoiceClone({ targetModel: settings.targetModel, prefix: settings.name, url: audio, languageHints: settings.languageHints });
  ctx.progress('deploying');
  const voice = await waitForCosyVoice(ctx, client, created.voice, settings.polling);
  return { voice: { ...voice, targetModel: voice.targetModel ?? created.targetModel }, requestId: created.requestId };
}

/** CosyVoice only: a new sample for an existing clone, which then deploys again. */
export async function updateClone(ctx: ActionContext, polling: Polling, voiceId: string, input: SampleInput): Promise<CustomVoice> {
  const url = await prepareSample(ctx, 'cosyvoice', input);
  const client = new CustomizationClient(ctx.http, { signal: ctx.signal });
  ctx.progress('updating voice');
  await client.updateCosyVoiceClone(voiceId, url);
  return waitForCosyVoice(ctx, client, voiceId, polling);
}
