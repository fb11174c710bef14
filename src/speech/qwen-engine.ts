import { qwenSettingsKey, type ConnectionManager, type QwenLease } from '../connection/connection-manager';
import { backoffDelay } from '../connection/backoff';
import { DashScopeError, isThrottling, timeoutError } from '../dashscope/errors';
import { responseStatusError, type ResponseResult } from '../dashscope/qwen-realtime';
import { isBlank } from '../dashscope/text';
import { describeAudio } from '../audio/audio-message';
import { ChunkEmitter, durationMs } from './chunk-emitter';
import type { UtteranceSummary } from './utterance';
import { noAudioError } from './cosyvoice-engine';
import type { QwenUtteranceSettings } from './qwen-settings';
import type { ActiveSpeech, SpeechEngine } from './speech-queue';
import type { TextListener, Utterance } from './utterance';

export interface QwenSummary extends UtteranceSummary {
  sessionId: string;
  responseIds: string[];
  characters?: number;
  usage: Record<string, unknown>[];
}

/** In commit mode a long stream is committed at sentence ends once this much text is waiting. */
const COMMIT_AT_CHARS = 200;
const SENTENCE_END = /[。！？.!?\n]\s*$/;

export interface QwenEngineOptions {
  /** After session.finish, the longest silence from the service before the utterance is given up. */
  responseTimeoutMs: number;
  /**
   * An `error` event of a code not classed retryable, before anything was heard, may still be the
   * service ending the session (an idle or duration limit under a code nobody knows): if the socket
   * closes within this long, the utterance is said again on a fresh session; otherwise (or if the
   * session goes on sending) the error is reported (docs/protocol.md "Qwen: sessions the service ends").
   */
  closeAfterErrorMs: number;
}

export const QWEN_ENGINE_DEFAULTS: QwenEngineOptions = { responseTimeoutMs: 20_000, closeAfterErrorMs: 1000 };

export class QwenEngine implements SpeechEngine<QwenUtteranceSettings> {
  /** The settings (qwenSettingsKey) of the last utterance begun; at first the node's own. */
  private lastKey: string | undefined;

  constructor(
    private readonly manager: ConnectionManager,
    private readonly options: QwenEngineOptions = QWEN_ENGINE_DEFAULTS,
    /** The node's settings for a message without overrides (the spare opened at deploy is for them). */
    defaults?: QwenUtteranceSettings,
  ) {
    this.lastKey = defaults ? qwenSettingsKey(defaults.model, defaults.session) : undefined;
  }

  speak(utterance: Utterance<QwenUtteranceSettings>, onOver: () => void): ActiveSpeech {
    // A spare session pays off only if the next utterance has the same settings (a session takes
    // one session.update), and each one costs a request of the model's per-minute budget
    // (docs/protocol.md "Rate limits"). The best guess of the next utterance's settings is that
    // they repeat: one is opened only when this utterance repeats the one before (or the node's
    // own settings, at first). Settings that change with every message (msg.voice…) open none.
    const { model, session } = utterance.settings;
    const key = qwenSettingsKey(model, session);
    const opensSpare = key === this.lastKey;
    this.lastKey = key;
    const speech = new QwenSpeech(utterance, this.manager, this.options, onOver, opensSpare);
    speech.begin();
    return speech;
  }
}

/**
 * One utterance = one realtime session, ended with session.finish: the only documented fence
 * after which no response of this utterance can still arrive (docs/protocol.md "Qwen: end of an
 * utterance"). Nothing depends on how the service cuts the text into responses, whether it
 * announces its cuts, or how it answers an empty commit: server_commit never commits, commit mode
 * commits only text that is there. The next utterance's session is opened while this one speaks,
 * so it pays no handshake.
 */
class QwenSpeech implements ActiveSpeech, TextListener {
  private lease: QwenLease | undefined;
  /** Aborted when the utterance is over: an acquire still waiting gives up its place. */
  private readonly stopped = new AbortController();
  private sessionId = '';
  private over = false;
  private retried = false;
  /** After the service ended a session before anything was heard: sessions opened before this are not used. */
  private freshAfter: number | undefined;
  private throttled = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Whitespace held back: a blank piece is never sent on its own, it goes ahead of the next word. */
  private heldSpace = '';
  /** commit mode: text appended since the last commit. */
  private uncommitted = '';
  private finishSent = false;
  /** Events other than audio since the session was taken: with emitter.chunks, the watchdog's proof of life. */
  private events = 0;
  /** An error before anything was heard, waiting to see whether the session closes (see closeAfterErrorMs). */
  private pendingError: DashScopeError | undefined;
  private pendingTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly responses: ResponseResult[] = [];
  private readonly emitter: ChunkEmitter;

  constructor(
    private readonly utterance: Utterance<QwenUtteranceSettings>,
    private readonly manager: ConnectionManager,
    private readonly options: QwenEngineOptions,
    private readonly onOver: () => void,
    /** Opens the next utterance's session while this one speaks (see QwenEngine.speak). */
    private readonly opensSpare: boolean,
  ) {
    const { responseFormat, sampleRate } = utterance.settings.session;
    this.emitter = new ChunkEmitter(utterance, describeAudio(responseFormat, sampleRate));
  }

