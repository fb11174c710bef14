import type { Node, NodeAPI } from 'node-red';
import type { ConnectionManager } from '../../connection/connection-manager';
import { phraseKey } from '../../speech/cache/cache-key';
import { CachingEngine } from '../../speech/cache/caching-engine';
import { EspeakVoice } from '../../speech/fallback/espeak';
import { FallbackEngine } from '../../speech/fallback/fallback-engine';
import type { SpeechEngine } from '../../speech/speech-queue';
import type { TtsConfigNode } from '../tts-config/types';
import type { SynthesisBinding } from './synthesis-binding';

/** The node's opt-in features (issue 10): phrase cache and offline fallback voice. */
export interface SynthesisFeatures {
  cache: boolean;
  fallback: boolean;
}

/** What the node shows: the status line is the adapter's, the words in the log are said here. */
export interface OfflineHooks {
  /** The node now speaks with the fallback voice (true) or the service again (false). */
  onFallback(active: boolean): void;
  /** The fallback voice cannot speak (found at deploy): said before any alert needs it. */
  onFallbackProblem(problem: string): void;
}

/** settings.js `ttsFallback: { command, recoveryMs }`: another espeak-ng binary, or a faster return to the service. */
interface FallbackTuning {
  command?: unknown;
  recoveryMs?: unknown;
}

const DEFAULT_RECOVERY_MS = 5000;

/**
 * Wraps a node's engine in its opt-in features: the fallback voice right around the service
 * engine, the phrase cache outermost (a hit needs neither). With both off the engine is returned
 * as it is, so the hot path is untouched.
 */
export function withOfflineFeatures<Settings>(
  RED: NodeAPI,
  node: Node,
  config: TtsConfigNode,
  manager: ConnectionManager,
  binding: SynthesisBinding<Settings>,
  features: SynthesisFeatures,
  hooks: OfflineHooks,
): { engine: SpeechEngine<Settings>; fallback?: FallbackEngine<Settings> } {
  let engine: SpeechEngine<Settings> = binding.createEngine(manager);
  let fallback: FallbackEngine<Settings> | undefined;
  if (features.fallback) {
    let active = false;
    const tuning = ((RED.settings as unknown as Record<string, unknown>).ttsFallback ?? {}) as FallbackTuning;
    const voice = new EspeakVoice(typeof tuning.command === 'string' && tuning.command ? tuning.command : 'espeak-ng');
    fallback = new FallbackEngine(engine, {
      voice,
      audioOf: binding.audioOf,
      languageOf: binding.languageOf,
      probe: (settings) => binding.probe(manager, settings),
      recoveryMs: typeof tuning.recoveryMs === 'number' && tuning.recoveryMs > 0 ? tuning.recoveryMs : DEFAULT_RECOVERY_MS,
      onFallback: (now, cause) => {
        // Said once per outage, not once per utterance.
        if (now && !active) node.warn(`the service cannot be reached (${cause?.message ?? 'offline'}): speaking with the fallback voice`);
        else if (!now && active) node.log('the service is reachable again: back to its voice');
        active = now;
        hooks.onFallback(now);
      },
    });
    const withFallback = fallback;
    engine = withFallback;
    const promised = binding.defaultSettings ? binding.audioOf(binding.defaultSettings).format : undefined;
    const formatProblem = promised === 'mp3' || promised === 'opus' ? `the fallback voice speaks pcm or wav only, not ${promised}` : undefined;
    // Checked now, in the background: a missing espeak-ng is news at deploy, not at the alert.
    voice.probe().then(
      (missing) => {
        const problem = formatProblem ?? missing;
        if (!problem || !withFallback.canFallBack) return; // fine, or the node was closed meanwhile
        withFallback.disable();
        node.warn(`no fallback voice: ${problem}`);
        hooks.onFallbackProblem(problem);
      },
      () => undefined,
    );
  }
  if (features.cache) {
    const cache = config.phraseCache();
    if ('unavailable' in cache) node.warn(`phrase cache unavailable: ${cache.unavailable}`);
    else {
      const endpoint = config.endpointId;
      engine = new CachingEngine(engine, cache, {
        keyOf: (settings, text) => phraseKey(binding.service, endpoint, settings, text),
        onWarning: (message) => node.warn(message),
      });
    }
  }
  return { engine, fallback };
}
