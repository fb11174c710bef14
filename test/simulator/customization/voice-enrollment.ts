/** `model: "voice-enrollment"` — CosyVoice cloning and design (voice-customization.md §2). */
import { customizationService } from '../catalog';
import type { CustomVoice } from '../voice-store';
import { newestFirst, type ActionContext, type ActionHandler, type ActionResult } from './action';
import { CustomizationError, invalidParameter, quotaExceeded } from './errors';
import { firstLanguageHint, maxLength, matching, oneOf, optionalString, page, paging, requiredString } from './fields';
import { gmt } from './gmt';
import { previewAudio } from './preview-audio';
import { checkSampleUrl } from './sample-url';

const SERVICE = 'voice-enrollment';
const PREFIX = /^[A-Za-z0-9]{1,10}$/;
const V3_PLUS_LANGUAGES = ['zh', 'en', 'fr', 'de', 'ja', 'ko', 'ru'];
const FULL_LANGUAGES = [...V3_PLUS_LANGUAGES, 'pt', 'th', 'id', 'vi'];
/** Only these targets take language_hints / max_prompt_audio_length (§2.1); others ignore them. */
const HINTED_TARGETS = ['cosyvoice-v3.5-plus', 'cosyvoice-v3.5-flash', 'cosyvoice-v3-plus', 'cosyvoice-v3-flash'];

const USAGE = { count: 1 };

function targets(kind: 'clone' | 'design'): string[] {
  const s = customizationService(SERVICE);
  return (kind === 'clone' ? s?.clone_targets : s?.design_targets) ?? [];
}

function prefixOf(ctx: ActionContext): string {
  return matching(requiredString(ctx.input, 'prefix'), PREFIX, 'prefix', 'letters and digits, at most 10 characters');
}

function checkQuota(ctx: ActionContext): void {
  if (ctx.voices.count(SERVICE) >= ctx.options.quota) throw quotaExceeded();
}

function resourceNotExist(id: string): CustomizationError {
  return new CustomizationError(400, 'BadRequest.ResourceNotExist', `The voice '${id}' does not exist.`);
}

function findVoice(ctx: ActionContext): CustomVoice {
  const id = requiredString(ctx.input, 'voice_id');
  const v = ctx.voices.get(id);
  if (!v || v.service !== SERVICE) throw resourceNotExist(id);
  return v;
}

function createClone(ctx: ActionContext): ActionResult {
  const { input } = ctx;
  const target = oneOf(input.target_model, targets('clone'), 'target_model');
  const prefix = prefixOf(ctx);
  const url = requiredString(input, 'url');
  if (HINTED_TARGETS.includes(target)) firstLanguageHint(input, target === 'cosyvoice-v3-plus' ? V3_PLUS_LANGUAGES : FULL_LANGUAGES);
  const maxLen = input.max_prompt_audio_length;
  if (maxLen !== undefined && (typeof maxLen !== 'number' || maxLen < 3 || maxLen > 30)) {
    throw invalidParameter("Parameter 'max_prompt_audio_length' must be between 3.0 and 30.0.");
  }
  if (input.enable_preprocess !== undefined && typeof input.enable_preprocess !== 'boolean') {
    throw invalidParameter("Parameter 'enable_preprocess' must be a boolean.");
  }
  const outcome = checkSampleUrl(url, ctx.headers, ctx.options.urlFailures, 'cosyvoice', ctx.resolveOss);
  checkQuota(ctx);
  const v = ctx.voices.add({
    service: SERVICE,
    kind: 'clone',
    targetModel: target,
    name: prefix,
    url,
    deployMs: ctx.options.deployMs,
    deployOutcome: outcome === 'undeployed' ? 'UNDEPLOYED' : 'OK',
  });
  return { output: { voice_id: v.id }, usage: USAGE };
}

function createDesign(ctx: ActionContext): ActionResult {
  const { input, parameters } = ctx;
  if (input.url !== undefined) throw invalidParameter("Parameters 'url' and 'voice_prompt' cannot be used together.");
  const target = oneOf(input.target_model, targets('design'), 'target_model');
  const prefix = prefixOf(ctx);
  const voicePrompt = maxLength(requiredString(input, 'voice_prompt'), 'voice_prompt', 500);
  const previewText = maxLength(requiredString(input, 'preview_text'), 'preview_text', 200, Math.max(1, ctx.options.cosyvoicePreviewTextMinChars));
  const language = firstLanguageHint(input, ['zh', 'en']) ?? 'zh';
  const sampleRate = oneOf(parameters.sample_rate ?? 24000, [16000, 24000, 48000], 'sample_rate');
  const format = oneOf(parameters.response_format ?? 'wav', ['pcm', 'wav', 'mp3'] as const, 'response_format');
  checkQuota(ctx);
  const v = ctx.voices.add({
    service: SERVICE,
    kind: 'design',
    targetModel: target,
    name: prefix,
    voicePrompt,
    previewText,
    language,
    deployMs: ctx.options.deployMs,
  });
  return {
    output: { preview_audio: previewAudio(previewText, v.id, sampleRate, format), target_model: target, voice_id: v.id },
    usage: USAGE,
  };
}

const createVoice: ActionHandler = (ctx) =>
  ctx.input.voice_prompt !== undefined || ctx.input.preview_text !== undefined ? createDesign(ctx) : createClone(ctx);

const listVoice: ActionHandler = (ctx) => {
  const prefix = optionalString(ctx.input, 'prefix');
  const p = paging(ctx.input, Number.MAX_SAFE_INTEGER, 1000);
  const voices = newestFirst(ctx.voices.list(SERVICE)).filter((v) => !prefix || v.name === prefix);
  const voice_list = page(voices, p).map((v) => ({
    voice_id: v.id,
    gmt_create: gmt(v.createdAt),
    gmt_modified: gmt(v.modifiedAt),
    status: v.status,
    ...(v.kind === 'design' ? { voice_prompt: v.voicePrompt, preview_text: v.previewText } : {}),
    ...(ctx.options.listIncludesTargetModel ? { target_model: v.targetModel } : {}),
  }));
  return { output: { voice_list }, usage: USAGE };
};

const queryVoice: ActionHandler = (ctx) => {
  const v = findVoice(ctx);
  const common = { gmt_create: gmt(v.createdAt), gmt_modified: gmt(v.modifiedAt), target_model: v.targetModel, status: v.status };
  const output =
    v.kind === 'design'
      ? { voice_id: v.id, ...common, preview_text: v.previewText, voice_prompt: v.voicePrompt }
      : { ...common, resource_link: v.url };
  return { output, usage: USAGE };
};

const updateVoice: ActionHandler = (ctx) => {
  const v = findVoice(ctx);
  if (v.kind === 'design') throw invalidParameter('update_voice is not supported for designed voices.');
  const url = requiredString(ctx.input, 'url');
  const outcome = checkSampleUrl(url, ctx.headers, ctx.options.urlFailures, 'cosyvoice', ctx.resolveOss);
  ctx.voices.redeploy(v.id, url, ctx.options.deployMs, outcome === 'undeployed' ? 'UNDEPLOYED' : 'OK');
  return { output: {}, usage: USAGE };
};

const deleteVoice: ActionHandler = (ctx) => {
  const v = findVoice(ctx);
  ctx.voices.delete(v.id);
  return { output: {}, usage: USAGE };
};

export const voiceEnrollmentActions: Record<string, ActionHandler> = {
  create_voice: createVoice,
  list_voice: listVoice,
  query_voice: queryVoice,
  update_voice: updateVoice,
  delete_voice: deleteVoice,
};

