/**
 * What the probes say, and what it can cost. Every text is English, one billed character per
 * character (docs/protocol.md "Character counting"), and a probe's `maxCharacters` is computed
 * from its texts with the package's own `billedLength`, never typed.
 */
import { rawCatalog, systemVoicesFor } from '../../dashscope/catalog';
import { billedLength } from '../../dashscope/text';

export function billed(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + billedLength(text), 0);
}

/** The CosyVoice model most probes use (both regions). */
export const CV_MODEL = 'cosyvoice-v3-flash';

interface RawVoiceFlags {
  voice: string;
  word_timestamp?: boolean;
  note?: string;
}

/** The catalog's per-voice flags the package itself never reads: word timestamps, and a note such as "Beijing region only". */
function voiceFlags(): ReadonlyMap<string, RawVoiceFlags> {
  const list = (rawCatalog().cosyvoice_system_voices as { voices?: RawVoiceFlags[] } | undefined)?.voices ?? [];
  return new Map(list.map((v) => [v.voice, v]));
}

/**
 * The system voices a probe may speak with on `model`, best first. The catalog is a copy of the
 * Beijing voice list; the only region it marks is "Beijing region only" (not in Singapore), so a
 * voice without that note is taken for one of both regions (docs/protocol.md "Endpoints and
 * regions"). Best: an English voice with word timestamps (cv-words needs them) that every v3
 * model lists. A probe that sees the voice refused tries the next (cv-models).
 */
export function cosyVoiceVoices(model: string = CV_MODEL): string[] {
  const flags = voiceFlags();
  const listed = systemVoicesFor(model).filter((v) => !/beijing region only/i.test(flags.get(v.voice)?.note ?? ''));
  const score = (v: (typeof listed)[number]): number =>
    Number(flags.get(v.voice)?.word_timestamp === true) * 4 + Number(v.languages.includes('en')) * 2 + Number(v.models.length > 1);
  // A stable sort: among equals, the catalog's order.
  return [...listed].sort((a, b) => score(b) - score(a)).map((v) => v.voice);
}

/** The voice every CosyVoice probe speaks with on `model`: the first of `cosyVoiceVoices`. */
export function cosyVoiceVoice(model: string = CV_MODEL): string {
  return cosyVoiceVoices(model)[0] ?? '';
}

export const HELLO = 'Hello.';
export const HI = 'Hi.';
export const STREAM_PIECES = ['Good morning, ', 'the doors are locked.'] as const;
/** Two sentences by any rule: '!' ends a sentence in every documented terminator list. */
export const TWO_SENTENCES = 'One! Two!';
/**
 * Word timestamps (cv-words) and where sentences are cut (cv-sentence-split), in one task with
 * no pause: two sentences, the first with a comma between two clauses long enough that a service
 * cutting at commas would not merge them back.
 */
export const WORDS_TEXT = 'Lights off in the hall, then the kitchen! Good night!';
/** The sentence ends in WORDS_TEXT: more sentence-begin events than this means a cut at the comma. */
export const WORDS_SENTENCE_ENDS = 2;
export const BLANK_PIECES = ['Hi', ' ', ' there.'] as const;
export const GOOD_EVENING = 'Good evening.';
export const CLAUSE_PIECES = ['Lights off in the hall, ', 'then the kitchen.'] as const;
/** 150 characters of words with no punctuation, appended 10 at a time (qwen-buffer-limit). */
export const UNPUNCTUATED = 'the lamp by the door and the fan in the hall and the light on the stairs and the clock on the wall and the radio in the room and the heater by the bed';
export const UNPUNCTUATED_PIECE = 10;
export const COMMIT_TWO = 'One. Two.';
export const COMMIT_THREE = 'Three.';
export const UNCOMMITTED = 'Four.';
/** A key that cannot be anyone's: the bad-key probe never sends the user's. */
export const MADE_UP_KEY = 'sk-live-check-made-up-key-000000';
