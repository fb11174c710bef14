import type { ConnectionManager, QwenLease } from '../connection/connection-manager';
import { backoffDelay } from '../connection/backoff';
import { DashScopeError, isThrottling, timeoutError } from '../dashscope/errors';
import type { ResponseResult } from '../dashscope/qwen-realtime';
import { isBlank } from '../dashscope/text';
import { ChunkEmitter, describeAudio, durationMs, type UtteranceSummary } from './chunk-emitter';
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
  /** After the last commit, the longest silence from the service before the utterance is given up. */
  responseTimeoutMs: number;
  /**
   * In server_commit mode the closing commit may find the buffer already empty (the service cut
   * the last sentence itself). Whether it then answers with an error or a bare `committed` is
   * unconfirmed, so after such an answer a response is awaited this long before the utterance ends.
   */
  flushGraceMs: number;
}

export const QWEN_ENGINE_DEFAULTS: QwenEngineOptions = { responseTimeoutMs: 20_000, flushGraceMs: 250 };

const TERMINATORS = new Set(['。', '！', '？', '.', '!', '?', '\n']);

/** The text after the last sentence end: what the service may still be holding back. */
function tailAfterTerminator(text: string): string {
  for (let i = text.length - 1; i >= 0; i--) if (TERMINATORS.has(text[i] as string)) return text.slice(i + 1);
  return text;
}

export class QwenEngine implements SpeechEngine<QwenUtteranceSettings> {
  constructor(
    private readonly manager: ConnectionManager,
    private readonly options: QwenEngineOptions = QWEN_ENGINE_DEFAULTS,
  ) {}

  speak(utterance: Utterance<QwenUtteranceSettings>, onOver: () => void): ActiveSpeech {
    const speech = new QwenSpeech(utterance, this.manager, this.options, onOver);
    speech.begin();
    return speech;
  }
}

/**
 * One utterance on a borrowed realtime session. The session stays open across utterances; the
 * end of this utterance is flushed with a commit (in server_commit mode too, so its last words
 * are never held back waiting for more text) and known once every commit's response is done.
 */
class QwenSpeech implements ActiveSpeech, TextListener {
  private lease: QwenLease | undefined;
  private sessionId = '';
  private over = false;
  private retried = false;
  private throttled = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private uncommitted = '';
  /** Commits sent and not yet answered; `maybeEmpty` marks the closing one whose buffer may be empty. */
  private readonly commits: { maybeEmpty: boolean }[] = [];
  private responsesOwed = 0;
  private maybeOwed = false;
  private activeResponse = false;
  private flushed = false;
  private flushError: DashScopeError | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private grace: NodeJS.Timeout | undefined;
  private readonly responses: ResponseResult[] = [];
  private readonly emitter: ChunkEmitter;

  constructor(
    private readonly utterance: Utterance<QwenUtteranceSettings>,
    private readonly manager: ConnectionManager,
    private readonly options: QwenEngineOptions,
    private readonly onOver: () => void,
  ) {
    const { responseFormat, sampleRate } = utterance.settings.session;
    this.emitter = new ChunkEmitter(utterance, describeAudio(responseFormat, sampleRate));
  }