  begin(): void {
    const { model, session } = this.utterance.settings;
    this.manager.acquireQwen(model, session, this.stopped.signal).then(
      (lease) => this.onLease(lease),
      (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private onLease(lease: QwenLease): void {
    if (this.over) {
      // Stopped while the session was opening: it was never used, so it waits for the next
      // utterance with these settings (the service counted it against the model's budget already).
      lease.release();
      return;
    }
    const staleBefore = this.freshAfter;
    this.freshAfter = undefined;
    if (staleBefore !== undefined && lease.session.openedAt < staleBefore) {
      // The service just ended a session under this utterance (an idle or duration limit counts
      // from about the time the spare was opened too): one opened after that is taken instead.
      lease.discard();
      const { model, session } = this.utterance.settings;
      this.manager.acquireQwen(model, session, this.stopped.signal).then(
        (fresh) => this.onLease(fresh),
        (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))),
      );
      return;
    }
    this.lease = lease;
    this.sessionId = lease.session.sessionId;
    this.listen(lease);
    this.utterance.attach(this);
    // This utterance has its session (a parked spare, one still opening, or a new one): the next
    // utterance's is opened now, while this one speaks; after the text has gone out, not before it.
    if (this.opensSpare) this.manager.prewarmQwen(this.utterance.settings.model, this.utterance.settings.session);
  }

  onText(text: string): void {
    const lease = this.lease;
    if (this.over || !lease) return;
    if (isBlank(text)) {
      this.heldSpace += text;
      return;
    }
    const piece = this.heldSpace ? this.heldSpace + text : text;
    this.heldSpace = '';
    lease.session.append(piece);
    if (this.utterance.settings.session.mode !== 'commit') return;
    this.uncommitted += piece;
    if (!this.utterance.ended && this.uncommitted.length >= COMMIT_AT_CHARS && SENTENCE_END.test(this.uncommitted)) this.commit();
  }

  onEnd(): void {
    const lease = this.lease;
    if (this.over || !lease) return;
    // commit mode: the fate of text never committed at session.finish is unconfirmed, so it is
    // committed first (docs/protocol.md "Unconfirmed points" qwen-uncommitted-on-finish).
    if (this.utterance.settings.session.mode === 'commit' && !isBlank(this.uncommitted)) this.commit();
    lease.session.finish();
    this.finishSent = true;
    this.armWatchdog();
  }

  cancel(): void {
    if (this.over) return;
    // The session is never used again: closing it stops everything at once, without response.cancel
    // (SDK-only, its answer unconfirmed: docs/protocol.md "Unconfirmed points", qwen-cancel).
    this.teardown();
    this.emitter.interrupt();
    this.onOver();
  }

  private commit(): void {
    this.lease?.session.commit();
    this.uncommitted = '';
  }

  private listen(lease: QwenLease): void {
    lease.session.listener = {
      onAudio: (chunk) => {
        if (this.over) return;
        if (this.pendingError) {
          // The session that sent the error is still speaking: the error was about this utterance.
          this.fail(this.pendingError);
          return;
        }
        this.emitter.chunk(chunk);
      },
      onResponseCreated: () => {
        this.events++;
        // A response may carry its own container header: the emitter keeps only the utterance's
        // first (docs/protocol.md "Qwen: audio containers").
        this.emitter.beginSegment();
      },
      onResponseDone: (result) => {
        this.events++;
        this.responses.push(result);
        if (result.status !== 'completed') this.onResponseCutShort(result);
      },
      onCommitted: () => {
        this.events++; // the service's own cuts may be announced too (unconfirmed): nothing to count
      },
      onError: (err) => this.onServiceError(err),
      onSessionFinished: () => {
        this.events++;
        this.complete();
      },
      onClosed: (err) => this.onSessionClosed(err),
    };
  }

  /** docs/protocol.md "Qwen: response status": failed, incomplete, or cancelled (never asked for: the client does not send response.cancel). */
  private onResponseCutShort(result: ResponseResult): void {
    if (this.over) return;
    if (this.emitter.chunks === 0 && !this.retried) this.retryFresh();
    else this.fail(responseStatusError(result));
  }

  private onServiceError(err: DashScopeError): void {
    if (this.over) return;
    this.events++;
    const silent = this.emitter.chunks === 0;
    if (silent && isThrottling(err) && this.throttled < this.manager.throttleBackoff.maxAttempts) {
      this.retryThrottled();
      return;
    }
    if (!silent || this.retried) {
      this.fail(err);
      return;
    }
    if (err.retryable) {
      // The service failed or is ending this session: a spare opened as long ago may be ending too.
      this.freshAfter = Date.now();
      this.retryFresh();
      return;
    }
    // Possibly the service ending the session (idle or duration limit, codes unconfirmed): a close
    // that follows at once makes it a transparent retry; anything else makes it this utterance's error.
    if (this.pendingError) return;
    this.pendingError = err;
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      if (this.pendingError) this.fail(this.pendingError);
    }, this.options.closeAfterErrorMs);
    this.pendingTimer.unref?.();
  }

  private onSessionClosed(err: DashScopeError | undefined): void {
    if (this.over) return;
    this.lease = undefined;
    const failure =
      this.pendingError ??
      err ??
      (this.finishSent ? undefined : new DashScopeError({ code: 'ConnectionClosed', message: 'the session ended before the utterance was spoken', origin: 'session', retryable: true }));
    if (!failure) {
      // A normal close after session.finish, no response streaming and no error on the session:
      // the end of the utterance even without session.finished (docs/protocol.md "Qwen: end of an utterance").
      this.complete();
      return;
    }
    // A rate-limit close (1013, or a reason naming a rate limit: docs/protocol.md "WebSocket close
    // codes") before anything was heard: tried again after a growing pause, as a Throttling error is.
    if (this.emitter.chunks === 0 && isThrottling(failure) && this.throttled < this.manager.throttleBackoff.maxAttempts) {
      this.retryThrottled();
      return;
    }
    // An error, then the close: the service ended the session (an idle or duration limit), not the utterance.
    if (!this.retried && this.emitter.chunks === 0 && (this.pendingError !== undefined || failure.retryable)) {
      this.freshAfter = Date.now();
      this.retryFresh();
      return;
    }
    this.fail(failure);
  }

  /** Nothing was heard yet: the whole utterance is said again, once, on a fresh session. */
  private retryFresh(): void {
    this.retried = true;
    const lease = this.lease;
    this.lease = undefined;
    this.reset();
    this.utterance.detach();
    lease?.discard();
    this.begin();
  }

  /**
   * Rate limited before anything was heard: the session is closed, and the whole utterance is
   * said again on a fresh one after a backoff pause.
   */
  private retryThrottled(): void {
    this.throttled++;
    const lease = this.lease;
    this.lease = undefined;
    this.reset();
    this.utterance.detach();
    lease?.discard();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.over) this.begin();
    }, backoffDelay(this.manager.throttleBackoff, this.throttled));
  }

  private reset(): void {
    this.settle();
    this.heldSpace = '';
    this.uncommitted = '';
    this.finishSent = false;
    this.events = 0;
    this.responses.length = 0;
  }

  /** session.finished (or the normal close after session.finish): every response of the utterance is in. */
  private complete(): void {
    if (this.over) return;
    if (this.pendingError) {
      this.fail(this.pendingError);
      return;
    }
    if (this.emitter.bytes === 0) {
      this.fail(noAudioError(this.utterance.settings.session.voice));
      return;
    }
    this.teardown();
    this.emitter.finish(this.summary());
    this.onOver();
  }

  private fail(err: Error): void {
    if (this.over) return;
    this.teardown();
    this.emitter.fail(err);
    this.onOver();
  }

  /** The utterance is over: timers cleared, the session closed (a session is never used for a second utterance). */
  private teardown(): void {
    this.over = true;
    // A wait for a connection or a rate slot still under way gives up its place.
    this.stopped.abort();
    this.settle();
    this.utterance.detach();
    const lease = this.lease;
    this.lease = undefined;
    lease?.discard();
  }

  /**
   * One timer per utterance, armed at session.finish, never on the audio path: when it fires it
   * looks at whether anything arrived since, and only gives up after a whole quiet period.
   */
  private armWatchdog(): void {
    if (this.over) return;
    clearTimeout(this.watchdog);
    const progress = this.emitter.chunks + this.events;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (this.emitter.chunks + this.events !== progress) this.armWatchdog();
      else this.fail(timeoutError('ResponseTimeout', `the service sent nothing for ${this.options.responseTimeoutMs} ms`));
    }, this.options.responseTimeoutMs);
    this.watchdog.unref?.();
  }

  private settle(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    clearTimeout(this.pendingTimer);
    this.pendingTimer = undefined;
    this.pendingError = undefined;
  }

  private summary(): QwenSummary {
    const { model, session } = this.utterance.settings;
    const billed = this.responses.map((r) => r.characters).filter((c): c is number => typeof c === 'number');
    return {
      text: this.utterance.text,
      model,
      voice: session.voice,
      format: session.responseFormat,
      sampleRate: session.sampleRate,
      bytes: this.emitter.bytes,
      durationMs: durationMs(this.emitter.audio, this.emitter.bytes),
      timeToFirstAudioMs: this.emitter.firstAudioAt === undefined ? undefined : this.emitter.firstAudioAt - this.utterance.receivedAt,
      sessionId: this.sessionId,
      responseIds: this.responses.map((r) => r.responseId),
      characters: billed.length > 0 ? billed.reduce((a, b) => a + b, 0) : undefined,
      usage: this.responses.map((r) => r.usage),
    };
  }
}
