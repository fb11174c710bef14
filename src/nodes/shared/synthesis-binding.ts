import type { AudioFormat } from '../../audio/audio-message';
import type { ConnectionManager } from '../../connection/connection-manager';
import type { SpeechEngine } from '../../speech/speech-queue';
import type { TtsConfigNode } from '../tts-config/types';
import type { Message } from './message-base';

/** What a synthesis node (CosyVoice, Qwen) tells the shared adapter about its service. */
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
