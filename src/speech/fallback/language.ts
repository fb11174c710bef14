/** espeak-ng voice names for the languages the DashScope models speak. */
const BY_NAME: Record<string, string> = {
  zh: 'cmn', chinese: 'cmn', en: 'en', english: 'en', de: 'de', german: 'de', it: 'it', italian: 'it',
  pt: 'pt', portuguese: 'pt', es: 'es', spanish: 'es', ja: 'ja', japanese: 'ja', ko: 'ko', korean: 'ko',
  fr: 'fr', french: 'fr', ru: 'ru', russian: 'ru', yue: 'yue', cantonese: 'yue',
};

/**
 * The espeak-ng voice for an utterance: the language the node was told (CosyVoice language hints,
 * Qwen's language type), else the script of the text itself, else English.
 */
export function fallbackLanguage(text: string, hint?: string): string {
  const named = hint ? BY_NAME[hint.trim().toLowerCase()] : undefined;
  if (named) return named;
  if (/[\u3040-\u30ff]/.test(text)) return 'ja';
  if (/[\uac00-\ud7af]/.test(text)) return 'ko';
  if (/[\u4e00-\u9fff]/.test(text)) return 'cmn';
  if (/[\u0400-\u04ff]/.test(text)) return 'ru';
  return 'en';
}
