import { modelInfo, rawCatalog, systemVoicesFor } from '../dashscope/catalog';
import type { AudioFormat } from '../audio/audio-message';
import type { CosyVoiceTaskParams } from '../dashscope/cosyvoice';
import { billedLength } from '../dashscope/text';
import { InputError } from './input-error';
import { blank, numberIn, numberSetting, textField } from './setting-values';
import { checkVoice } from './voice-check';

/** The node's properties as the editor stores them (numbers may arrive as strings, blanks as ''). */
export interface CosyVoiceNodeProps {
  model: string;
  voice: string;
  format: string;
  sampleRate: string | number;
  volume: string | number;
  rate: string | number;
  pitch: string | number;
  bitRate: string | number;
  seed: string | number;
  languageHints: string;
  instruction: string;
  ssml: boolean;
  wordTimestamps: boolean;
}

/** Per-message overrides; each applies only where the node's own field is blank (Node-RED's convention). */
export interface CosyVoiceOverrides {
  voice?: unknown;
  instruction?: unknown;
  rate?: unknown;
  pitch?: unknown;
  volume?: unknown;
}

type Range = readonly [min: number, max: number];

interface Limits {
  instruction_max_chars: number;
  param_ranges: { volume: Range; rate: Range; pitch: Range; bit_rate_kbps: Range; seed: Range };
}

/** The service's parameter ranges and limits, as the catalog states them (docs/protocol.md "CosyVoice: limits"). */
function limits(): Limits {
  return (rawCatalog() as unknown as { cosyvoice_limits: Limits }).cosyvoice_limits;
}

/**
 * Resolves the run-task parameters for one utterance: the node's settings, the message's
 * overrides, checked against what the model supports. Options the model does not take are left out.
 */
export function resolveCosyVoiceParams(props: CosyVoiceNodeProps, overrides: CosyVoiceOverrides = {}): CosyVoiceTaskParams {
  const info = modelInfo(textField('model', props.model));
  if (!info || info.family !== 'cosyvoice') throw new InputError('InvalidSetting', `unknown CosyVoice model "${String(props.model)}"`);
  const supports = (p: string): boolean => info.parameters.includes(p);

  const voiceOverride = typeof overrides.voice === 'string' ? overrides.voice.trim() : undefined;
  if (overrides.voice !== undefined && typeof overrides.voice !== 'string') throw new InputError('InvalidOverride', 'msg.voice must be a string');
  const voice = textField('voice', props.voice).trim() || voiceOverride || systemVoicesFor(info.id)[0]?.voice;
  if (!voice) throw new InputError('VoiceRequired', `${info.id} has no system voices: set a cloned or designed voice id (the node's Voice, or msg.voice)`);
  checkVoice(info.id, voice);

  // Formats and rates per model come from the catalog (e.g. no opus on cosyvoice-v1).
  const format = (textField('format', props.format) || 'pcm') as AudioFormat;
  if (!info.formats.includes(format)) {
    throw new InputError('InvalidSetting', `format: ${info.id} cannot produce ${format} (it takes ${info.formats.join(', ')})`);
  }
  const rates = info.sampleRates;
  const sampleRate = numberIn('sampleRate', props.sampleRate, Math.min(...rates), Math.max(...rates), true) ?? info.defaultSampleRate;
  if (!info.sampleRates.includes(sampleRate)) {
    throw new InputError('InvalidSetting', `sampleRate must be one of ${info.sampleRates.join(', ')} (got ${sampleRate})`);
  }

  const params: CosyVoiceTaskParams = { model: info.id, voice, format, sampleRate };
  const { param_ranges: RANGES, instruction_max_chars: instructionMaxChars } = limits();
  params.volume = numberSetting('volume', 'volume', props.volume, overrides.volume, ...RANGES.volume, true);
  params.rate = numberSetting('rate', 'rate', props.rate, overrides.rate, ...RANGES.rate, false);
  params.pitch = numberSetting('pitch', 'pitch', props.pitch, overrides.pitch, ...RANGES.pitch, false);
  if (format === 'opus' && supports('bit_rate')) params.bitRate = numberIn('bitRate', props.bitRate, ...RANGES.bit_rate_kbps, true);
  if (supports('seed')) params.seed = numberIn('seed', props.seed, ...RANGES.seed, true);
  const languageHints = textField('languageHints', props.languageHints);
  if (supports('language_hints') && !blank(languageHints)) {
    params.languageHints = languageHints.split(/[\s,]+/).filter(Boolean);
  }

  if (overrides.instruction !== undefined && typeof overrides.instruction !== 'string') {
    throw new InputError('InvalidOverride', 'msg.instruction must be a string');
  }
  const instruction = (textField('instruction', props.instruction).trim() || (overrides.instruction as string | undefined)?.trim()) ?? '';
  if (instruction) {
    if (!info.instructions) throw new InputError('InvalidSetting', `${info.id} does not take an instruction`);
    if (billedLength(instruction) > instructionMaxChars) {
      throw new InputError('InvalidSetting', `instruction is longer than ${instructionMaxChars} characters (a CJK character counts 2)`);
    }
    params.instruction = instruction;
  }
  if (props.ssml) {
    if (!info.ssml) throw new InputError('InvalidSetting', `${info.id} does not take SSML`);
    params.enableSsml = true;
  }
  if (props.wordTimestamps && supports('word_timestamp_enabled')) params.wordTimestamps = true;
  return params;
}
