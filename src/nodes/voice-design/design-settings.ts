import type { VoiceFamily } from '../../dashscope/voice-services';
import { InputError } from '../../speech/input-error';
import type { DesignSettings } from '../../voices/design';
import { checkDesignText } from '../../voices/design-text';
import { designRulesOf } from '../../voices/rules';
import type { Message } from '../shared/message-base';
import { blank, checkedName, checkedTarget, familyOf, nodeOrMessageText, pollingOf, type PollingProps, type VoiceAction } from '../shared/voice-settings';

/** The node's properties as the editor stores them. */
export interface DesignNodeProps extends PollingProps {
  family: string;
  targetModel: string;
  voicePrompt: string;
  previewText: string;
  voiceName: string;
  language: string;
  sampleRate: string | number;
  format: string;
  action: string;
}

/** Stands in for a blank target model at deploy, where only the other fields are checked. */
const DEFAULT_TARGET: Record<VoiceFamily, string> = { cosyvoice: 'cosyvoice-v3-flash', qwen: 'qwen3-tts-vd-realtime-2026-01-15' };

export const DESIGN_ACTIONS: readonly VoiceAction[] = ['create', 'list', 'query', 'delete'];

export interface ResolvedDesign {
  settings: DesignSettings;
  /** msg.payload carried a prompt that the node's own prompt overrode. */
  ignoredPayload: boolean;
}

/** The parts that do not depend on the texts: checked at deploy as well. */
function baseSettings(props: DesignNodeProps, msg: Message): Omit<DesignSettings, 'voicePrompt' | 'previewText' | 'language'> {
  const family = familyOf(props.family);
  const rules = designRulesOf(family);
  const targetModel = checkedTarget(family, 'design', nodeOrMessageText('targetModel', props.targetModel, msg.targetModel));
  const name = checkedName(family, nodeOrMessageText('voiceName', props.voiceName, msg.voiceName));
  const sampleRate = blank(props.sampleRate) ? 24000 : Number(props.sampleRate);
  if (!rules.sampleRates.includes(sampleRate)) throw new InputError('InvalidSetting', `preview sample rate must be one of ${rules.sampleRates.join(', ')} (got ${String(props.sampleRate)})`);
  const format = blank(props.format) ? 'wav' : String(props.format);
  if (!rules.formats.includes(format)) throw new InputError('InvalidSetting', `preview format must be one of ${rules.formats.join(', ')} (got ${format})`);
  return { family, targetModel, name, sampleRate, format, polling: pollingOf(props, msg) };
}

/**
 * Everything a create needs, checked before the (billed) call. The prompt is the node's, or a
 * string msg.payload when the node's is blank; the preview text and language likewise take
 * msg.previewText / msg.language; a blank language is guessed from the preview text.
 */
export function resolveDesignSettings(props: DesignNodeProps, msg: Message = {}): ResolvedDesign {
  const base = baseSettings(props, msg);
  const payloadPrompt = typeof msg.payload === 'string' ? msg.payload : undefined;
  const voicePrompt = nodeOrMessageText('payload', props.voicePrompt, payloadPrompt);
  const previewText = nodeOrMessageText('previewText', props.previewText, msg.previewText);
  const language = nodeOrMessageText('language', props.language, msg.language);
  const text = checkDesignText(base.family, { voicePrompt, previewText, language });
  const ignoredPayload = !blank(props.voicePrompt) && !blank(payloadPrompt) && payloadPrompt?.trim() !== props.voicePrompt.trim();
  return { settings: { ...base, ...text }, ignoredPayload };
}

/**
 * Deploy-time check of the node's own fields. Blank fields are left alone (a message may fill
 * them); the texts are checked when the node has both.
 */
export function checkDesignNode(props: DesignNodeProps): void {
  const family = familyOf(props.family);
  const placeholder = (v: string, fallback: string): string => (blank(v) ? fallback : v);
  baseSettings({ ...props, targetModel: placeholder(props.targetModel, DEFAULT_TARGET[family]), voiceName: placeholder(props.voiceName, 'voice') }, {});
  if (!blank(props.voicePrompt) && !blank(props.previewText)) {
    checkDesignText(family, { voicePrompt: props.voicePrompt, previewText: props.previewText, language: props.language });
  }
}
