import { AudioInputError, type PcmFormat } from './pcm-format';
import type { BackendName } from './sinks/sink';

/**
 * What one utterance asks of the player beyond its audio: how it is announced (a chime before it),
 * how loud it plays, and until when it is still worth playing. The node reads these from the
 * message (msg.chime, msg.speakerVolume, msg.ttl, msg.audio.requestedAt) and its own settings;
 * the player applies them.
 */

/** A sound played right before an utterance's first sample, gap-free, as part of that utterance. */
export interface Chime {
  /** What the user named: a built-in chime's name, or a file path. */
  readonly name: string;
  /** Playing time, in milliseconds. */
  readonly durationMs: number;
  /** Its samples in `format`, ready to write (converted once per format and kept; never modify it). */
  pcmFor(format: PcmFormat): Buffer;
}

export interface UtteranceOptions {
  /** Played before its first sample (and never before later chunks). */
  chime?: Chime;
  /** Percent of the node's own volume for this utterance only, 0..100 (msg.speakerVolume). Default 100. */
  volumePercent?: number;
  /**
   * Player-clock time (the player's `now()`) by which its first sample must play: an utterance that
   * could not start by then is dropped unplayed and reported `expired` (msg.ttl).
   */
  expiresAt?: number;
  /**
   * Player-clock time of the request it speaks (when the speech node received the text):
   * `firstAudioMs` counts from here. Default: the arrival of its first chunk at the player.
   */
  requestedAt?: number;
}

/** Told once per utterance, when its first sample (its chime's, if it has one) plays on the device. */
export interface UtteranceStart<Meta> {
  id: string;
  meta: Meta;
  /** From its first chunk's arrival at the player to its first sample playing (waiting behind others, pre-buffer, device open and lead-in). */
  queueWaitMs: number;
  /** From the request (`requestedAt`) to its first sample playing. */
  firstAudioMs: number;
  backend: BackendName;
  /** The chime played before it, and its length. */
  chime?: { name: string; durationMs: number };
  /** Silence written after the device opened, before this utterance (0 when the device was already open). */
  leadInMs: number;
}

/** msg.ttl may not be longer than a day: a longer one is a mistake (milliseconds given as seconds). */
export const MAX_TTL_SECONDS = 86_400;

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value.length > 40 ? `${value.slice(0, 37)}...` : value}"` : Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value);
}

/**
 * msg.ttl in milliseconds: how long after its request an announcement is still worth playing.
 * Undefined when the message has none (undefined, null or ''). Throws AudioInputError('InvalidInput')
 * for anything but a number of seconds above 0 and at most MAX_TTL_SECONDS (a numeric string counts).
 * One rule for the speech nodes (which do not synthesize what has expired) and pcm speaker.
 */
export function ttlMsOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0 || n > MAX_TTL_SECONDS) {
    throw new AudioInputError('InvalidInput', `msg.ttl must be a number of seconds above 0 and at most ${MAX_TTL_SECONDS} (got ${describe(value)})`);
  }
  return n * 1000;
}

/**
 * msg.speakerVolume: percent of the node's own volume for this utterance, 0 to 100. Undefined when
 * the message has none. Throws AudioInputError('InvalidInput') otherwise: a mistyped night-time
 * volume must not play the alert at full volume.
 */
export function speakerVolumeOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) {
    throw new AudioInputError('InvalidInput', `msg.speakerVolume must be a percentage from 0 to 100 (got ${describe(value)})`);
  }
  return n;
}
