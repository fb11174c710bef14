/**
 * Semantic validation of run-task (cosyvoice.md §5.1, §5.5, §6.5). Produces the settings of the
 * task or the task-failed error the real service gives. Messages marked "simulator wording" are
 * not documented anywhere; the documented ones are verbatim.
 */
import { isAudioFormat, type AudioFormat } from '../audio-encoding';
import { COSYVOICE_PROTOCOL, findModel, type CatalogModel } from '../catalog';
import { isRecord, type JsonObject } from '../json';
import type { VoiceStore } from '../voice-store';
import { checkInstruction, ENGINE_428 } from './instruction-check';
import { checkCosyVoiceVoice } from './voice-check';

export interface TaskSettings {
  model: CatalogModel;
  voice: string;
  format: AudioFormat;
  sampleRate: number;
  enableSsml: boolean;
  wordTimestamps: boolean;
  /** A custom voice still DEPLOYING: the task finishes without audio (third-party). */
  silent: boolean;
  /** run-task may carry text in input (allowed, not advised). */
  initialText?: string;
}

export interface TaskError {
  code: string;
  message: string;
}

export type RunTaskValidation = { ok: true; settings: TaskSettings } | ({ ok: false } & TaskError);

const FIXED_FIELDS: Array<[string, string]> = [
  ['task_group', 'audio'],
  ['task', 'tts'],
  ['function', 'SpeechSynthesizer'],
];

function fail(code: string, message: string): RunTaskValidation {
  return { ok: false, code, message };
}

function missing(field: string): RunTaskValidation {
  return fail('InvalidParameter', `Missing required parameter '${field}'! Please follow the protocol!`);
}

/** Range checks of §5.1; simulator wording. */
function rangeError(params: JsonObject): string | undefined {
  const ranges: Array<[string, number, number, boolean]> = [
    ['volume', 0, 100, true],
    ['rate', 0.5, 2, false],
    ['pitch', 0.5, 2, false],
    ['bit_rate', 6, 510, true],
    ['seed', 0, 65535, true],
  ];
  for (const [name, lo, hi, integer] of ranges) {
    const v = params[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || Number.isNaN(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      return `Invalid parameter '${name}': ${JSON.stringify(v)} is out of range [${lo}, ${hi}].`;
    }
  }
  return undefined;
}

/** §5.5: SDKs send "Default" / 0 when the caller picked nothing; the server applies the model default. */
function audioShape(model: CatalogModel, params: JsonObject): { format: AudioFormat; sampleRate: number } | string {
  const rawFormat = params.format;
  const format = rawFormat === undefined || rawFormat === 'Default' ? model.default_format : rawFormat;
  if (!isAudioFormat(format) || !model.formats.includes(format)) {
    return `Invalid parameter 'format': ${JSON.stringify(rawFormat)} is not supported by ${model.id}.`;
  }
  const rawRate = params.sample_rate;
  const sampleRate = rawRate === undefined || rawRate === 0 ? model.default_sample_rate : rawRate;
  if (typeof sampleRate !== 'number' || !model.sample_rates.includes(sampleRate)) {
    return `Invalid parameter 'sample_rate': ${JSON.stringify(rawRate)} is not supported by ${model.id}.`;
  }
  return { format, sampleRate };
}

export function validateRunTask(payload: JsonObject, voices: VoiceStore): RunTaskValidation {
  const input = payload.input;
  if (!isRecord(input)) return fail('InvalidParameter', 'task can not be null');
  for (const [field, expected] of FIXED_FIELDS) {
    if (payload[field] !== expected) return missing(`payload.${field}`);
  }
  if (typeof payload.model !== 'string' || !payload.model) return missing('payload.model');
  const model = findModel(payload.model, COSYVOICE_PROTOCOL);
  if (!model) return fail('ModelNotFound', 'Model not found');

  const params = payload.parameters;
  if (!isRecord(params)) return missing('payload.parameters');
  if (params.text_type === undefined) return missing('payload.parameters.text_type');
  if (params.text_type !== 'PlainText') return fail('InvalidParameter', `Invalid parameter 'text_type': ${JSON.stringify(params.text_type)}.`);
  const voice = params.voice;
  if (typeof voice !== 'string' || !voice) return fail('InvalidParameter', 'Request voice is invalid!');

  const shape = audioShape(model, params);
  if (typeof shape === 'string') return fail('InvalidParameter', shape);
  const outOfRange = rangeError(params);
  if (outOfRange) return fail('InvalidParameter', outOfRange);

  const check = checkCosyVoiceVoice(model, voice, voices);
  if (!check.ok) return fail(check.code, check.message);

  const enableSsml = params.enable_ssml === true;
  if (enableSsml) {
    const voiceSsml = check.kind === 'custom' || check.system.ssml;
    if (!model.ssml || !voiceSsml) return fail('InvalidParameter', 'SSML text is not supported at the moment!');
  }

  const instruction = params.instruction;
  if (typeof instruction === 'string' && instruction !== '') {
    if (model.instruction.supported === false) return fail('InvalidParameter', ENGINE_428);
    const problem = checkInstruction(model, voice, check, instruction);
    if (problem) return fail('InvalidParameter', problem);
  }

  // Timestamps exist only where the voice list / model row says so (§5.1); elsewhere words stay [].
  const timestampsPossible = check.kind === 'custom' ? Boolean(model.word_timestamps) : check.system.word_timestamp;
  return {
    ok: true,
    settings: {
      model,
      voice,
      format: shape.format,
      sampleRate: shape.sampleRate,
      enableSsml,
      wordTimestamps: params.word_timestamp_enabled === true && timestampsPossible,
      silent: check.kind === 'custom' && check.deploying,
      initialText: typeof input.text === 'string' && input.text !== '' ? input.text : undefined,
    },
  };
}
