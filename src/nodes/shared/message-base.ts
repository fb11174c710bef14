import { isAuthFailure, type DashScopeError } from '../../dashscope/errors';

export type Message = Record<string, unknown>;

/**
 * The input message's other properties (topic etc.), to travel on in an output message. The
 * control keys steer the node that received the message and must not leak into what it sends.
 * Built by copying, not by deleting from a copy: an object that had properties deleted turns into
 * a slow dictionary, and every audio chunk of an utterance is a copy of this one.
 */
export function baseMessage(msg: Message, controlKeys: readonly string[]): Message {
  const base: Message = {};
  for (const key of Object.keys(msg)) if (!controlKeys.includes(key)) base[key] = msg[key];
  return base;
}

/** Error codes whose message says it all: a status shows the message alone. */
const SELF_EXPLAINING_CODES = ['InvalidSetting', 'InvalidInput', 'InvalidSample', 'InvalidDesign', 'VoiceRequired'];

/** Room under a node on the canvas. */
const STATUS_CHARACTERS = 60;

export function clipStatus(text: string, max = STATUS_CHARACTERS): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/**
 * An error as the one line a node status has room for. Never the key: errors never carry it.
 * `invalidKey`: the status catalog's words for a refused key.
 */
export function statusOfError(err: Error, invalidKey = 'invalid API key'): string {
  if (isAuthFailure(err)) return invalidKey;
  const code = (err as Partial<DashScopeError>).code;
  // "voice sample refused (nothing was sent): the sample is ..." — the status has room for the reason only.
  const message = err.message.replace(/^[^:]*\(nothing was sent\): /, '');
  return clipStatus(code && !SELF_EXPLAINING_CODES.includes(code) ? `${code}: ${message}` : message);
}
