/**
 * Usage of one response (qwen-realtime.md §5.13): billed characters (README §4) for Qwen3 models;
 * tokens for qwen-tts-realtime*, with audio at 50 tokens per second (minimum 50). The text token
 * count is a simulator estimate: one per CJK ideograph plus one per four other non-space characters.
 */
import type { CatalogModel } from '../catalog';
import { billedCharacters, isCjkIdeograph } from '../text-count';

export function estimateTextTokens(text: string): number {
  let cjk = 0;
  let other = 0;
  for (const ch of text) {
    if (isCjkIdeograph(ch)) cjk++;
    else if (!/\s/u.test(ch)) other++;
  }
  return Math.max(1, cjk + Math.ceil(other / 4));
}

export function responseUsage(model: CatalogModel, text: string, audioMs: number): Record<string, unknown> {
  if (model.usage_unit !== 'tokens') return { characters: billedCharacters(text) };
  const input = estimateTextTokens(text);
  const audio = Math.max(50, Math.ceil((audioMs / 1000) * 50));
  return {
    total_tokens: input + audio,
    input_tokens: input,
    output_tokens: audio,
    input_tokens_details: { text_tokens: input },
    output_tokens_details: { text_tokens: 0, audio_tokens: audio },
  };
}
