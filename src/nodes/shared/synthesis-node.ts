import type { Node, NodeAPI, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { ConnectionManager, ConnectionState, ManagerUser } from '../../connection/connection-manager';
import { regionWarning } from '../../dashscope/catalog';
import type { AudioFormat } from '../../dashscope/cosyvoice';
import { isAuthFailure, type DashScopeError } from '../../dashscope/errors';
import { InputError } from '../../speech/input-error';
import { SpeechQueue, type SpeechEngine } from '../../speech/speech-queue';
import { Utterance, type Message } from '../../speech/utterance';
import type { TtsConfigNode } from '../tts-config/types';
import { GuardedCalls } from './guarded-calls';
import { limitsOf } from './limits';
import { NodeOutput, type DoneFn } from './node-output';
import { withOfflineFeatures, type SynthesisFeatures } from './offline-features';

export type { SynthesisFeatures } from './offline-features';

export type InputMode = 'utterance' | 'stream';

export interface SynthesisBinding<Settings> {
  /** The settings for an utterance that starts with this message (throws InputError). */
  resolve(msg: Message): Settings;
  createEngine(manager: ConnectionManager): SpeechEngine<Settings>;
  /** Registering asks the manager to keep a CosyVoice socket warm (when the config says keepWarm). */
  warmsCosyVoice?: boolean;
  /** Called once the node is registered with its config, and whenever its queue runs empty: get the next utterance's session ready. */
  prewarm?(config: TtsConfigNode): void;
  /** The node's own settings are invalid: shown at deploy so it is not discovered at the first alert. */
  settingsError?: Error;
  /** A short status label for an utterance being spoken. */
  speakingLabel?(settings: Settings): string;
  /** Part of the phrase cache key: which service's audio this is. */
  service: string;
  /** The node's model field as configured (also when its other settings are invalid). */
  model: unknown;
  /** The node's own settings (undefined when they are invalid), checked against the fallback voice at deploy. */
  defaultSettings?: Settings;
  /** The format and rate this node promises: the fallback voice keeps that promise. */
  audioOf(settings: Settings): { format: AudioFormat; sampleRate: number };
  /** The language the node is told to speak, for the fallback voice. */
  languageOf(settings: Settings): string | undefined;
  /** Opens (and parks) a connection for these settings: how a node on the fallback voice notices the service is back. */
  probe(manager: ConnectionManager, settings: Settings): Promise<unknown>;
}

type SendFn = (msg: Message | (Message | null)[]) => void;

/** Properties that steer this node and must not travel on into the audio messages. */
const CONTROL_KEYS = ['payload', 'parts', 'complete', 'stop', 'error', '_error'];

function baseMessage(msg: Message): Message {
  const base: Message = { ...msg };
  for (const key of CONTROL_KEYS) delete base[key];
  return base;
}

const STATE_STATUS: Record<ConnectionState, NodeStatus> = {
  idle: { fill: 'grey', shape: 'ring', text: 'ready' },
  connecting: { fill: 'yellow', shape: 'ring', text: 'connecting' },
  connected: { fill: 'green', shape: 'dot', text: 'ready' },
  retrying: { fill: 'yellow', shape: 'ring', text: 'reconnecting' },
  'auth-failed': { fill: 'red', shape: 'ring', text: 'invalid API key' },
  closed: {},
};

/** A refused stream whose pieces stop for this long is over: the next piece starts a new one. */
const REFUSED_STREAM_QUIET_MS = 20_000;

function tooLong(reason: string): InputError {
  return new InputError('TextTooLong', `${reason} (settings.js ttsLimits.utteranceCharacters)`);
}

function shortError(err: Error): string {
  if (isAuthFailure(err)) return 'invalid API key';
  const code = (err as Partial<DashScopeError>).code;
  const text = code && code !== 'InvalidSetting' && code !== 'InvalidInput' ? `${code}: ${err.message}` : err.message;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The Node-RED side of a synthesis node: messages in, utterances queued, audio and events out,
 * status kept honest. Everything protocol-specific lives in the binding.
 */
export function attachSynthesis<Settings>(
  RED: NodeAPI,
  node: Node,
  configId: string,
  inputMode: InputMode,
  binding: SynthesisBinding<Settings>,
  features: SynthesisFeatures = { cache: false, fallback: false },
): void {
  const config = RED.nodes.getNode(configId) as TtsConfigNode | null;
  if (!config) {
    node.status({ fill: 'red', shape: 'ring', text: 'no tts-config selected' });
    node.on('input', (msg: NodeMessageInFlow, _send: SendFn, done: DoneFn) => {
      done(new InputError('NoConfig', 'select a tts-config node'));
      void msg;
    });
    return;
  }
  // Once, at deploy, and nothing else changes: the catalog is a snapshot and the service decides
  // (docs/protocol.md "Endpoints and regions").
  const regionNote = typeof binding.model === 'string' ? regionWarning(binding.model, config.region) : undefined;
  if (regionNote) node.warn(regionNote);
  if (!config.manager) {
    const reason = config.configError ?? 'the tts-config node is not usable';
    node.status({ fill: 'red', shape: 'ring', text: reason.length > 60 ? `${reason.slice(0, 57)}...` : reason });
    node.on('input', (_msg: NodeMessageInFlow, _send: SendFn, done: DoneFn) => done(new InputError('ConfigError', reason)));
    return;
  }

  const limits = limitsOf(RED.settings as unknown as Record<string, unknown>);
  /** Calls into Node-RED from socket and timer handlers, where a throw would escape into the process. */
  const calls = new GuardedCalls(node);

  let connection: ConnectionState = 'idle';
  let closing = false;
  let lastError: string | undefined = binding.settingsError ? shortError(binding.settingsError) : undefined;
  if (binding.settingsError) node.error(binding.settingsError.message);
  /** Why the fallback voice cannot speak, found at deploy (not at the moment of an alert). */
  let fallbackProblem: string | undefined;
  let onFallbackVoice = false;
  const showIdle = (): void => {
    if (lastError) calls.status({ fill: 'red', shape: 'ring', text: lastError });
    else if (onFallbackVoice) calls.status({ fill: 'yellow', shape: 'dot', text: 'service unreachable: fallback voice' });
    else if (fallbackProblem) calls.status({ fill: 'yellow', shape: 'ring', text: 'no fallback voice' });
    else calls.status(STATE_STATUS[connection]);
  };
  const { engine, fallback } = withOfflineFeatures(RED, node, config, config.manager, binding, features, {
    onFallback: (active) => {
      onFallbackVoice = active;
      if (queue.speaking) calls.status({ fill: 'blue', shape: 'dot', text: active ? 'speaking (fallback voice)' : 'speaking' });
      else showIdle();
    },
    onFallbackProblem: (problem) => {
      if (closing) return;
      fallbackProblem = problem;
      if (!queue.speaking) showIdle();
    },
  });
  const queue = new SpeechQueue<Settings>(engine, (state, utterance) => {
    if (state === 'speaking' && utterance) {
      const label = onFallbackVoice ? 'fallback voice' : binding.speakingLabel?.(utterance.settings);
      calls.status({ fill: 'blue', shape: 'dot', text: label ? `speaking (${label})` : 'speaking' });
    } else {
      showIdle();
      // Not after a stop: an urgent utterance may follow at once and needs the spare socket.
      if (state === 'idle' && !closing) binding.prewarm?.(config);
    }
  });
  const user: ManagerUser = {
    id: node.id,
    onConnectionState: (state: ConnectionState, err?: DashScopeError) => {
      connection = state;
      fallback?.connectionState(state, err);
      if (state === 'auth-failed') lastError = 'invalid API key';
      else if (state === 'retrying' && err && !onFallbackVoice) calls.status({ fill: 'yellow', shape: 'ring', text: 'reconnecting' });
      if (!queue.speaking) showIdle();
    },
  };
  config.register(user, { prewarmCosyVoice: binding.warmsCosyVoice === true });
  binding.prewarm?.(config);

  let streaming: Utterance<Settings> | undefined;
  let streamingDones: DoneFn[] = [];
  let streamedCharacters = 0;
  /**
   * A stream that was refused (too long, queue full): its later pieces are dropped until
   * msg.complete, msg.stop, or a pause of REFUSED_STREAM_QUIET_MS (an upstream that failed may
   * never send its complete). When the last piece was dropped, for that pause.
   */
  let refusedStream = false;
  let refusedStreamAt = 0;

  function fail(err: Error, done: DoneFn): void {
    lastError = shortError(err);
    calls.status({ fill: 'red', shape: 'ring', text: lastError });
    done(err);
  }

  function outputFor(send: SendFn, firstDone: DoneFn, stop: () => void): NodeOutput {
    return new NodeOutput(send, firstDone, {
      ended: (output, err) => {
        if (err) {
          lastError = shortError(err);
          calls.status({ fill: 'red', shape: 'ring', text: lastError });
        } else lastError = undefined;
        // A stream whose utterance ended early (failed or stopped): later tokens start a new one.
        if (streaming?.output === output) streaming = undefined;
      },
      abandon: stop,
    }, calls);
  }

  node.on('input', (raw: NodeMessageInFlow, send: SendFn, done: DoneFn) => {
    const msg = raw as unknown as Message;
    if (msg.stop === true) {
      queue.stop();
      streaming = undefined;
      refusedStream = false;
      if (msg.payload === undefined || msg.payload === null || msg.payload === '') {
        done();
        return;
      }
    }
    const payload = msg.payload;
    const complete = msg.complete === true;
    if (typeof payload !== 'string' && !(inputMode === 'stream' && complete && (payload === undefined || payload === null))) {
      const got = payload === null ? 'null' : Buffer.isBuffer(payload) ? 'a Buffer' : Array.isArray(payload) ? 'an array' : typeof payload;
      fail(new InputError('InvalidInput', `msg.payload must be a string of text to speak (got ${got})`), done);
      return;
    }
    const text = typeof payload === 'string' ? payload : '';

    if (inputMode === 'stream' && refusedStream && Date.now() - refusedStreamAt < REFUSED_STREAM_QUIET_MS) {
      // Already reported, on the piece that was refused: the rest of that stream is not spoken.
      refusedStreamAt = Date.now();
      if (complete) refusedStream = false;
      done();
      return;
    }
    refusedStream = false;

    if (inputMode === 'stream' && streaming) {
      if (streamedCharacters + text.length > limits.utteranceCharacters) {
        // What came so far is spoken; the rest of this stream is not (it is billed per character).
        streaming.end();
        streaming = undefined;
        refuseStream(!complete);
        fail(tooLong(`this stream passed ${limits.utteranceCharacters} characters: the text so far is spoken, the rest of the stream (until msg.complete) is not`), done);
        return;
      }
      streamedCharacters += text.length;
      streamingDones.push(done);
      streaming.append(text);
      if (complete) {
        streaming.end();
        streaming = undefined;
      }
      return;
    }

    if (text.trim() === '') {
      // A stream may well open with a bare space; only a stream that ends empty is worth a warning.
      if (inputMode === 'utterance') node.warn('empty text: nothing to speak (not sent to the service)');
      else if (complete) node.warn('a stream ended without any text: nothing to speak');
      done();
      return;
    }
    const whole = inputMode === 'utterance' || complete;
    const refusal = refuse(text);
    if (refusal) {
      refuseStream(!whole);
      fail(refusal, done);
      return;
    }
    const utterance = startUtterance(msg, send, done, text, whole);
    if (utterance && !whole) {
      streaming = utterance;
      streamedCharacters = text.length;
    }
  });

  function refuseStream(more: boolean): void {
    refusedStream = more;
    refusedStreamAt = Date.now();
  }

  /** Why a new utterance with this text cannot be taken (settings.js ttsLimits), if it cannot. */
  function refuse(text: string): InputError | undefined {
    if (text.length > limits.utteranceCharacters) {
      return tooLong(`the text has ${text.length} characters; the limit is ${limits.utteranceCharacters}: nothing of it was sent`);
    }
    if (queue.length >= limits.queuedUtterances) {
      return new InputError('QueueFull', `${queue.length} utterances are already queued (the limit, settings.js ttsLimits.queuedUtterances): this one was not spoken`);
    }
    return undefined;
  }

  /**
   * A new utterance for this message's settings, queued at once; undefined when they are invalid.
   * Its text (and, for a whole utterance, its end) is set before it is queued, so the phrase cache
   * sees a complete utterance it can look up.
   */
  function startUtterance(msg: Message, send: SendFn, done: DoneFn, text: string, whole: boolean): Utterance<Settings> | undefined {
    let settings: Settings;
    try {
      settings = binding.resolve(msg);
    } catch (err) {
      fail(err as Error, done);
      return undefined;
    }
    const output = outputFor(send, done, () => queue.cancel(utterance));
    streamingDones = output.dones;
    const utterance: Utterance<Settings> = new Utterance(settings, baseMessage(msg), output);
    utterance.append(text);
    if (whole) utterance.end();
    queue.submit(utterance);
    return utterance;
  }

  node.on('close', (removed: boolean, done: () => void) => {
    closing = true;
    fallback?.close();
    queue.close();
    streaming = undefined;
    config.deregister(user, removed);
    done();
  });
}
