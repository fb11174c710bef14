/** `model: "qwen-voice-enrollment"` — Qwen cloning (voice-customization.md §3). No query/update actions exist. */
import { customizationService } from '../catalog';
import { isRecord } from '../json';
import { newestFirst, type ActionContext, type ActionHandler, type ActionResult } from './action';
import { CustomizationError, invalidParameter, quotaExceeded } from './errors';
import { matching, oneOf, optionalString, page, paging, requiredString } from './fields';
import { gmt } from './gmt';
import { checkSampleUrl } from './sample-url';
import { readWavInfo } from './wav-info';

const SERVICE = 'qwen-voice-enrollment';
export const QWEN_LANGUAGES = ['zh', 'en', 'de', 'it', 'pt', 'es', 'ja', 'ko', 'fr', 'ru'];
export const PREFERRED_NAME = /^[A-Za-z0-9_]{1,16}$/;
const MIMES = ['audio/wav', 'audio/mpeg', 'audio/mp4'];
const MAX_DATA_URI_CHARS = 10 * 1024 * 1024;

function audioError(code: string, message: string): CustomizationError {
  return new CustomizationError(400, code, message);
}

/** §3.1/§3.4: data URI of wav/mp3/m4a under 10 MB after base64; WAV samples are inspected. */
function checkDataUri(data: string): void {
  const m = /^data:([^;,]+)(?:;[^;,]*)*;base64,(.*)$/s.exec(data);
  if (!m) throw invalidParameter("Parameter 'audio.data' must be a base64 data URI or a public URL.");
  const mime = (m[1] ?? '').toLowerCase();
  if (!MIMES.includes(mime)) throw invalidParameter(`Unsupported audio type '${mime}'; use ${MIMES.join(', ')}.`);
  if (data.length >= MAX_DATA_URI_CHARS) throw audioError('Audio.FileSizeExceed', 'File too large');
  const bytes = Buffer.from(m[2] ?? '', 'base64');
  if (bytes.length === 0) throw audioError('Audio.DecoderError', 'Decoder audio file failed.');
  if (mime !== 'audio/wav') return;
  const wav = readWavInfo(bytes);
  if (!wav) throw audioError('Audio.DecoderError', 'Decoder audio file failed.');
  if (wav.sampleRate < 24000) throw audioError('Audio.AudioRateError', 'File sample rate unsupported.');
  if (wav.durationSeconds > 60) throw audioError('Audio.DurationLimitError', 'Audio duration exceeds maximum allowed limit.');
  if (wav.durationSeconds < 3) throw audioError('Audio.PreprocessError', 'No segments meet minimum duration requirement');
}

function create(ctx: ActionContext): ActionResult {
  const { input } = ctx;
  const target = oneOf(input.target_model, customizationService(SERVICE)?.targets ?? [], 'target_model');
  const name = matching(requiredString(input, 'preferred_name'), PREFERRED_NAME, 'preferred_name', 'letters, digits and underscore, at most 16 characters');
  const audio = input.audio;
  if (!isRecord(audio) || typeof audio.data !== 'string' || !audio.data) throw invalidParameter("Missing required parameter 'audio.data'.");
  optionalString(input, 'text');
  const language = oneOf(input.language ?? 'zh', QWEN_LANGUAGES, 'language');
  if (audio.data.startsWith('data:')) checkDataUri(audio.data);
  else checkSampleUrl(audio.data, ctx.headers, ctx.options.urlFailures, 'qwen', ctx.resolveOss);
  if (ctx.voices.count(SERVICE) >= ctx.options.quota) throw quotaExceeded();
  const v = ctx.voices.add({ service: SERVICE, kind: 'clone', targetModel: target, name, language });
  const reason = ctx.options.qwenCloneFallbackReason;
  return {
    output: { voice: v.id, target_model: target, ...(reason ? { fallback_mode: true, fallback_reason: reason } : {}) },
    usage: { count: 1 },
  };
}

const list: ActionHandler = (ctx) => {
  const p = paging(ctx.input, Number.MAX_SAFE_INTEGER, 1_000_000);
  const all = newestFirst(ctx.voices.list(SERVICE));
  const voice_list = page(all, p).map((v) => ({
    voice: v.id,
    gmt_create: gmt(v.createdAt),
    gmt_modified: gmt(v.modifiedAt),
    language: v.language,
    target_model: v.targetModel,
  }));
  return { output: { page_index: p.index, page_size: p.size, total_count: all.length, voice_list }, usage: { count: 0 } };
};

const remove: ActionHandler = (ctx) => {
  const voice = requiredString(ctx.input, 'voice');
  const v = ctx.voices.get(voice);
  if (!v || v.service !== SERVICE) throw new CustomizationError(400, 'BadRequest.VoiceNotFound', `Voice '${voice}' not found.`);
  ctx.voices.delete(voice);
  return { output: { voice }, usage: { count: 0 } };
};

export const qwenVoiceEnrollmentActions: Record<string, ActionHandler> = { create, list, delete: remove };
