/**
 * A voice cloned from a sample, for either family: check the sample, turn it into what the
 * family's service takes (CosyVoice: a URL, so local bytes go through the temporary upload; Qwen:
 * a data URI), create, and for CosyVoice wait until the voice is OK. CosyVoice clones can also be
 * given a new sample (update), after which they deploy again.
 */
import { CustomizationClient, type CustomVoice } from '../dashscope/customization';
import { safeFileName, uploadTemporaryFile } from '../dashscope/temporary-upload';
import type { VoiceFamily } from '../dashscope/voice-services';
import type { ActionContext } from './context';
import { waitForCosyVoice, type Polling } from './deployment';
import { inspectSample, toDataUri } from './sample';

/** A sample as the caller has it: a URL for the service to fetch, or bytes checked here first. */
export type SampleInput =
  | { kind: 'url'; url: string }
  /** `stem` names the upload (the extension follows the sniffed format). */
  | { kind: 'bytes'; bytes: Buffer; stem: string };

export interface CloneSettings {
  family: VoiceFamily;
  targetModel: string;
  /** CosyVoice prefix or Qwen preferred_name. */
  name: string;
  /** CosyVoice: language_hints, only for the targets that take them (others ignore the field). */
  languageHints?: string[];
  /** Qwen: the sample's language. */
  language?: string;
  /** Qwen: optional transcript of the sample (msg.text). */
  text?: string;
  polling: Polling;
}

export interface CloneResult {
  voice: CustomVoice;
  requestId?: string;
  /** Qwen made the voice in a degraded mode (a poor sample); the node warns. */
  fallbackReason?: string;
}

/** The sample as a URL or data URI the service takes; local bytes are checked first, before any request. */
async function prepareSample(ctx: ActionContext, family: VoiceFamily, input: SampleInput): Promise<string> {
  if (input.kind === 'url') return input.url;
  ctx.progress('checkingSample');
  const sample = inspectSample(input.bytes, family);
  if (family === 'qwen') return toDataUri(sample);
  ctx.progress('uploadingSample');
  const file = { name: `${safeFileName(input.stem)}.${sample.format}`, bytes: sample.bytes, contentType: sample.mime };
  // The upload policy is asked for the consuming service's model, not the target model (docs/protocol.md "Temporary file upload").
  return uploadTemporaryFile(ctx.http, 'voice-enrollment', file, { signal: ctx.signal });
}

export async function createClone(ctx: ActionContext, settings: CloneSettings, input: SampleInput): Promise<CloneResult> {
  const audio = await prepareSample(ctx, settings.family, input);
  const client = new CustomizationClient(ctx.http, { signal: ctx.signal });
  ctx.progress('creatingVoice');
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
  ctx.progress('updatingVoice');
  await client.updateCosyVoiceClone(voiceId, url);
  return waitForCosyVoice(ctx, client, voiceId, polling);
}
