/** `model: "qwen-voice-design"` — Qwen voice design (voice-customization.md §4). */
import { customizationService } from '../catalog';
import type { CustomVoice } from '../voice-store';
import { newestFirst, type ActionContext, type ActionHandler, type ActionResult } from './action';
import { CustomizationError, quotaExceeded } from './errors';
import { matching, maxLength, oneOf, page, paging, requiredString } from './fields';
import { gmt } from './gmt';
import { previewAudio } from './preview-audio';
import { PREFERRED_NAME, QWEN_LANGUAGES } from './qwen-voice-enrollment';

const SERVICE = 'qwen-voice-design';

function describe(v: CustomVoice): Record<string, unknown> {
  return {
    gmt_create: gmt(v.createdAt),
    gmt_modified: gmt(v.modifiedAt),
    language: v.language,
    preview_text: v.previewText,
    target_model: v.targetModel,
    voice: v.id,
    voice_prompt: v.voicePrompt,
  };
}

function findVoice(ctx: ActionContext): CustomVoice {
  const voice = requiredString(ctx.input, 'voice');
  const v = ctx.voices.get(voice);
  if (!v || v.service !== SERVICE) throw new CustomizationError(400, 'VoiceNotFound', `Voice not found: ${voice}`);
  return v;
}

function create(ctx: ActionContext): ActionResult {
  const { input, parameters } = ctx;
  const target = oneOf(input.target_model, customizationService(SERVICE)?.targets ?? [], 'target_model');
  const voicePrompt = maxLength(requiredString(input, 'voice_prompt'), 'voice_prompt', 2048);
  const previewText = maxLength(requiredString(input, 'preview_text'), 'preview_text', 1024, Math.max(1, ctx.options.qwenPreviewTextMinChars));
  const name = matching(requiredString(input, 'preferred_name'), PREFERRED_NAME, 'preferred_name', 'letters, digits and underscore, at most 16 characters');
  const language = oneOf(input.language ?? 'zh', QWEN_LANGUAGES, 'language');
  const sampleRate = oneOf(parameters.sample_rate ?? 24000, [8000, 16000, 24000, 48000], 'sample_rate');
  const format = oneOf(parameters.response_format ?? 'wav', ['pcm', 'wav', 'mp3', 'opus'] as const, 'response_format');
  if (ctx.voices.count(SERVICE) >= ctx.options.quota) throw quotaExceeded();
  const v = ctx.voices.add({ service: SERVICE, kind: 'design', targetModel: target, name, language, voicePrompt, previewText });
  return {
    output: { preview_audio: previewAudio(previewText, v.id, sampleRate, format), target_model: target, voice: v.id },
    usage: { count: 1 },
  };
}

const list: ActionHandler = (ctx) => {
  const p = paging(ctx.input, 200, Number.MAX_SAFE_INTEGER, 1);
  const all = newestFirst(ctx.voices.list(SERVICE));
  return {
    output: { page_index: p.index, page_size: p.size, total_count: all.length, voice_list: page(all, p).map(describe) },
    usage: {},
  };
};

const query: ActionHandler = (ctx) => ({ output: describe(findVoice(ctx)), usage: {} });

const remove: ActionHandler = (ctx) => {
  const v = findVoice(ctx);
  ctx.voices.delete(v.id);
  return { output: { voice: v.id }, usage: {} };
};

export const qwenVoiceDesignActions: Record<string, ActionHandler> = { create, list, query, delete: remove };
