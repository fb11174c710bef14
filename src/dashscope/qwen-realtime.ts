import type WebSocket from 'ws';
import type { Credentials } from './auth';
import type { AudioFormat } from '../audio/audio-message';
import { closedError, DashScopeError, serviceError, timeoutError } from './errors';
import { newEventId } from './ids';
import { openSocket, parseJsonFrame } from './socket';
import type { WireTap } from './wire-tap';

export type QwenMode = 'server_commit' | 'commit';

/** session.update fields this package sets (camelCase of the wire names). */
export interface QwenSessionSettings {
  voice: string;
  mode: QwenMode;
  responseFormat: AudioFormat;
  sampleRate: number;
  languageType?: string;
  speechRate?: number;
  volume?: number;
  pitchRate?: number;
  bitRate?: number;
  instructions?: string;
  optimizeInstructions?: boolean;
}

const WIRE_NAMES: Record<keyof QwenSessionSettings, string> = {
  voice: 'voice',
  mode: 'mode',
  responseFormat: 'response_format',
  sampleRate: 'sample_rate',
  languageType: 'language_type',
  speechRate: 'speech_rate',
  volume: 'volume',
  pitchRate: 'pitch_rate',
  bitRate: 'bit_rate',
  instructions: 'instructions',
  optimizeInstructions: 'optimize_instructions',
};

export function sessionUpdatePayload(settings: QwenSessionSettings): Record<string, unknown> {
  const session: Record<string, unknown> = {};
  for (const [key, wire] of Object.entries(WIRE_NAMES) as [keyof QwenSessionSettings, string][]) {
    const value = settings[key];
    if (value !== undefined && value !== '') session[wire] = value;
  }
  return session;
}

export interface ResponseResult {
  responseId: string;
  /** completed | cancelled | failed | incomplete (cancelled only after response.cancel: docs/protocol.md "Qwen: response status") */
  status: string;
  /** Billed characters of this response (qwen3 models); undefined for token-billed models. */
  characters?: number;
  usage: Record<string, unknown>;
  audioBytes: number;
}

const STATUS_CODES: Record<string, string> = { failed: 'ResponseFailed', incomplete: 'ResponseIncomplete', cancelled: 'ResponseCancelled' };

/**
 * A response that ended with a status other than `completed`: part of its text was never spoken
 * (docs/protocol.md "Qwen: response status"). Saying it again may well succeed.
 */
export function responseStatusError(result: ResponseResult): DashScopeError {
  return new DashScopeError({
    code: STATUS_CODES[result.status] ?? 'ResponseFailed',
    message: `the service ended response ${result.responseId || '(no id)'} as "${result.status}": the utterance was not fully spoken`,
    origin: 'session',
    retryable: true,
  });
}

/** What the session's current user hears. Replaced as the session passes from user to user. */
export interface SessionListener {
  onAudio(chunk: Buffer, responseId: string): void;
  onResponseDone(result: ResponseResult): void;
  onResponseCreated?(responseId: string): void;
  onError?(err: DashScopeError): void;
  onCommitted?(itemId: string): void;
  onCleared?(): void;
  onSessionFinished?(): void;
  /**
   * The socket closed; `err` unless it closed after session.finished, or closed normally (1000)
   * after session.finish with no response streaming.
   */
  onClosed?(err: DashScopeError | undefined): void;
}

export interface QwenOpenOptions {
  connectTimeoutMs: number;
  /** How long to wait for session.created, then for session.updated. */
  setupTimeoutMs: number;
  /** Records the session's traffic (the live check); the speech nodes give none. */
  tap?: WireTap;
}

export const QWEN_OPEN_DEFAULTS: QwenOpenOptions = { connectTimeoutMs: 10_000, setupTimeoutMs: 10_000 };

type Waiter = { resolve: (session: Record<string, unknown>) => void; reject: (err: DashScopeError) => void };

/**
 * One Qwen-TTS-Realtime session (= one WebSocket). The service honours a single session.update
 * per connection, so settings are fixed at open; different settings need another session.
 */
export class QwenRealtimeSession {
  listener: SessionListener | undefined;
  sessionId = '';
  readonly openedAt = Date.now();
  lastUsed = Date.now();
  private open = true;
  private finishing = false;
  private finishedCleanly = false;
  /** The service sent an `error` event on this session at some point. */
  private errored = false;
  private unheardError = false;
  private updated = false;
  private setupWaiter: Waiter | undefined;
  private activeResponse: string | undefined;
  private responseBytes = 0;
  private closeListeners: ((session: QwenRealtimeSession) => void)[] = [];

  private constructor(
    private readonly ws: WebSocket,
    readonly model: string,
  ) {
    ws.on('message', (data) => this.onMessage(data as Buffer));
    ws.on('close', (code, reason) => this.handleSocketClose(code, reason.toString()));
    ws.on('error', () => undefined); // 'close' follows with the outcome
  }

  /** Connects, waits for session.created, sends the one session.update and waits for session.updated. */
  static async open(
    url: string,
    model: string,
    credentials: Credentials,
    settings: QwenSessionSettings,
    options: QwenOpenOptions = QWEN_OPEN_DEFAULTS,
  ): Promise<QwenRealtimeSession> {
    const { session, setup } = await openSocket(url, credentials, { connectTimeoutMs: options.connectTimeoutMs, tap: options.tap }, (ws) => {
      const adopted = new QwenRealtimeSession(ws, model);
      return { session: adopted, setup: adopted.awaitSetup(options.setupTimeoutMs, 'session.created') };
    });
    try {
      const created = await setup;
      session.sessionId = typeof created.id === 'string' ? created.id : '';
      session.send({ type: 'session.update', session: sessionUpdatePayload(settings) });
      await session.awaitSetup(options.setupTimeoutMs, 'session.updated');
      session.updated = true;
      return session;
    } catch (err) {
      session.terminate();
      throw err;
    }
  }

