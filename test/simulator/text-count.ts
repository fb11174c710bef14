/**
 * The billing/limit character count shared by CosyVoice limits and TTS usage (README §4):
 * CJK ideographs count 2, everything else 1, SSML tags are not counted.
 */

const HAN = /\p{Script=Han}/u;

export function isCjkIdeograph(char: string): boolean {
  return HAN.test(char);
}

/** Counts by code point so that astral ideographs (CJK extension B+) are one character, not two. */
export function billedCharacters(text: string): number {
  let n = 0;
  for (const ch of text) n += isCjkIdeograph(ch) ? 2 : 1;
  return n;
}

/** SSML markup is neither spoken nor billed; only the text between tags is. */
export function stripSsmlTags(text: string): string {
  return text.replace(/<[^<>]*>/g, '');
}
