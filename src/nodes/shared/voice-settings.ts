/**
 * Settings the two voice nodes share: the family, the action, the voice name, the target model,
 * polling, and where a message names an existing voice. Editor fields arrive as strings (blank
 * means "not set"); a message property counts only where the node's field is blank, as in
 * Node-RED's core nodes. The action is the exception: the node's action is the default, and
 * msg.action picks another per message.
 */
import { DEPLOY_POLL_INTERVAL_MS, DEPLOY_TIMEOUT_MS } from '../../dashscope/voice-deployment';
import { NAME_RULES, targetModels, type VoiceFamily, type VoiceKind } from '../../dashscope/voice-services';
import { InputError } from '../../speech/input-error';
import type { Message } from './voice-node';

export type VoiceAction = 'create' | 'list' | 'query' | 'update' | 'delete';

export function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** The node's text field, else the message's (which must then be a string). */
export function nodeOrMessageText(name: string, nodeValue: unknown, messageValue: unknown): string {
  if (!blank(nodeValue)) return String(nodeValue).trim();
  if (blank(messageValue)) return '';
  if (typeof messageValue !== 'string') throw new InputError('InvalidInput', `msg.${name} must be a string`);
  return messageValue.trim();
}

export function familyOf(value: unknown): VoiceFamily {
  if (value === 'cosyvoice' || value === 'qwen') return value;
  throw new InputError('InvalidSetting', `family must be cosyvoice or qwen (got ${JSON.stringify(value)})`);
}

export function actionOf(nodeAction: unknown, msgAction: unknown, allowed: readonly VoiceAction[]): VoiceAction {
  const raw = msgAction !== undefined && msgAction !== null && msgAction !== '' ? msgAction : blank(nodeAction) ? 'create' : nodeAction;
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw.trim().toLowerCase())) return raw.trim().toLowerCase() as VoiceAction;
  throw new InputError('InvalidInput', `action must be one of ${allowed.join(', ')} (got ${JSON.stringify(raw)})`);
}

export function checkedName(family: VoiceFamily, name: string): string {
  const rule = NAME_RULES[family];
  if (!name) throw new InputError('InvalidSetting', `a voice name is needed (${rule.text})`);
  if (!rule.pattern.test(name)) throw new InputError('InvalidSetting', `voice name "${name}" is not valid for ${family === 'qwen' ? 'Qwen' : 'CosyVoice'}: use ${rule.text}`);
  return name;
}

export function checkedTarget(family: VoiceFamily, kind: VoiceKind, model: string): string {
  const allowed = targetModels(family, kind);
  if (!model) throw new InputError('InvalidSetting', `a target model is needed (one of ${allowed.join(', ')})`);
  if (!allowed.includes(model)) {
    const what = `${family === 'qwen' ? 'Qwen' : 'CosyVoice'} voice ${kind === 'clone' ? 'cloning' : 'design'}`;
    throw new InputError('InvalidSetting', `${what} cannot make voices for "${model}"; it serves ${allowed.join(', ')}`);
  }
  return model;
}

/** A number of seconds from the node (or, when blank, the message), as milliseconds. */
export function secondsSetting(name: string, nodeValue: unknown, messageValue: unknown, fallbackMs: number, maxSeconds: number): number {
  const raw = blank(nodeValue) ? messageValue : nodeValue;
  if (blank(raw)) return fallbackMs;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > maxSeconds) throw new InputError('InvalidSetting', `${name} must be a number of seconds above 0 and at most ${maxSeconds} (got ${JSON.stringify(raw)})`);
  return Math.round(n * 1000);
}

export interface PollingProps {
  pollInterval?: unknown;
  pollTimeout?: unknown;
}

/** How a CosyVoice voice is waited for; defaults as the official sample (every 10 s, 30 times). */
export function pollingOf(props: PollingProps, msg: Message = {}): { intervalMs: number; timeoutMs: number } {
  return {
    intervalMs: secondsSetting('pollInterval', props.pollInterval, msg.pollInterval, DEPLOY_POLL_INTERVAL_MS, 600),
    timeoutMs: secondsSetting('pollTimeout', props.pollTimeout, msg.pollTimeout, DEPLOY_TIMEOUT_MS, 3600),
  };
}

/** The voice a query/update/delete is about: msg.voice, or (when it may) a string msg.payload. */
export function voiceIdOf(msg: Message, payloadMayNameIt: boolean): string {
  const fromVoice = typeof msg.voice === 'string' ? msg.voice.trim() : '';
  if (fromVoice) return fromVoice;
  if (payloadMayNameIt && typeof msg.payload === 'string' && msg.payload.trim()) return msg.payload.trim();
  throw new InputError('InvalidInput', `name the voice in msg.voice${payloadMayNameIt ? ' (or msg.payload)' : ''}`);
}
