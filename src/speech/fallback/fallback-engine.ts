import { describeAudio, type AudioDescriptor, type AudioFormat } from '../../audio/audio-message';
import { isAuthFailure, type DashScopeError } from '../../dashscope/errors';
import { ChunkEmitter, durationMs } from '../chunk-emitter';
import type { ActiveSpeech, SpeechEngine } from '../speech-queue';
import type { Utterance, UtteranceEvents, UtteranceSummary } from '../utterance';
import { wavHeader as wavHeaderFor } from '../../audio/resample';
import { fallbackLanguage } from './language';
import type { LocalSynthesis, LocalVoice } from './espeak';

export interface FallbackOptions<Settings> {
  voice: LocalVoice;
  /** The format and rate the node promised: the local voice delivers exactly that. */
  audioOf(settings: Settings): { format: AudioFormat; sampleRate: number };
  /** The language the node was told to speak, if any (else it is read from the text's script). */
  languageOf(settings: Settings): string | undefined;
  /** Tries to reach the service in the background (through the manager's backoff). */
  probe(settings: Settings): Promise<unknown>;
  /** The node speaks with the fallback voice (true), or the service is back (false). */
  onFallback(active: boolean, cause?: Error): void;
  /** How often a node on the fallback voice checks whether the service is back. */
  recoveryMs: number;
}

/** Output 2 of an utterance the local voice spoke: the shared summary, marked, with the reason. */
export interface FallbackSummary extends UtteranceSummary {
  characters: 0;
  fallback: true;
  engine: string;
  reason: { code?: string; message: string };
}

/** Audio of one fallback chunk: 100 ms, so a player starts as soon as it would with the service. */
const CHUNK_MS = 100;

/**
 * Unreachable, not misconfigured: a network failure, a timeout, 5xx, exhausted rate limit. Auth
 * and parameter errors are not retryable and must be seen, so they never fall back.
 */
export function fallsBack(err: Error): boolean {
  return !isAuthFailure(err) && (err as Partial<DashScopeError>).retryable === true;
}

/**
 * Puts a local voice behind an engine so an alert is never silent. An utterance falls back when
 * the service fails it before any of its audio went out, or at once when the connection manager
 * reports a failed connection attempt (its retries go on in the background: an alert does not wait
 * out a backoff of several seconds). While the service is known to be down, utterances go straight
 * to the local voice and a probe checks every `recoveryMs` whether it is back; the first
 * successful connection returns the node to the service.
 */
export class FallbackEngine<Settings> implements SpeechEngine<Settings> {
  private down = false;
  private current: FallbackSpeech<Settings> | undefined;
  private lastSettings: Settings | undefined;
  private probing = false;
  private recovery: NodeJS.Timeout | undefined;
  private closed = false;
  /** False once the local voice is known not to work: then the service's errors are reported as they are. */
  private usable = true;

  constructor(
    private readonly inner: SpeechEngine<Settings>,
    readonly options: FallbackOptions<Settings>,
  ) {}

  get onFallbackVoice(): boolean {
    return this.down;
  }

  get canFallBack(): boolean {
    return this.usable && !this.closed;
  }

  /** The local voice cannot speak (found at deploy): behave as if the fallback were off. */
  disable(): void {
    this.usable = false;
    this.down = false;
    clearTimeout(this.recovery);
    this.recovery = undefined;
  }

  speak(utterance: Utterance<Settings>, onOver: () => void): ActiveSpeech {
    this.lastSettings = utterance.settings;
    const speech = new FallbackSpeech(this, utterance, () => {
      if (this.current === speech) this.current = undefined;
      onOver();
    });
    this.current = speech;
    if (this.down) speech.speakLocally(undefined);
    else speech.speakLive(this.inner);
    return speech;
  }

  /** The shared connection's state, as the connection manager reports it to the node. */
  connectionState(state: string, err?: DashScopeError): void {
    if (state === 'connected') {
      if (!this.down) return;
      this.down = false;
      clearTimeout(this.recovery);
      this.recovery = undefined;
      this.options.onFallback(false);
    } else if (state === 'retrying' && err && fallsBack(err) && this.usable) {
      this.current?.unreachable(err);
      this.markDown(err);
    }
  }

  markDown(cause: Error): void {
    if (this.closed || !this.usable) return;
    if (!this.down) {
      this.down = true;
      this.options.onFallback(true, cause);
    }
    this.scheduleRecovery();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.recovery);
    this.recovery = undefined;
  }

  private scheduleRecovery(): void {
    if (this.recovery || this.closed) return;
    this.recovery = setTimeout(() => {
      this.recovery = undefined;
      if (!this.down || this.closed) return;
      this.runProbe();
      this.scheduleRecovery();
    }, this.options.recoveryMs);
    this.recovery.unref?.();
  }

  private runProbe(): void {
    const settings = this.lastSettings;
    if (this.probing || settings === undefined) return;
    this.probing = true;
    this.options.probe(settings).then(
      () => {
        this.probing = false;
      },
      () => {
        this.probing = false;
      },
    );
  }
}

