/**
 * Word timestamps consistent with the synthetic audio: each character lasts exactly as long as
 * its tone, so begin/end times line up with the PCM. Latin runs form one word, every other
 * non-space character is its own word (as the docs' Chinese example shows).
 */
import { characterDurationMs } from './pcm-synth';

export interface WordTimestamp {
  text: string;
  begin_index: number;
  end_index: number;
  begin_time: number;
  end_time: number;
}

const WORD_CHAR = /[\p{L}\p{N}'’-]/u;
const CJK_OR_KANA = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

export function wordTimestamps(sentence: string): WordTimestamp[] {
  const chars = Array.from(sentence);
  const ms = characterDurationMs();
  const words: WordTimestamp[] = [];
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i] ?? '';
    if (/\s/u.test(ch)) {
      i++;
      continue;
    }
    let j = i + 1;
    if (WORD_CHAR.test(ch) && !CJK_OR_KANA.test(ch)) {
      while (j < chars.length && WORD_CHAR.test(chars[j] ?? '') && !CJK_OR_KANA.test(chars[j] ?? '')) j++;
    }
    words.push({
      text: chars.slice(i, j).join(''),
      begin_index: i,
      end_index: j,
      begin_time: Math.round(i * ms),
      end_time: Math.round(j * ms),
    });
    i = j;
  }
  return words;
}