  /** Open, not finishing, and never sent an error while nobody was listening (a parked session the service is ending). */
  get isOpen(): boolean {
    return this.open && !this.finishing && !this.unheardError;
  }

  /** A response is streaming. */
  get responding(): boolean {
    return this.activeResponse !== undefined;
  }

  append(text: string): void {
    this.send({ type: 'input_text_buffer.append', text });
  }

  commit(): void {
    this.send({ type: 'input_text_buffer.commit' });
  }

  clear(): void {
    this.send({ type: 'input_text_buffer.clear' });
  }

  /** Stops the active response (SDK-only event; the service's answer is unconfirmed). */
  cancelResponse(): void {
    this.send({ type: 'response.cancel' });
  }

  /** "No more text": the service drains, sends session.finished and closes the socket. */
  finish(): void {
    if (!this.open || this.finishing) return;
    this.send({ type: 'session.finish' });
    this.finishing = true;
  }

  onClose(listener: (session: QwenRealtimeSession) => void): void {
    this.closeListeners.push(listener);
  }

  close(code = 1000): void {
    if (!this.open) return;
    this.ws.close(code);
    const force = setTimeout(() => this.ws.terminate(), 2000);
    force.unref?.();
    this.ws.once('close', () => clearTimeout(force));
  }

  terminate(): void {
    this.ws.terminate();
  }

  private send(event: Record<string, unknown>): void {
    if (!this.open || this.finishing) return;
    this.lastUsed = Date.now();
    this.ws.send(JSON.stringify({ event_id: newEventId(), ...event }));
  }

  private awaitSetup(ms: number, what: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.setupWaiter = undefined;
        reject(timeoutError('StartTimeout', `${what} did not arrive within ${ms} ms`));
      }, ms);
      timer.unref?.();
      this.setupWaiter = {
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  private settleSetup(outcome: Record<string, unknown> | DashScopeError): void {
    const waiter = this.setupWaiter;
    this.setupWaiter = undefined;
    if (!waiter) return;
    if (outcome instanceof DashScopeError) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  private onMessage(data: Buffer): void {
    const event = parseJsonFrame(data);
    const type = event?.type;
    if (!event || typeof type !== 'string') {
      this.protocolFailure();
      return;
    }
    switch (type) {
      case 'response.audio.delta': {
        const delta = event.delta;
        if (typeof delta !== 'string' || delta.length === 0) return;
        const chunk = Buffer.from(delta, 'base64');
        this.responseBytes += chunk.length;
        this.listener?.onAudio(chunk, String(event.response_id ?? this.activeResponse ?? ''));
        return;
      }
      case 'session.created':
      case 'session.updated':
        this.settleSetup((event.session ?? {}) as Record<string, unknown>);
        return;
      case 'response.created': {
        const response = (event.response ?? {}) as Record<string, unknown>;
        this.activeResponse = String(response.id ?? '');
        this.responseBytes = 0;
        this.listener?.onResponseCreated?.(this.activeResponse);
        return;
      }
      case 'response.done':
        this.onResponseDone((event.response ?? {}) as Record<string, unknown>);
        return;
      case 'input_text_buffer.committed':
        this.listener?.onCommitted?.(String(event.item_id ?? ''));
        return;
      case 'input_text_buffer.cleared':
        this.listener?.onCleared?.();
        return;
      case 'error': {
        const body = (event.error ?? {}) as Record<string, unknown>;
        const err = serviceError('session', String(body.code ?? ''), String(body.message ?? ''));
        this.errored = true;
        if (this.setupWaiter) this.settleSetup(err);
        else if (this.listener?.onError) this.listener.onError(err);
        // Parked, with nothing sent: most likely the service ending the session (idle or duration
        // limit, unconfirmed); it is not handed to an utterance (docs/protocol.md "Qwen: sessions the service ends").
        else this.unheardError = true;
        return;
      }
      case 'session.finished':
        this.finishedCleanly = true;
        this.listener?.onSessionFinished?.();
        return;
      default:
        return; // output_item / content_part lifecycle events carry nothing this client needs
    }
  }

  private onResponseDone(response: Record<string, unknown>): void {
    const usage = (response.usage ?? {}) as Record<string, unknown>;
    const responseId = String(response.id ?? this.activeResponse ?? '');
    const audioBytes = this.responseBytes;
    this.activeResponse = undefined;
    this.responseBytes = 0;
    this.listener?.onResponseDone({
      responseId,
      status: String(response.status ?? 'completed'),
      characters: typeof usage.characters === 'number' ? usage.characters : undefined,
      usage,
      audioBytes,
    });
  }

  private protocolFailure(): void {
    const err = new DashScopeError({ code: 'ProtocolError', message: 'the service sent a malformed event', origin: 'protocol', retryable: true });
    if (this.setupWaiter) this.settleSetup(err);
    else this.listener?.onError?.(err);
    this.close(1000);
  }

  private handleSocketClose(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    // After session.finish the service closes once it has drained: a normal close between
    // responses is that end even if session.finished was lost (docs/protocol.md "Qwen: end of an utterance").
    const drained = this.finishing && code === 1000 && this.activeResponse === undefined && !this.errored;
    const err =
      this.finishedCleanly || drained
        ? undefined
        : closedError('session', code, this.updated ? 'the realtime session closed' : 'the service closed the session during setup (unknown model?)', undefined, reason);
    if (err) this.settleSetup(err);
    this.activeResponse = undefined;
    this.listener?.onClosed?.(err);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const l of listeners) l(this);
  }
}
