import type { Node, NodeAPI, NodeMessageInFlow, NodeStatus } from 'node-red';
import { isAuthFailure, type DashScopeError } from '../../dashscope/errors';
import type { HttpAccess } from '../../dashscope/http-json';
import { InputError } from '../../speech/input-error';
import type { TtsConfigNode } from '../tts-config/types';

export type Message = Record<string, unknown>;
/** Node-RED's send: one message, or one entry per output (a message, several, or none). */
export type SendFn = (msg: Message | (Message | Message[] | null)[]) => void;
type DoneFn = (err?: Error) => void;

/** One input message being worked on, with what the work needs. */
export interface VoiceJob {
  readonly msg: Message;
  readonly send: SendFn;
  readonly http: HttpAccess;
  /** Aborted when the node closes (redeploy): uploads, calls and polling stop. */
  readonly signal: AbortSignal;
  /** Progress on the node's status line (blue while working). */
  progress(text: string): void;
  warn(text: string): void;
}

export interface VoiceNodeBinding {
  /** The node's own settings are invalid: shown at deploy, not discovered at the first message. */
  settingsError?: Error;
  /** Does the message's work; resolves with a short status text for success. */
  run(job: VoiceJob): Promise<string>;
}

/**
 * Properties that must not travel on into the output messages: the input's payload (replaced),
 * its parts (an output is not part of the input's sequence) and an earlier error.
 * msg.action stays, so a switch node can route the answers of different actions.
 */
const CONTROL_KEYS = ['payload', 'parts', 'error', '_error'];

/** The input message's other properties (topic etc.), for an output message. */
export function baseMessage(msg: Message): Message {
  const base: Message = { ...msg };
  for (const key of CONTROL_KEYS) delete base[key];
  return base;
}

/** Codes whose message says it all: the status shows the message alone. */
const OWN_CODES = ['InvalidSetting', 'InvalidInput', 'InvalidSample', 'InvalidDesign'];

function shortError(err: Error): string {
  if (isAuthFailure(err)) return 'invalid API key';
  const code = (err as Partial<DashScopeError>).code;
  // "voice sample refused (nothing was sent): the sample is ..." — the status has room for the reason only.
  const message = err.message.replace(/^[^:]*\(nothing was sent\): /, '');
  return clip(code && !OWN_CODES.includes(code) ? `${code}: ${message}` : message);
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The Node-RED side of voice-clone and voice-design: messages are worked on one at a time, in
 * order (creations are billed, and the services rate-limit), each ends with done() or done(err)
 * so catch and complete nodes work, and the status says what is going on. Nothing is called on
 * deploy: only a message starts work.
 */
export function attachVoiceNode(RED: NodeAPI, node: Node, configId: string, binding: VoiceNodeBinding): void {
  const config = RED.nodes.getNode(configId) as TtsConfigNode | null;
  const aborter = new AbortController();
  let tail: Promise<void> = Promise.resolve();
  let idleStatus: NodeStatus = {};

  if (!config) idleStatus = { fill: 'red', shape: 'ring', text: 'no tts-config selected' };
  else if (!config.http) idleStatus = { fill: 'red', shape: 'ring', text: clip(config.configError ?? 'the tts-config node is not usable') };
  else if (binding.settingsError) {
    idleStatus = { fill: 'red', shape: 'ring', text: shortError(binding.settingsError) };
    node.error(binding.settingsError.message);
  }
  node.status(idleStatus);

  async function work(msg: Message, send: SendFn, done: DoneFn): Promise<void> {
    if (aborter.signal.aborted) return done(new InputError('Closed', 'stopped: the node was closed'));
    const http = config?.http;
    if (!config) return done(new InputError('NoConfig', 'select a tts-config node'));
    if (!http) return done(new InputError('ConfigError', config.configError ?? 'the tts-config node is not usable'));
    const job: VoiceJob = {
      msg,
      send,
      http,
      signal: aborter.signal,
      progress: (text) => node.status({ fill: 'blue', shape: 'dot', text: clip(text) }),
      warn: (text) => node.warn(text),
    };
    try {
      const summary = await binding.run(job);
      idleStatus = { fill: 'green', shape: 'dot', text: clip(summary) };
      node.status(idleStatus);
      done();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      idleStatus = { fill: 'red', shape: 'ring', text: shortError(error) };
      if (!aborter.signal.aborted) node.status(idleStatus);
      done(error);
    }
  }

  node.on('input', (raw: NodeMessageInFlow, send: SendFn, done: DoneFn) => {
    const msg = raw as unknown as Message;
    tail = tail.then(() => work(msg, send, done));
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    aborter.abort();
    // Aborting makes the current job end at once (its timers are cleared); queued ones are refused.
    tail.then(done, done);
  });
}
