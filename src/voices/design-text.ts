/**
 * The text rules of voice design, checked before a (billed) call: the description (voice_prompt)
 * is Chinese or English and has a length limit; the preview text has limits and must be in the
 * language the request names. Lengths count characters (code points), as the service's limits
 * are stated (docs/protocol.md "Custom voices: design texts").
 */
import { DashScopeError } from '../dashscope/errors';
import type { VoiceFamily } from '../dashscope/voice-services';
import { designRulesOf } from './rules';

export function invalidDesign(problem: string): DashScopeError {
  return new DashScopeError({ code: 'InvalidDesign', message: `voice design refused (nothing was sent): ${problem}`, origin: 'client', retryable: false });
}

export function characters(text: string): number {
  return Array.from(text).length;
}

/** Scripts that are neither Chinese nor English, named for the error message. */
const FOREIGN_SCRIPTS: [RegExp, string][] = [
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'Japanese kana'],
  [/\p{Script=Hangul}/u, 'Korean hangul'],
  [/\p{Script=Cyrillic}/u, 'Cyrillic'],
  [/\p{Script=Greek}/u, 'Greek'],
  [/\p{Script=Arabic}/u, 'Arabic'],
  [/\p{Script=Hebrew}/u, 'Hebrew'],
  [/\p{Script=Thai}/u, 'Thai'],
  [/\p{Script=Devanagari}/u, 'Devanagari'],
];

const HAN = /\p{Script=Han}/u;
const LATIN = /\p{Script=Latin}/u;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** The script a preview text in this language cannot do without (a conservative check: only an absence is refused). */
const REQUIRED_SCRIPT: Record<string, [RegExp, string]> = {
  zh: [HAN, 'Chinese characters'],
  ja: [/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u, 'Japanese characters'],
  ko: [/\p{Script=Hangul}/u, 'Korean hangul'],
  ru: [/\p{Script=Cyrillic}/u, 'Cyrillic letters'],
  en: [LATIN, 'Latin letters'],
  de: [LATIN, 'Latin letters'],
  fr: [LATIN, 'Latin letters'],
  es: [LATIN, 'Latin letters'],
  it: [LATIN, 'Latin letters'],
  pt: [LATIN, 'Latin letters'],
};

/** A best guess of the preview text's language among those allowed, for a blank language field. */
export function guessLanguage(text: string, allowed: readonly string[]): string {
  const pick = (lang: string): string | undefined => (allowed.includes(lang) ? lang : undefined);
  if (KANA.test(text)) return pick('ja') ?? 'zh';
  if (/\p{Script=Hangul}/u.test(text)) return pick('ko') ?? 'en';
  if (/\p{Script=Cyrillic}/u.test(text)) return pick('ru') ?? 'en';
  if (HAN.test(text)) return 'zh';
  return 'en';
}

export interface DesignText {
  voicePrompt: string;
  previewText: string;
  language: string;
}

/** Throws InvalidDesign naming the broken rule; returns the texts trimmed and the language settled. */
export function checkDesignText(family: VoiceFamily, input: { voicePrompt: string; previewText: string; language?: string }): DesignText {
  const rules = designRulesOf(family);
  const voicePrompt = input.voicePrompt.trim();
  const previewText = input.previewText.trim();
  if (!voicePrompt) throw invalidDesign('the voice description (voice prompt) is empty');
  const promptChars = characters(voicePrompt);
  if (promptChars > rules.promptMaxChars) throw invalidDesign(`the voice description has ${promptChars} characters; the limit is ${rules.promptMaxChars}`);
  for (const [script, name] of FOREIGN_SCRIPTS) {
    if (script.test(voicePrompt)) throw invalidDesign(`the voice description must be written in Chinese or English (it contains ${name})`);
  }
  if (!previewText) throw invalidDesign('the preview text is empty');
  const previewChars = characters(previewText);
  if (previewChars > rules.previewMaxChars) throw invalidDesign(`the preview text has ${previewChars} characters; the limit is ${rules.previewMaxChars}`);
  if (previewChars < rules.previewMinChars) throw invalidDesign(`the preview text has ${previewChars} characters; it needs at least ${rules.previewMinChars}`);
  const language = (input.language ?? '').trim() || guessLanguage(previewText, rules.languages);
  if (!rules.languages.includes(language)) throw invalidDesign(`language "${language}" is not offered; use one of ${rules.languages.join(', ')}`);
  const required = REQUIRED_SCRIPT[language];
  if (required && !required[0].test(previewText)) {
    throw invalidDesign(`the preview text must be in the language "${language}", but it has no ${required[1]}`);
  }
  return { voicePrompt, previewText, language };
}
