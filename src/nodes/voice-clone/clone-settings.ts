import type { VoiceFamily } from '../../dashscope/voice-services';
import { InputError } from '../../speech/input-error';
import type { CloneSettings } from '../../voices/clone';
import { cosyVoiceHintLanguages, QWEN_CLONE_LANGUAGES } from '../../voices/rules';
import type { Message } from '../shared/message-base';
import { blank, checkedName, checkedTarget, familyOf, nodeOrMessageText, pollingOf, type PollingProps, type VoiceAction } from '../shared/voice-settings';

/** The node's properties as the editor stores them. */
export interface CloneNodeProps extends PollingProps {
  family: string;
  targetModel: string;
  voiceName: string;
  languageHints: string;
  action: string;
}

export const CLONE_ACTIONS: readonly VoiceAction[] = ['create', 'list', 'query', 'update', 'delete'];

function hintsOf(props: CloneNodeProps, msg: Message): string[] {
  const raw = blank(props.languageHints) ? msg.languageHints : props.languageHints;
  if (blank(raw)) return [];
  if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw.map((x) => x.trim()).filter(Boolean);
  if (typeof raw === 'string') return raw.split(/[\s,]+/).filter(Boolean);
  throw new InputError('InvalidInput', 'msg.languageHints must be a string such as "zh" or an array of strings');
}

/** Everything a create (or CosyVoice update) needs, checked before any request. */
export function resolveCloneSettings(props: CloneNodeProps, msg: Message = {}): CloneSettings {
  const family = familyOf(props.family);
  const targetModel = checkedTarget(family, 'clone', nodeOrMessageText('targetModel', props.targetModel, msg.targetModel));
  const name = checkedName(family, nodeOrMessageText('voiceName', props.voiceName, msg.voiceName));
  const settings: CloneSettings = { family, targetModel, name, polling: pollingOf(props, msg) };
  const hints = hintsOf(props, msg);
  const first = hints[0];
  if (family === 'cosyvoice') {
    const allowed = cosyVoiceHintLanguages(targetModel);
    if (first && allowed.length > 0) {
      if (!allowed.includes(first)) throw new InputError('InvalidSetting', `language "${first}" is not offered for ${targetModel}; use one of ${allowed.join(', ')}`);
      // Only the first hint is used by the service (docs/protocol.md "Custom voices: clone samples").
      settings.languageHints = [first];
    }
  } else {
    if (first && !QWEN_CLONE_LANGUAGES.includes(first)) throw new InputError('InvalidSetting', `language "${first}" is not offered for Qwen cloning; use one of ${QWEN_CLONE_LANGUAGES.join(', ')}`);
    if (first) settings.language = first;
    if (msg.text !== undefined) {
      if (typeof msg.text !== 'string') throw new InputError('InvalidInput', 'msg.text (the transcript of the sample) must be a string');
      if (msg.text.trim()) settings.text = msg.text.trim();
    }
  }
  return settings;
}

/** Stands in for a blank field at deploy, where only what the node itself sets is checked. */
const DEFAULT_TARGET: Record<VoiceFamily, string> = { cosyvoice: 'cosyvoice-v3-flash', qwen: 'qwen3-tts-vc-realtime-2026-01-15' };

/** Deploy-time check of the node's own fields; blank ones are left for messages to fill. */
export function checkCloneNode(props: CloneNodeProps): void {
  const family = familyOf(props.family);
  resolveCloneSettings({
    ...props,
    targetModel: blank(props.targetModel) ? DEFAULT_TARGET[family] : props.targetModel,
    voiceName: blank(props.voiceName) ? 'voice' : props.voiceName,
  });
}
