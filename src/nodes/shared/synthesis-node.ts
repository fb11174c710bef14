import type { Node, NodeAPI, NodeMessageInFlow, NodeStatus } from 'node-red';
import { ttlMsOf } from '../../audio/announcement';
import type { ConnectionState, ManagerUser } from '../../connection/connection-manager';
import { regionWarning } from '../../dashscope/catalog';
import type { DashScopeError } from '../../dashscope/errors';
import { InputError } from '../../speech/input-error';
import { SpeechQueue } from '../../speech/speech-queue';
import { Utterance } from '../../speech/utterance';
import type { TtsConfigNode } from '../tts-config/types';
import { GuardedCalls } from './guarded-calls';
import { limitsOf } from './limits';
import { baseMessage, statusOfError, clipStatus, type Message } from './message-base';
import { statusTexts } from './status-text';
import { NodeOutput, type DoneFn } from './node-output';
import { withOfflineFeatures, type SynthesisFeatures } from './offline-features';
import type { SynthesisBinding } from './synthesis-binding';

export type { SynthesisFeatures } from './offline-features';
export type { SynthesisBinding } from './synthesis-binding';

export type InputMode = 'utterance' | 'stream';


type SendFn = (msg: Message | (Message | null)[]) => void;

/** Properties that steer this node and must not travel on into the audio messages. */
const CONTROL_KEYS = ['payload', 'parts', 'complete', 'stop', 'error', '_error'];


/** The status of each connection state: a fill, a shape and the name of its text. */
const STATE_STATUS: Record<ConnectionState, { fill?: NodeStatus['fill']; shape?: NodeStatus['shape']; text?: string }> = {
  idle: { fill: 'grey', shape: 'ring', text: 'ready' },
  connecting: { fill: 'yellow', shape: 'ring', text: 'connecting' },
  connected: { fill: 'green', shape: 'dot', text: 'ready' },
  retrying: { fill: 'yellow', shape: 'ring', text: 'reconnecting' },
  'auth-failed': { fill: 'red', shape: 'ring', text: 'invalidKey' },
  closed: {},
};

/** A refused stream whose pieces stop for this long is over: the next piece starts a new one. */
const REFUSED_STREAM_QUIET_MS = 20_000;

