import { modelInfo } from '../dashscope/catalog';
import type { AudioFormat } from '../audio/audio-message';
import type { QwenMode, QwenSessionSettings } from '../dashscope/qwen-realtime';
import { InputError } from './input-error';
import { numberIn, numberSetting, textField } from './setting-values';
import { checkVoice } from './voice-check';

export interface QwenNodeProps {
  model: string;
  voice: string;
  mode: string;
  format: string;
  sampleRate: string | number;
  languageType: string;
  instructions: string;
  optimizeInstructions: boolean;
  speechRate: string | number;
  volume: string | number;
  pitchRate: string | number;
  bitRate: string | number;
}

/** Per-message overrides; each applies only where the node's own field is blank. */
export interface QwenOverrides {
  voice?: unknown;
  instructions?: unknown;
  speechRate?: unknown;
  volume?: unknown;
  pitchRate?: unknown;
  languageType?: unknown;
}

export interface QwenUtteranceSettings {
  model: string;
  session: QwenSessionSettings;
}

const LANGUAGE_TYPES = ['Auto', 'Chinese', 'English', 'German', 'Italian', 'Portuguese', 'Spanish', 'Japanese', 'Korean', 'French', 'Russian'];

function text(name: string, nodeValue: unknown, override: unknown): string {
  if (override !== undefined && typeof override !== 'string') throw new InputError('InvalidOverride', `msg.${name} must be a string`);
  return textField(name, nodeValue).trim() || (typeof override === 'string' ? override.trim() : '');
}

/**
 * The session settings for one utterance: node settings, message overrides, checked against the
 * model. Fields the model does not take are not sent at all (the older qwen-tts-realtime models
 * take pcm at 24 kHz only and no rate, volume or pitch; only instruct models take instructions).
 */
export function resolveQwenSettings(props: QwenNodeProps, overrides: QwenOverrides = {}): QwenUtteranceSettings {
  const info = modelInfo(textField('model', props.model));
  if (!info || info.family !== 'qwen-tts-realtime') throw new InputError('InvalidSetting', `unknown Qwen realtime model "${String(props.model)}"`);

  const voice = text('voice', props.voice, overrides.voice) || (info.systemVoices ? 'Cherry' : '');
  if (!voice) throw new InputError('VoiceRequired', `${info.id} speaks only custom voices: set the voice id created for it (the node's Voice, or msg.voice)`);
  checkVoice(info.id, voice);

  const mode = (textField('mode', props.mode) || 'server_commit') as QwenMode;
  if (mode !== 'server_commit' && mode !== 'commit') throw new InputError('InvalidSetting', `mode must be server_commit or commit (got ${JSON.stringify(mode)})`);
  const format = (textField('format', props.format) || info.defaultFormat) as AudioFormat;
  if (!info.formats.includes(format)) throw new InputError('InvalidSetting', `format: ${info.id} cannot produce ${format} (it takes ${info.formats.join(', ')})`);
  const sampleRate = numberIn('sampleRate', props.sampleRate, 8000, 48000, true) ?? info.defaultSampleRate;
  if (!info.sampleRates.includes(sampleRate)) throw new InputError('InvalidSetting', `sampleRate must be one of ${info.sampleRates.join(', ')} for ${info.id}`);

  const session: QwenSessionSettings = { voice, mode, responseFormat: format, sampleRate };
  const languageType = text('languageType', props.languageType, overrides.languageType);
  if (languageType) {
    if (!LANGUAGE_TYPES.includes(languageType)) throw new InputError('InvalidSetting', `languageType must be one of ${LANGUAGE_TYPES.join(', ')}`);
    session.languageType = languageType;
  }
  const tunable = (t: string): boolean => info.tunables.includes(t);
  if (tunable('speech_rate')) session.speechRate = numberSetting('speechRate', 'rate', props.speechRate, overrides.speechRate, 0.5, 2, false);
  if (tunable('volume')) session.volume = numberSetting('volume', 'volume', props.volume, overrides.volume, 0, 100, true);
  if (tunable('pitch_rate')) session.pitchRate = numberSetting('pitchRate', 'pitch', props.pitchRate, overrides.pitchRate, 0.5, 2, false);
  if (tunable('bit_rate') && format === 'opus') session.bitRate = numberIn('bitRate', props.bitRate, 6, 510, true);

  const instructions = text('instructions', props.instructions, overrides.instructions);
  if (instructions) {
    if (!info.instructions) throw new InputError('InvalidSetting', `${info.id} does not take instructions (use an instruct model)`);
    session.instructions = instructions;
    if (props.optimizeInstructions) session.optimizeInstructions = true;
  }
  for (const key of Object.keys(session) as (keyof QwenSessionSettings)[]) if (session[key] === undefined) delete session[key];
  return { model: info.id, session };
}
