/**
 * The session configuration and its validation against the model row (qwen-realtime.md §4.1, §1).
 * Updates are all-or-nothing: an invalid field rejects the whole session.update.
 */
import { isAudioFormat, type AudioFormat } from '../audio-encoding';
import { qwenSessionDefaults, type CatalogModel } from '../catalog';
import { isRecord, type JsonObject } from '../json';
import type { VoiceStore } from '../voice-store';
import { estimateTextTokens } from './usage';
import { isQwenVoiceAllowed, voiceNotSupported } from './voice-check';

export type QwenMode = 'server_commit' | 'commit';

export interface QwenSessionConfig {
  mode: QwenMode;
  voice: string;
  response_format: AudioFormat;
  sample_rate: number;
  language_type: string;
  speech_rate?: number;
  volume?: number;
  pitch_rate?: number;
  bit_rate?: number;
  instructions?: string;
  optimize_instructions?: boolean;
}

const DOCUMENTED_RATES = [8000, 16000, 24000, 48000];
const MAX_INSTRUCTION_TOKENS = 1600;
const TUNABLES = ['speech_rate', 'volume', 'pitch_rate', 'bit_rate'] as const;
const RANGE_KEY: Record<(typeof TUNABLES)[number], string> = {
  speech_rate: 'speech_rate',
  volume: 'volume',
  pitch_rate: 'pitch_rate',
  bit_rate: 'bit_rate_kbps',
};

export function defaultSessionConfig(): QwenSessionConfig {
  const d = qwenSessionDefaults();
  return {
    mode: d.mode === 'commit' ? 'commit' : 'server_commit',
    voice: d.voice,
    response_format: isAudioFormat(d.response_format) ? d.response_format : 'pcm',
    sample_rate: d.sample_rate,
    language_type: d.language_type,
  };
}

export type ConfigResult = { ok: true; config: QwenSessionConfig } | { ok: false; message: string };

function invalid(name: string, value: unknown, model: CatalogModel): ConfigResult {
  return { ok: false, message: `Invalid value for '${name}': ${JSON.stringify(value)} is not supported by ${model.id}.` };
}

export function applySessionUpdate(
  current: QwenSessionConfig,
  session: unknown,
  model: CatalogModel,
  voices: VoiceStore,
  extraSampleRates: readonly number[],
  lenient: { voice?: 'session.update' | 'response'; otherSampleRate?: 'refuse' | 'keep' } = {},
): ConfigResult {
  if (!isRecord(session)) return { ok: false, message: "Session update error: 'session' must be an object." };
  const s: JsonObject = session;
  const next: QwenSessionConfig = { ...current };

  if (s.voice !== undefined) {
    if (typeof s.voice !== 'string') return { ok: false, message: voiceNotSupported(String(s.voice)) };
    // 'response': any voice is taken here and refused when a response would speak with it.
    if (lenient.voice !== 'response' && !isQwenVoiceAllowed(model, s.voice, voices)) return { ok: false, message: voiceNotSupported(s.voice) };
    next.voice = s.voice;
  }
  if (s.mode !== undefined) {
    if (s.mode !== 'server_commit' && s.mode !== 'commit') return invalid('mode', s.mode, model);
    next.mode = s.mode;
  }
  if (s.response_format !== undefined) {
    if (!isAudioFormat(s.response_format) || !model.formats.includes(s.response_format)) return invalid('response_format', s.response_format, model);
    next.response_format = s.response_format;
  }
  if (s.sample_rate !== undefined) {
    // Extra rates (SDK docstrings) only make sense for models that resample at all.
    const rates = model.sample_rates.length > 1 ? [...DOCUMENTED_RATES.filter((r) => model.sample_rates.includes(r)), ...extraSampleRates] : model.sample_rates;
    if (typeof s.sample_rate !== 'number' || !rates.includes(s.sample_rate)) {
      // 'keep': the rate is not refused but silently not taken; session.updated echoes the rate in effect.
      if (lenient.otherSampleRate !== 'keep' || typeof s.sample_rate !== 'number') return invalid('sample_rate', s.sample_rate, model);
    } else next.sample_rate = s.sample_rate;
  }
  if (s.language_type !== undefined) {
    if (typeof s.language_type !== 'string' || !(model.language_type_values ?? []).includes(s.language_type)) return invalid('language_type', s.language_type, model);
    next.language_type = s.language_type;
  }
  const ranges = qwenSessionDefaults().param_ranges;
  for (const name of TUNABLES) {
    const v = s[name];
    if (v === undefined) continue;
    if (!(model.tunables ?? []).includes(name)) return { ok: false, message: `Parameter '${name}' is not supported by ${model.id}.` };
    const [lo, hi] = ranges[RANGE_KEY[name]] ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
    if (typeof v !== 'number' || Number.isNaN(v) || v < (lo ?? -Infinity) || v > (hi ?? Infinity)) return invalid(name, v, model);
    next[name] = v;
  }
  if (s.instructions !== undefined) {
    if (typeof s.instructions !== 'string') return invalid('instructions', s.instructions, model);
    // An empty string is what SDK examples send for models without instructions.
    if (s.instructions !== '') {
      if (model.instruction.supported !== true) return { ok: false, message: `Parameter 'instructions' is not supported by ${model.id}.` };
      if (estimateTextTokens(s.instructions) > MAX_INSTRUCTION_TOKENS) return { ok: false, message: `'instructions' exceeds ${MAX_INSTRUCTION_TOKENS} tokens.` };
      next.instructions = s.instructions;
    }
  }
  if (s.optimize_instructions !== undefined) {
    if (typeof s.optimize_instructions !== 'boolean') return invalid('optimize_instructions', s.optimize_instructions, model);
    next.optimize_instructions = s.optimize_instructions;
  }
  return { ok: true, config: next };
}

/** session.updated echo: the documented fields plus whichever optional ones are set. */
export function describeSession(id: string, model: string, c: QwenSessionConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id,
    object: 'realtime.session',
    model,
    voice: c.voice,
    language_type: c.language_type,
    mode: c.mode,
    response_format: c.response_format,
    sample_rate: c.sample_rate,
  };
  for (const k of [...TUNABLES, 'instructions', 'optimize_instructions'] as const) if (c[k] !== undefined) out[k] = c[k];
  return out;
}
