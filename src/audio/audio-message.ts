import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/**
 * The audio message contract, in one place: what the synthesis nodes (and the voice-design
 * preview) write, and what pcm-speaker reads.
 *
 * - `msg.payload`: one chunk of audio, a Buffer.
 * - `msg.audio`: what a player needs to open a device (format, sample rate, channels, bit depth).
 * - `msg.parts`: `{ id, index, type: 'buffer' }`, the core split/join convention, so a join node
 *   rebuilds an utterance; `id` names the utterance.
 * - The end of an utterance is only known after its last chunk: a final zero-length chunk, the
 *   end marker, carries `parts.count`, and `partial: true` (it failed part way) or
 *   `interrupted: true` (it was stopped) when it was not spoken whole.
 */

type Message = Record<string, unknown>;

export type AudioFormat = 'pcm' | 'wav' | 'mp3' | 'opus';

/** msg.audio as written: `format` names the container (a service's preview may name others). */
export interface MessageAudio {
  format: string;
  sampleRate: number;
  channels: 1;
  bitDepth?: 16;
  /** Spoken by the local fallback voice, not the service. */
  fallback?: true;
  /**
   * When the speech node received the text this audio speaks, in `epochNow()` milliseconds: where
   * a player counts an announcement's age (msg.ttl) and its first-audio latency from.
   */
  requestedAt?: number;
}

/** msg.audio of the synthesis nodes: one of the formats they can ask for. */
export interface AudioDescriptor extends MessageAudio {
  format: AudioFormat;
}

export function describeAudio(format: AudioFormat, sampleRate: number): AudioDescriptor {
  return format === 'pcm' || format === 'wav' ? { format, sampleRate, channels: 1, bitDepth: 16 } : { format, sampleRate, channels: 1 };
}

/** How an utterance's audio ended, as its end marker says. */
export type SequenceEnd = 'complete' | 'partial' | 'interrupted';

const END_FLAGS: Record<SequenceEnd, Message | undefined> = {
  complete: undefined,
  partial: { partial: true },
  interrupted: { interrupted: true },
};

/**
 * Milliseconds since the epoch by this process's monotonic clock: comparable between the nodes of
 * one Node-RED, and never jumping with the wall clock (a Raspberry Pi without a real-time clock
 * sets its time from the network some while after boot).
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * msg.audio.requestedAt as the player's clock (performance.now()) has it, when the message carries
 * a usable one: a finite time not in the future. Anything else (a message from outside) is ignored.
 */
export function requestedAtOf(audio: unknown, now: number = performance.now()): number | undefined {
  if (typeof audio !== 'object' || audio === null) return undefined;
  const at = (audio as { requestedAt?: unknown }).requestedAt;
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  const local = at - performance.timeOrigin;
  return local <= now ? local : undefined;
}

/**
 * msg.parts.id must be unique among the utterances in flight, not secret: a random prefix drawn
 * once and a counter, in 16 hex digits. crypto.randomBytes for every utterance was the largest
 * single cost the package added between text in and first audio out (bench "announce", profiled).
 */
const SEQUENCE_PREFIX = randomBytes(4).toString('hex');
let sequenceCounter = 0;

/** A fresh msg.parts.id. */
export function newSequenceId(): string {
  sequenceCounter = (sequenceCounter + 1) >>> 0;
  return SEQUENCE_PREFIX + sequenceCounter.toString(16).padStart(8, '0');
}

/**
 * Writes one utterance's audio messages, in order. `base` is the input message's own properties
 * (topic…), which travel with every chunk; each chunk's Buffer goes out as it is, never copied.
 */
export class AudioSequence {
  private index = 0;

  constructor(
    private readonly base: Message,
    readonly audio: MessageAudio,
    readonly id: string = newSequenceId(),
  ) {}

  /** Chunks written so far. */
  get chunks(): number {
    return this.index;
  }

  chunk(payload: Buffer): Message {
    return { ...this.base, payload, audio: this.audio, parts: { id: this.id, index: this.index++, type: 'buffer' } };
  }

  /** The zero-length end marker that closes the sequence. */
  end(how: SequenceEnd): Message {
    const parts = { id: this.id, index: this.index, type: 'buffer', count: this.index + 1 };
    this.index++;
    return { ...this.base, ...END_FLAGS[how], payload: Buffer.alloc(0), audio: this.audio, parts };
  }
}

/** What a consumer reads of an audio message. `audio` is whatever msg.audio holds (checked by the player). */
export interface AudioMessageView {
  audio: unknown;
  /** msg.parts with a usable id; undefined for a message that is a whole utterance by itself. */
  parts: { id: string; count: number | undefined } | undefined;
  interrupted: boolean;
  partial: boolean;
}

export function readAudioMessage(msg: Message): AudioMessageView {
  return { audio: msg.audio, parts: readParts(msg.parts), interrupted: msg.interrupted === true, partial: msg.partial === true };
}

function readParts(parts: unknown): AudioMessageView['parts'] {
  if (typeof parts !== 'object' || parts === null) return undefined;
  const { id, count } = parts as { id?: unknown; count?: unknown };
  if (typeof id !== 'string' && typeof id !== 'number') return undefined;
  return { id: String(id), count: typeof count === 'number' ? count : undefined };
}

/** The contract's own keys: what a consumer's own output message does not carry on. */
export const AUDIO_MESSAGE_KEYS: readonly string[] = ['payload', 'parts', 'audio', 'interrupted', 'partial'];