/** One utterance: through the service, or (from the start or after it failed) the local voice. */
class FallbackSpeech<Settings> implements ActiveSpeech {
  private readonly below: UtteranceEvents;
  private live: ActiveSpeech | undefined;
  private heard = false;
  private local = false;
  private over = false;
  private synthesis: LocalSynthesis | undefined;

  constructor(
    private readonly engine: FallbackEngine<Settings>,
    private readonly utterance: Utterance<Settings>,
    private readonly onOver: () => void,
  ) {
    this.below = utterance.events;
  }

  speakLive(inner: SpeechEngine<Settings>): void {
    const ended = (err: Error | undefined): void => {
      if (this.local) return; // the service's speech was cancelled to speak locally
      if (err && !this.heard && fallsBack(err) && this.engine.canFallBack) {
        this.engine.markDown(err);
        this.speakLocally(err);
        return;
      }
      this.over = true;
      if (err) this.below.failed(err);
      else this.below.stopped();
    };
    this.utterance.events = {
      started: (audio) => {
        this.heard = true;
        this.below.started(audio);
      },
      audio: (chunk) => this.below.audio(chunk),
      done: (summary) => {
        if (this.local) return;
        this.over = true;
        this.below.done(summary);
      },
      failed: (err) => ended(err),
      stopped: () => ended(undefined),
    };
    this.live = inner.speak(this.utterance, () => {
      if (!this.local) this.onOver();
    });
  }

  /** A connection attempt failed: if nothing was heard yet, this utterance is spoken locally now. */
  unreachable(err: Error): void {
    if (this.local || this.over || this.heard || !this.live) return;
    this.local = true;
    // The service speech ends quietly; a connection it still waits for is parked when it comes.
    this.live.cancel();
    this.speakLocally(err);
  }

  speakLocally(cause: Error | undefined): void {
    this.local = true;
    const settings = this.utterance.settings;
    const { format, sampleRate } = this.engine.options.audioOf(settings);
    const failure = cause ?? new Error('the service cannot be reached');
    if (format !== 'pcm' && format !== 'wav') {
      this.end(failure); // an mp3/opus promise cannot be kept locally; said at deploy
      return;
    }
    this.engine.options.onFallback(true, cause);
    // A streamed utterance is spoken locally once its text is complete.
    this.utterance.attach({
      onText: () => undefined,
      onEnd: () => this.synthesize(format, sampleRate, failure),
    });
  }

  cancel(): void {
    if (this.over) return;
    if (!this.local) {
      this.live?.cancel();
      return;
    }
    this.synthesis?.cancel();
    this.end(undefined);
  }

  private synthesize(format: 'pcm' | 'wav', sampleRate: number, cause: Error): void {
    if (this.over) return;
    this.utterance.detach();
    const text = this.utterance.text;
    const language = fallbackLanguage(text, this.engine.options.languageOf(this.utterance.settings));
    const voice = this.engine.options.voice;
    const synthesis = voice.synthesize(text, language, sampleRate);
    this.synthesis = synthesis;
    synthesis.pcm.then(
      (pcm) => {
        if (this.over) return;
        const audio: AudioDescriptor = { ...describeAudio(format, sampleRate), fallback: true };
        const emitter = new ChunkEmitter({ events: this.below }, audio);
        if (format === 'wav') emitter.chunk(wavHeaderFor(sampleRate, pcm.length));
        const step = Math.max(2, Math.round((sampleRate * CHUNK_MS) / 1000) * 2);
        for (let at = 0; at < pcm.length; at += step) emitter.chunk(pcm.subarray(at, at + step));
        this.over = true;
        const summary: FallbackSummary = {
          text,
          model: voice.name,
          voice: `${voice.name}:${language}`,
          format,
          sampleRate,
          bytes: emitter.bytes,
          durationMs: durationMs(audio, emitter.bytes),
          timeToFirstAudioMs: (emitter.firstAudioAt ?? this.utterance.receivedAt) - this.utterance.receivedAt,
          characters: 0,
          fallback: true,
          engine: voice.name,
          reason: { code: (cause as Partial<DashScopeError>).code, message: cause.message },
        };
        emitter.finish(summary);
        this.onOver();
      },
      (err: unknown) => {
        const detail = err instanceof Error ? err.message : String(err);
        this.end(new FallbackFailedError(cause, detail));
      },
    );
  }

  private end(err: Error | undefined): void {
    if (this.over) return;
    this.over = true;
    this.utterance.detach();
    if (err) this.below.failed(err);
    else this.below.stopped();
    this.onOver();
  }
}

/** The service was unreachable and the local voice failed too: the service's error, with both reasons. */
class FallbackFailedError extends Error {
  readonly code: string | undefined;
  readonly retryable = true;
  constructor(cause: Error, local: string) {
    super(`${cause.message}; the fallback voice failed too: ${local}`);
    this.name = 'FallbackFailedError';
    this.code = (cause as Partial<DashScopeError>).code;
  }
}

