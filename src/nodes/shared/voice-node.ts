import type { Node, NodeAPI, NodeMessageInFlow, NodeStatus } from 'node-red';
import { isAuthFailure, type DashScopeError } from '../../dashscope/errors';
import type { HttpAccess } from '../../dashscope/http-json';
import { InputError } from '../../speech/input-error';
import { GuardedCalls } from './guarded-calls';
import { limitsOf } from './limits';
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
  const limits = limitsOf(RED.settings as unknown as Record<string, unknown>);
  let tail: Promise<void> = Promise.resolve();
  /** Messages taken and not yet done, the one being worked on included. */
  let pending = 0;
  let idleStatus: NodeStatus = {};

  if (!config) idleStatus = { fill: 'red', shape: 'ring', text: 'no tts-config selected' };
  else if (!config.http) idleStatus = { fill: 'red', shape: 'ring', text: clip(config.configError ?? 'the tts-config node is not usable') };
  else if (binding.settingsError) {
    idleStatus = { fill: 'red', shape: 'ring', text: shortError(binding.settingsError) };
    node.error(binding.settingsError.message);
  }
  node.status(idleStatus);

  /** Calls into Node-RED while a job runs (status, warnings, done), where a throw must not end the line of jobs. */
  const calls = new GuardedCalls(node);

  async function work(msg: Message, send: SendFn, done: DoneFn): Promise<void> {
    if (aborter.signal.aborted) return calls.done(done, new InputError('Closed', 'stopped: the node was closed'), msg);
    const http = config?.http;
    if (!config) return calls.done(done, new InputError('NoConfig', 'select a tts-config node'), msg);
    if (!http) return calls.done(done, new InputError('ConfigError', config.configError ?? 'the tts-config node is not usable'), msg);
    // A send that throws (a message Node-RED cannot clone for a second wire) must not cut the job
    // short: the voice may exist already, and its id must still go out on output 1.
    let sendFailure: Error | undefined;
    const job: VoiceJob = {
      msg,
      send: (out) => {
        try {
          send(out);
        } catch (err) {
          sendFailure ??= err instanceof Error ? err : new Error(String(err));
        }
      },
      http,
      signal: aborter.signal,
      progress: (text) => calls.status({ fill: 'blue', shape: 'dot', text: clip(text) }),
      warn: (text) => calls.warn(text),
    };
    let failure: Error | undefined;
    try {
      const summary = await binding.run(job);
      if (sendFailure) failure = new InputError('SendFailed', `${summary}, but a message could not be passed on: ${sendFailure.message}`);
      else idleStatus = { fill: 'green', shape: 'dot', text: clip(summary) };
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    if (failure) idleStatus = { fill: 'red', shape: 'ring', text: shortError(failure) };
    if (!failure || !aborter.signal.aborted) calls.status(idleStatus);
    calls.done(done, failure, msg);
  }

  node.on('input', (raw: NodeMessageInFlow, send: SendFn, done: DoneFn) => {
    const msg = raw as unknown as Message;
    // Each message may be a billed creation and carry a 10 MB sample: the line is bounded.
    if (pending >= limits.queuedUtterances) {
      calls.done(done, new InputError('QueueFull', `${pending} messages are already waiting (the limit, settings.js ttsLimits.queuedUtterances): this one was not handled`), msg);
      return;
    }
    pending++;
    tail = tail
      .then(() => work(msg, send, done))
      // work() settles every message itself; nothing may leave the line rejected for the next one.
      .catch(() => undefined)
      .finally(() => {
        pending--;
      });
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    aborter.abort();
    // Aborting makes the current job end at once (its timers are cleared); queued ones are refused.
    tail.then(done, done);
  });
}
