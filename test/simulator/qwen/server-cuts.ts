/**
 * Where a server_commit session cuts its buffer into responses (qwen-realtime.md §6.1, §11). The
 * notes document sentence ends only; whether the service also cuts at clause marks, or when too
 * much text waits without any cut point, is unconfirmed, so both are simulator switches.
 */
import { splitSentences } from '../sentences';

/** Clause marks a service that cuts at clauses would use (the CosyVoice set, plus 、 and colons). */
export const QWEN_CLAUSE_MARKS = '，,、；;：:';

export interface CutRules {
  sentenceTerminators: string;
  serverCuts: 'sentence' | 'clause';
  /** 0 = no limit. */
  maxBufferChars: number;
}

export interface CutResult {
  /** Texts to synthesize, one response each, in order. */
  pieces: string[];
  /** What stays in the buffer, waiting for more text or a flush. */
  rest: string;
}

/**
 * Cuts the whole buffer again each time (as sentences.ts does). The length limit applies to every
 * stretch without a cut point, finished sentences included, so the cuts depend on the text only,
 * never on how it was fragmented on the wire.
 */
export function cutBuffer(buffer: string, rules: CutRules): CutResult {
  const stops = rules.serverCuts === 'clause' ? rules.sentenceTerminators + QWEN_CLAUSE_MARKS : rules.sentenceTerminators;
  const { sentences, rest } = splitSentences(buffer, stops);
  const max = rules.maxBufferChars;
  if (max <= 0) return { pieces: sentences, rest };
  const pieces: string[] = [];
  for (const sentence of sentences) {
    const chars = Array.from(sentence);
    for (let i = 0; i < chars.length; i += max) pieces.push(chars.slice(i, i + max).join(''));
  }
  let tail = Array.from(rest);
  while (tail.length >= max) {
    pieces.push(tail.slice(0, max).join(''));
    tail = tail.slice(max);
  }
  return { pieces, rest: tail.join('') };
}
