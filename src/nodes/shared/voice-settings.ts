/**
 * Settings the two voice nodes share: the family, the action, the voice name, the target model,
 * polling, and where a message names an existing voice. Editor fields arrive as strings (blank
 * means "not set"); a message property counts only where the node's field is blank, as in
 * Node-RED's core nodes. The action is the exception: msg.action counts only when the node's
 * action is "from message", because a message from outside (http in, a chat bot) must not turn a
 * node that creates voices into one that deletes them.
 */
import { targetModels, type VoiceFamily, type VoiceKind } from '../../dashscope/voice-services';
import { InputError } from '../../speech/input-error';
import { DEPLOY_POLL_INTERVAL_MS, DEPLOY_TIMEOUT_MS, type Polling } from '../../voices/deployment';
import { NAME_RULES } from '../../voices/rules';
import type { Message } from './message-base';
import type { VoiceJob } from './voice-node';

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

/** The node's Action field value for "from message": msg.action picks the action of each message. */
export const FROM_MESSAGE = 'msg';

/** What the node's Action field holds: one action for every message, or "from message". */
export type NodeAction = VoiceAction | typeof FROM_MESSAGE;

function normalised(value: unknown): string | undefined {
  return typeof value === 'string' ? value.trim().toLowerCase() : undefined;
}

/** The node's own Action field; blank is "create" (flows saved before the field existed). */
export function nodeActionOf(nodeAction: unknown, allowed: readonly VoiceAction[]): NodeAction {
  if (blank(nodeAction)) return 'create';
  const value = normalised(nodeAction);
  if (value === FROM_MESSAGE || (allowed as readonly string[]).includes(value ?? '')) return value as NodeAction;
  throw new InputError('InvalidSetting', `action must be one of ${allowed.join(', ')} or "${FROM_MESSAGE}" (from msg.action) (got ${JSON.stringify(nodeAction)})`);
}

export interface ChosenAction {
  action: VoiceAction;
  /** msg.action asked for another action, which a node with a fixed action does not take. */
  ignoredMessageAction?: string;
}

/** The action for one message: the node's, or, when the node's is "from message", msg.action's. */
export function actionOf(nodeAction: unknown, msgAction: unknown, allowed: readonly VoiceAction[]): ChosenAction {
  const own = nodeActionOf(nodeAction, allowed);
  if (own !== FROM_MESSAGE) {
    const asked = blank(msgAction) ? undefined : normalised(msgAction) ?? JSON.stringify(msgAction);
    return asked === undefined || asked === own ? { action: own } : { action: own, ignoredMessageAction: asked };
  }
  if (blank(msgAction)) throw new InputError('InvalidInput', `this node takes its action from the message: set msg.action to one of ${allowed.join(', ')}`);
  const asked = normalised(msgAction);
  if (asked === undefined || !(allowed as readonly string[]).includes(asked)) {
    throw new InputError('InvalidInput', `msg.action must be one of ${allowed.join(', ')} (got ${JSON.stringify(msgAction)})`);
  }
  return { action: asked as VoiceAction };
}

/**
 * Picks the action of each message for one node. When msg.action is ignored the node warns once
 * (per node, not per message: a busy flow would flood the log), and the job's message carries the
 * action actually done, so a switch node routing answers on msg.action is not misled.
 */
export function actionPicker(nodeAction: unknown, allowed: readonly VoiceAction[]): (job: VoiceJob) => { action: VoiceAction; job: VoiceJob } {
  let warned = false;
  return (job) => {
    const { action, ignoredMessageAction } = actionOf(nodeAction, job.msg.action, allowed);
    if (ignoredMessageAction === undefined) return { action, job };
    if (!warned) {
      warned = true;
      job.warn(`msg.action "${ignoredMessageAction}" was ignored: this node always does "${action}". To let messages choose the action, set the node's Action to "from msg.action". (Shown once per node.)`);
    }
    return { action, job: { ...job, msg: { ...job.msg, action } } };
  };
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
export function pollingOf(props: PollingProps, msg: Message = {}): Polling {
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
