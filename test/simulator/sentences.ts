/**
 * Sentence splitting as the services do it: text accumulates in a buffer and is cut right after
 * each terminator character. Because the whole buffer is re-split, the result does not depend on
 * how the text was fragmented on the wire.
 */

/** cosyvoice.md §10: split after 。！？!?；;，, and newline (the §9 example cuts at '，'). */
export const COSYVOICE_TERMINATORS = '。！？!?；;，,\n';
/** qwen-realtime.md §11: 。！？.!? and newline. */
export const QWEN_TERMINATORS = '。！？.!?\n';

export interface SplitResult {
  sentences: string[];
  /** Unterminated tail, kept until more text or an explicit flush. */
  rest: string;
}

export function splitSentences(buffered: string, terminators: string): SplitResult {
  const stops = new Set(Array.from(terminators));
  const sentences: string[] = [];
  let current = '';
  for (const ch of buffered) {
    current += ch;
    if (stops.has(ch)) {
      sentences.push(current);
      current = '';
    }
  }
  return { sentences, rest: current };
}

/** Sentences of a text that is flushed at the end (finish-task / session.finish). */
export function allSentences(text: string, terminators: string): string[] {
  const { sentences, rest } = splitSentences(text, terminators);
  return rest ? [...sentences, rest] : sentences;
}