function tooLong(reason: string): InputError {
  return new InputError('TextTooLong', `${reason} (settings.js ttsLimits.utteranceCharacters)`);
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
    node.status({ fill: 'red', shape: 'ring', text: statusTexts(RED, node.type)('noConfig') });
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
    node.status({ fill: 'red', shape: 'ring', text: clipStatus(reason) });
    node.on('input', (_msg: NodeMessageInFlow, _send: SendFn, done: DoneFn) => done(new InputError('ConfigError', reason)));
    return;
  }

  const limits = limitsOf(RED.settings as unknown as Record<string, unknown>);
  /** Calls into Node-RED from socket and timer handlers, where a throw would escape into the process. */
  const calls = new GuardedCalls(node);

  let connection: ConnectionState = 'idle';
  let closing = false;
  const statusLine = statusTexts(RED, node.type);
  const errorText = (err: Error): string => statusOfError(err, statusLine('invalidKey'));
  let lastError: string | undefined = binding.settingsError ? errorText(binding.settingsError) : undefined;
  if (binding.settingsError) node.error(binding.settingsError.message);
  /** Why the fallback voice cannot speak, found at deploy (not at the moment of an alert). */
  let fallbackProblem: string | undefined;
  let onFallbackVoice = false;
  const showIdle = (): void => {
    if (lastError) calls.status({ fill: 'red', shape: 'ring', text: lastError });
    else if (onFallbackVoice) calls.status({ fill: 'yellow', shape: 'dot', text: statusLine('onFallbackVoice') });
    else if (fallbackProblem) calls.status({ fill: 'yellow', shape: 'ring', text: statusLine('noFallbackVoice') });
    else {
      const state = STATE_STATUS[connection];
      calls.status(state.text ? { ...state, text: statusLine(state.text) } : state);
    }
  };
  const { engine, fallback } = withOfflineFeatures(RED, node, config, config.manager, binding, features, {
    onFallback: (active) => {
      onFallbackVoice = active;
      if (queue.speaking) calls.status({ fill: 'blue', shape: 'dot', text: statusLine(active ? 'speakingFallback' : 'speaking') });
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
      const label = onFallbackVoice ? undefined : binding.speakingLabel?.(utterance.settings);
      const line = onFallbackVoice ? statusLine('speakingFallback') : label ? statusLine('speakingAs', { label }) : statusLine('speaking');
      calls.status({ fill: 'blue', shape: 'dot', text: line });
    } else {
      showIdle();
      // Not after a stop: an urgent utterance may follow at once and needs the spare socket.
      if (state === 'idle' && !closing) binding.prewarm?.(config);
    }
  }, (utterance, waitedMs) => expire(utterance, waitedMs));
  const user: ManagerUser = {
    id: node.id,
    onConnectionState: (state: ConnectionState, err?: DashScopeError) => {
      connection = state;
      fallback?.connectionState(state, err);
      if (state === 'auth-failed') lastError = statusLine('invalidKey');
      else if (state === 'retrying' && err && !onFallbackVoice) calls.status({ fill: 'yellow', shape: 'ring', text: statusLine('reconnecting') });
      if (!queue.speaking) showIdle();
    },
  };
  config.register(user, { prewarmCosyVoice: binding.warmsCosyVoice === true });
  binding.prewarm?.(config);

  let streaming: Utterance<Settings> | undefined;
  /** The stream's own output: the phrase cache and the fallback voice wrap its events, not this. */
  let streamingOutput: NodeOutput | undefined;
  let streamedCharacters = 0;
  /**
   * A stream that was refused (too long, queue full) or expired: its later pieces are dropped until
   * msg.complete, msg.stop, or a pause of REFUSED_STREAM_QUIET_MS (an upstream that failed may
   * never send its complete). When the last piece was dropped, for that pause.
   */
  let refusedStream = false;
  let refusedStreamAt = 0;

  function fail(err: Error, done: DoneFn): void {
    lastError = errorText(err);
    calls.status({ fill: 'red', shape: 'ring', text: lastError });
    done(err);
  }

  function outputFor(base: Message, send: SendFn, firstDone: DoneFn, stop: () => void): NodeOutput {
    return new NodeOutput(base, send, firstDone, {
      ended: (output, err) => {
        if (err) {
          lastError = errorText(err);
          calls.status({ fill: 'red', shape: 'ring', text: lastError });
        } else lastError = undefined;
        // A stream whose utterance ended early (failed or stopped): later tokens start a new one.
        if (streamingOutput === output) {
          streaming = undefined;
          streamingOutput = undefined;
        }
      },
      abandon: stop,
    }, calls);
  }

  /**
   * Its msg.ttl passed while it waited for its turn: said nowhere, reported on output 2. A waiting
   * utterance's events are still the node's own output (the phrase cache and the fallback voice
   * wrap them only once it is spoken).
   */
  function expire(utterance: Utterance<Settings>, waitedMs: number): void {
    const output = utterance.events;
    if (!(output instanceof NodeOutput)) {
      output.stopped();
      return;
    }
    // The rest of an expired stream is not spoken either (not as a new utterance, late).
    if (streamingOutput === output && !utterance.ended) refuseStream(true);
    const ttl = (utterance.ttlMs ?? 0) / 1000;
    const { format, sampleRate } = binding.audioOf(utterance.settings);
    calls.log(`msg.ttl of ${ttl} s passed while the text waited ${(waitedMs / 1000).toFixed(1)} s for its turn: not spoken (not sent to the service)`);
    output.expired({
      text: utterance.text,
      model: typeof binding.model === 'string' ? binding.model : '',
      // The speaking label is the voice, in both nodes.
      voice: binding.speakingLabel?.(utterance.settings) ?? '',
      format,
      sampleRate,
      bytes: 0,
      durationMs: 0,
      characters: 0,
      expired: true,
      ttl,
      waitedMs: Math.round(waitedMs),
    });
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
      streamingOutput?.dones.push(done);
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
    let ttlMs: number | undefined;
    try {
      // A bad msg.ttl is refused before anything is sent: it stays on the message (pcm speaker reads it too).
      ttlMs = ttlMsOf(msg.ttl);
      settings = binding.resolve(msg);
    } catch (err) {
      fail(err as Error, done);
      return undefined;
    }
    const output = outputFor(baseMessage(msg, CONTROL_KEYS), send, done, () => queue.cancel(utterance));
    streamingOutput = output;
    const utterance: Utterance<Settings> = new Utterance(settings, output, ttlMs);
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
