/**
 * DashScope's billing and limit rule: a CJK ideograph counts 2, every other character 1,
 * SSML tags count nothing (docs/protocol.md "Character counting").
 */
const IDEOGRAPH = /\p{Script=Han}/u;
const SSML_TAG = /<[^<>]*>/g;

function isIdeograph(codePoint: number): boolean {
  // Fast path: everything below U+2E80 (Latin, Cyrillic, kana lies above but is not Han) counts 1.
  return codePoint >= 0x2e80 && IDEOGRAPH.test(String.fromCodePoint(codePoint));
}

export function billedLength(text: string, ssml = false): number {
  const plain = ssml ? text.replace(SSML_TAG, '') : text;
  let n = 0;
  for (const ch of plain) n += isIdeograph(ch.codePointAt(0) as number) ? 2 : 1;
  return n;
}

const BREAK_AFTER = new Set(['。', '！', '？', '!', '?', '；', ';', '，', ',', '.', '\n', ' ']);

/**
 * Cuts text into pieces whose billed length is at most `max`, preferring to cut just after a
 * sentence or clause mark so the service never has to synthesize half a word at a boundary.
 * Never splits a surrogate pair.
 */
export function splitByBilledLength(text: string, max: number): string[] {
  if (text.length * 2 <= max) return [text]; // cannot exceed max even if every char were CJK
  const pieces: string[] = [];
  let start = 0;
  let weight = 0;
  let lastBreak = -1; // index just after the last break character seen in the current piece
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i) as number;
    const size = cp > 0xffff ? 2 : 1;
    const w = isIdeograph(cp) ? 2 : 1;
    if (weight + w > max) {
      const cut = lastBreak > start ? lastBreak : i;
      pieces.push(text.slice(start, cut));
      start = cut;
      weight = billedLength(text.slice(start, i));
      lastBreak = -1;
      continue;
    }
    weight += w;
    i += size;
    if (BREAK_AFTER.has(text[i - 1] as string)) lastBreak = i;
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}
