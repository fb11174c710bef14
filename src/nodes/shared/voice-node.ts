import type { Node, NodeAPI, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { HttpAccess } from '../../dashscope/http-json';
import { InputError } from '../../speech/input-error';
import { GuardedCalls } from './guarded-calls';
import { limitsOf } from './limits';
import type { VoiceStep } from '../../voices/context';
import { baseMessage, clipStatus, statusOfError, type Message } from './message-base';
import { statusTexts, type StatusParams } from './status-text';
import type { TtsConfigNode } from '../tts-config/types';

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
  progress(step: VoiceStep, detail?: { seconds: number }): void;
  warn(text: string): void;
}

/** What a finished job shows: a status line of the node's catalog (`ready`, `deleted`…) and its values. */
export interface VoiceOutcome {
  status: 'ready' | 'updated' | 'listed' | 'listedOne' | 'queried' | 'deleted';
  params: { voice: string; state?: string } | { count: number };
}

export interface VoiceNodeBinding {
  /** The node's own settings are invalid: shown at deploy, not discovered at the first message. */
  settingsError?: Error;
  /** Does the message's work; resolves with what the status says of it. */
  run(job: VoiceJob): Promise<VoiceOutcome>;
}

/**
 * Properties that must not travel on into the output messages: the input's payload (replaced),
 * its parts (an output is not part of the input's sequence) and an earlier error.
 * msg.action stays, so a switch node can route the answers of different actions.
 */
const CONTROL_KEYS = ['payload', 'parts', 'error', '_error'];

/** The input message's other properties (topic etc.), for an output message of a voice node. */
export function outputBase(msg: Message): Message {
  return baseMessage(msg, CONTROL_KEYS);
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

  const statusLine = statusTexts(RED, node.type);
  const errorText = (err: Error): string => statusOfError(err, statusLine('invalidKey'));
  if (!config) idleStatus = { fill: 'red', shape: 'ring', text: statusLine('noConfig') };
  else if (!config.http) idleStatus = { fill: 'red', shape: 'ring', text: clipStatus(config.configError ?? 'the tts-config node is not usable') };
  else if (binding.settingsError) {
    idleStatus = { fill: 'red', shape: 'ring', text: errorText(binding.settingsError) };
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
      progress: (step, detail) => calls.status({ fill: 'blue', shape: 'dot', text: clipStatus(detail ? statusLine(`${step}For`, detail) : statusLine(step)) }),
      warn: (text) => calls.warn(text),
    };
    let failure: Error | undefined;
    try {
      const outcome = await binding.run(job);
      const done = statusLine(outcome.status, outcome.params as StatusParams);
      if (sendFailure) failure = new InputError('SendFailed', `${done}, but a message could not be passed on: ${sendFailure.message}`);
      else idleStatus = { fill: 'green', shape: 'dot', text: clipStatus(done) };
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    if (failure) idleStatus = { fill: 'red', shape: 'ring', text: errorText(failure) };
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