  begin(): void {
    const { model, session } = this.utterance.settings;
    this.manager.acquireQwen(model, session).then(
      (lease) => {
        if (this.over) {
          lease.release();
          return;
        }
        this.lease = lease;
        this.sessionId = lease.session.sessionId;
        this.listen(lease);
        this.utterance.attach(this);
      },
      (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  onText(text: string): void {
    if (this.over || !this.lease) return;
    this.lease.session.append(text);
    this.uncommitted += text;
    const commitMode = this.utterance.settings.session.mode === 'commit';
    if (commitMode && !this.utterance.ended && this.uncommitted.length >= COMMIT_AT_CHARS && SENTENCE_END.test(this.uncommitted)) {
      this.commit(false);
    }
  }

  onEnd(): void {
    if (this.over || !this.lease) return;
    this.flushed = true;
    if (!isBlank(this.uncommitted)) {
      // In server_commit mode the service may already have cut everything up to the last sentence end.
      const serverCuts = this.utterance.settings.session.mode === 'server_commit';
      this.commit(serverCuts && isBlank(tailAfterTerminator(this.uncommitted)));
    }
    this.armWatchdog();
    this.maybeComplete();
  }

  cancel(): void {
    if (this.over) return;
    const lease = this.lease;
    const clean = !this.activeResponse && this.commits.length === 0 && this.responsesOwed === 0 && !this.maybeOwed && isBlank(this.uncommitted);
    if (lease && !clean) {
      if (this.activeResponse) lease.session.cancelResponse();
      lease.session.clear();
    }
    // Anything the service still owes would leak into the next utterance: such a session is closed.
    this.teardown(clean);
    this.emitter.interrupt();
    this.onOver();
  }

  private commit(maybeEmpty: boolean): void {
    this.lease?.session.commit();
    this.uncommitted = '';
    this.commits.push({ maybeEmpty });
  }

  private listen(lease: QwenLease): void {
    lease.session.listener = {
      onAudio: (chunk) => {
        if (!this.over) this.emitter.chunk(chunk);
      },
      onResponseCreated: () => {
        this.activeResponse = true;
        if (this.responsesOwed > 0) this.responsesOwed--;
        else if (this.maybeOwed) this.endGrace();
        this.armWatchdog();
      },
      onResponseDone: (result) => {
        this.activeResponse = false;
        this.responses.push(result);
        this.armWatchdog();
        if (this.maybeOwed && !this.grace) this.startGrace();
        this.maybeComplete();
      },
      onCommitted: () => {
        const commit = this.commits.shift();
        if (!commit) return; // the service's own automatic commit (unconfirmed whether it is announced)
        if (commit.maybeEmpty) this.startGrace();
        else this.responsesOwed++;
        this.armWatchdog();
      },
      onError: (err) => {
        if (isThrottling(err) && this.emitter.chunks === 0 && this.throttled < this.manager.throttleBackoff.maxAttempts) {
          this.retryThrottled();
          return;
        }
        const closing = this.commits[this.commits.length - 1];
        if (this.flushed && closing?.maybeEmpty && this.commits.length === 1) {
          // Most likely the closing commit found an empty buffer. Should nothing at all be heard,
          // this error is what the user is told.
          this.commits.shift();
          this.flushError = err;
          this.maybeComplete();
          return;
        }
        this.fail(err);
      },
      onClosed: (err) => this.onSessionClosed(err),
    };
  }

  private onSessionClosed(err: DashScopeError | undefined): void {
    if (this.over) return;
    this.lease = undefined;
    const failure = err ?? new DashScopeError({ code: 'ConnectionClosed', message: 'the session ended before the utterance was spoken', origin: 'session', retryable: true });
    if (!this.retried && this.emitter.chunks === 0 && failure.retryable) {
      // Nothing was heard yet: say the whole utterance again on a fresh session.
      this.retried = true;
      this.reset();
      this.utterance.detach();
      this.begin();
      return;
    }
    this.fail(failure);
  }

  /**
   * Rate limited before anything was heard: the session (whose buffer state is now unknown) is
   * closed, and the whole utterance is said again on a fresh one after a backoff pause.
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
    this.uncommitted = '';
    this.commits.length = 0;
    this.responsesOwed = 0;
    this.maybeOwed = false;
    this.flushError = undefined;
    this.activeResponse = false;
    this.flushed = false;
    this.responses.length = 0;
  }

  private maybeComplete(): void {
    if (this.over || !this.flushed || this.activeResponse || this.commits.length > 0 || this.responsesOwed > 0 || this.maybeOwed) return;
    if (this.emitter.bytes === 0) {
      this.fail(this.flushError ?? noAudioError(this.utterance.settings.session.voice));
      return;
    }
    this.teardown(true);
    this.emitter.finish(this.summary());
    this.onOver();
  }

  private fail(err: Error): void {
    if (this.over) return;
    if (this.activeResponse) this.lease?.session.cancelResponse();
    this.teardown(false);
    this.emitter.fail(err);
    this.onOver();
  }

  /** The utterance is over: timers cleared, the session given back (`reusable`) or closed. */
  private teardown(reusable: boolean): void {
    this.over = true;
    this.settle();
    this.utterance.detach();
    const lease = this.lease;
    this.lease = undefined;
    if (reusable) lease?.release();
    else lease?.discard();
  }

  /** One timer per utterance, armed only after the final commit: never on the audio path. */
  private armWatchdog(): void {
    if (!this.flushed || this.over) return;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.fail(timeoutError('ResponseTimeout', `the service sent nothing for ${this.options.responseTimeoutMs} ms`));
    }, this.options.responseTimeoutMs);
    this.watchdog.unref?.();
  }

  /** Waits for a response that may follow the closing commit, counted from when the service is idle. */
  private startGrace(): void {
    this.maybeOwed = true;
    clearTimeout(this.grace);
    this.grace = undefined;
    if (this.activeResponse) return; // restarted when the active response is done
    this.grace = setTimeout(() => {
      this.grace = undefined;
      this.maybeOwed = false;
      this.maybeComplete();
    }, this.options.flushGraceMs);
    this.grace.unref?.();
  }

  private endGrace(): void {
    this.maybeOwed = false;
    clearTimeout(this.grace);
    this.grace = undefined;
  }

  private settle(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.endGrace();
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
