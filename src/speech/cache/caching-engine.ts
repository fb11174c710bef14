import type { AudioDescriptor } from '../../audio/audio-message';
import { ChunkEmitter } from '../chunk-emitter';
import type { ActiveSpeech, SpeechEngine } from '../speech-queue';
import type { Utterance, UtteranceEvents, UtteranceSummary } from '../utterance';
import type { Entry, EntryMeta } from './entry-codec';
import { openSummary, sealSummary } from './sealed-summary';

/** What the caching engine needs of the store (the tts-config node's, shared by its nodes). */
export interface PhraseCache {
  /** The size bound: an utterance longer than this is not recorded at all (a long LLM answer). */
  readonly maxBytes: number;
  /** true/false once the index is loaded, undefined before: a definite miss costs no await. */
  has(key: string): boolean | undefined;
  get(key: string): Promise<Entry | undefined>;
  put(key: string, meta: CachedMeta, chunks: readonly Buffer[]): Promise<void>;
}

export interface CachedMeta extends EntryMeta {
  audio: AudioDescriptor;
}

/** A replayed phrase's summary: the one stored, nothing billed, marked. */
interface CachedSummary extends UtteranceSummary {
  characters: 0;
  cached: true;
}

export interface CachingOptions<Settings> {
  /** The key of an utterance with these settings and this exact text. */
  keyOf(settings: Settings, text: string): string;
  /** A cache write failed (full disk, read-only card): the audio still went out. */
  onWarning(message: string): void;
}

/**
 * Puts a phrase cache in front of an engine. A one-message utterance is looked up first and, on a
 * hit, replayed exactly as it was first sent (same audio, same chunking, same msg.audio) with no
 * network at all. Everything the engine speaks completely is stored, streamed utterances once
 * their text is complete. Fallback-voice audio, partial and interrupted utterances never are.
 */
export class CachingEngine<Settings> implements SpeechEngine<Settings> {
  constructor(
    private readonly inner: SpeechEngine<Settings>,
    private readonly cache: PhraseCache,
    private readonly options: CachingOptions<Settings>,
  ) {}

  speak(utterance: Utterance<Settings>, onOver: () => void): ActiveSpeech {
    // A streamed utterance's text is not known yet: waiting for all of it would delay its audio.
    if (!utterance.ended) return this.live(utterance, onOver);
    const key = this.options.keyOf(utterance.settings, utterance.text);
    if (this.cache.has(key) === false) return this.live(utterance, onOver, key);
    return new Lookup(this, utterance, onOver, key);
  }

  lookup(key: string): Promise<Entry | undefined> {
    return this.cache.get(key);
  }

  /** Speaks through the engine and records what it says, to be stored if the utterance finishes. */
  live(utterance: Utterance<Settings>, onOver: () => void, knownKey?: string): ActiveSpeech {
    const below = utterance.events;
    const chunks: Buffer[] = [];
    let audio: AudioDescriptor | undefined;
    let recorded = 0;
    let tooLong = false;
    const recorder: UtteranceEvents = {
      started: (descriptor) => {
        audio = descriptor;
        below.started(descriptor);
      },
      audio: (chunk) => {
        if (!tooLong) {
          recorded += chunk.length;
          if (recorded > this.cache.maxBytes) {
            tooLong = true; // could never be stored: stop holding on to its audio
            chunks.length = 0;
          } else chunks.push(chunk);
        }
        below.audio(chunk);
      },
      done: (summary) => {
        below.done(summary);
        // Fallback-voice audio is marked in its descriptor (and its summary): never stored.
        if (tooLong || !audio || audio.fallback || chunks.length === 0) return;
        const key = knownKey ?? this.options.keyOf(utterance.settings, utterance.text);
        // The text is the utterance's again on a hit; the rest of the summary (word timestamps
        // included) is sealed under the text, so the file never holds what was said in clear.
        const stored: Record<string, unknown> = { ...summary };
        delete stored.text;
        const meta = { audio, chunks: chunks.map((c) => c.length) };
        // After the events went out: storing (sealing included) never delays the audio or done().
        Promise.resolve()
          .then(() => this.cache.put(key, { ...meta, summary: sealSummary(stored, key, utterance.text) }, chunks))
          .catch((e: unknown) => this.options.onWarning(`could not store a phrase in the cache: ${e instanceof Error ? e.message : String(e)}`));
      },
      // Failed or stopped part way: never stored.
      failed: (err) => below.failed(err),
      stopped: () => below.stopped(),
    };
    utterance.events = recorder;
    return this.inner.speak(utterance, onOver);
  }
}

/** A one-message utterance while its entry is read; then a replay or the live engine. */
class Lookup<Settings> implements ActiveSpeech {
  private cancelled = false;
  private delegate: ActiveSpeech | undefined;

  constructor(
    engine: CachingEngine<Settings>,
    private readonly utterance: Utterance<Settings>,
    private readonly onOver: () => void,
    key: string,
  ) {
    engine.lookup(key).then(
      (entry) => {
        if (this.cancelled) return;
        const summary = entry && (entry.meta as Partial<CachedMeta>).audio ? openSummary(entry.meta.summary, key, utterance.text) : undefined;
        if (entry && summary) this.replay(entry, summary);
        else this.delegate = engine.live(utterance, onOver, key);
      },
      () => {
        if (!this.cancelled) this.delegate = engine.live(utterance, onOver, key);
      },
    );
  }

  cancel(): void {
    if (this.delegate) {
      this.delegate.cancel();
      return;
    }
    if (this.cancelled) return;
    this.cancelled = true;
    this.utterance.events.stopped();
    this.onOver();
  }

  /** `stored`: the summary the engine gave when the phrase was stored, less its text (sealed with it). */
  private replay(entry: Entry, stored: Record<string, unknown>): void {
    const meta = entry.meta as CachedMeta;
    const emitter = new ChunkEmitter(this.utterance, meta.audio);
    let offset = 0;
    for (const length of meta.chunks) {
      // Views into the one buffer read from disk: no copy per chunk.
      emitter.chunk(entry.audio.subarray(offset, offset + length));
      offset += length;
    }
    const firstAudioAt = emitter.firstAudioAt ?? this.utterance.receivedAt;
    const summary: CachedSummary = {
      ...(stored as Omit<CachedSummary, 'text'>),
      text: this.utterance.text,
      timeToFirstAudioMs: firstAudioAt - this.utterance.receivedAt,
      characters: 0,
      cached: true,
    };
    emitter.finish(summary);
    this.onOver();
  }
}
