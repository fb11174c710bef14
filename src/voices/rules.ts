/**
 * What a custom-voice request must satisfy before it is sent (and billed): the name rules, the
 * clone sample limits and the design text limits of each family, and the languages a clone takes
 * (docs/protocol.md "Custom voices"). Limits are read from the shipped catalog, so there is one
 * source for them.
 */
import { customizationService, type CustomizationModel, type VoiceFamily } from '../dashscope/voice-services';

export interface NameRule {
  pattern: RegExp;
  text: string;
}

/**
 * CosyVoice's prefix: the docs allow letters and digits up to 10, the SDKs say lowercase and fewer
 * than 10 (docs disagree), so the client asks for what satisfies both. Qwen's preferred_name is
 * letters, digits and underscore up to 16.
 */
export const NAME_RULES: Record<VoiceFamily, NameRule> = {
  cosyvoice: { pattern: /^[a-z0-9]{1,9}$/, text: '1 to 9 lowercase letters or digits' },
  qwen: { pattern: /^[A-Za-z0-9_]{1,16}$/, text: '1 to 16 letters, digits or underscores' },
};

export interface SampleRules {
  maxBytes: number;
  maxSeconds: number;
  /** A sample shorter than the continuous speech the service needs can never pass. */
  minSeconds: number;
  minSampleRate: number;
  /** CosyVoice takes stereo and uses the first channel; Qwen wants mono. */
  maxChannels: number;
  /** Qwen takes the bytes as a data URI and counts the limit after base64 (docs/protocol.md "Custom voices: clone samples"). */
  limitAppliesToDataUri: boolean;
}

function sampleRules(model: CustomizationModel, maxChannels: number, limitAppliesToDataUri: boolean): SampleRules {
  const a = customizationService(model).clone_audio;
  if (!a) throw new Error(`catalog has no clone audio rules for ${model}`);
  return {
    maxBytes: a.max_bytes,
    maxSeconds: a.max_seconds,
    minSeconds: a.min_continuous_speech_seconds,
    minSampleRate: a.min_sample_rate,
    maxChannels,
    limitAppliesToDataUri,
  };
}

/** A family's clone-sample rules (read from the catalog when first asked for, not at load). */
export function sampleRulesOf(family: VoiceFamily): SampleRules {
  return family === 'cosyvoice' ? sampleRules('voice-enrollment', 2, false) : sampleRules('qwen-voice-enrollment', 1, true);
}

export interface DesignRules {
  promptMaxChars: number;
  previewMaxChars: number;
  /**
   * Qwen refuses preview texts under 15 characters (third-party, observed with real keys). For
   * CosyVoice the same rule is unconfirmed: not enforced here, the service has the last word.
   */
  previewMinChars: number;
  /** Languages of the preview text (and of the language field). */
  languages: string[];
  sampleRates: number[];
  formats: string[];
}

function designRules(model: CustomizationModel, previewMinChars: number): DesignRules {
  const d = customizationService(model).design_limits;
  if (!d) throw new Error(`catalog has no design limits for ${model}`);
  return {
    promptMaxChars: d.voice_prompt_max_chars,
    previewMaxChars: d.preview_text_max_chars,
    previewMinChars,
    languages: d.preview_languages ?? d.languages ?? ['zh', 'en'],
    sampleRates: d.preview_sample_rates,
    formats: d.preview_formats,
  };
}

/** A family's voice-design rules (read from the catalog when first asked for, not at load). */
export function designRulesOf(family: VoiceFamily): DesignRules {
  return family === 'cosyvoice' ? designRules('voice-enrollment', 0) : designRules('qwen-voice-design', 15);
}

/**
 * language_hints a CosyVoice clone target takes; other targets ignore the field, so it is not sent
 * (docs/protocol.md "Custom voices: clone samples").
 */
export function cosyVoiceHintLanguages(targetModel: string): string[] {
  const base = ['zh', 'en', 'fr', 'de', 'ja', 'ko', 'ru'];
  if (targetModel === 'cosyvoice-v3-plus') return base;
  if (['cosyvoice-v3.5-plus', 'cosyvoice-v3.5-flash', 'cosyvoice-v3-flash'].includes(targetModel)) return [...base, 'pt', 'th', 'id', 'vi'];
  return [];
}

/** Languages a Qwen clone sample may be in (docs/protocol.md "Custom voices: clone samples"). */
export const QWEN_CLONE_LANGUAGES = ['zh', 'en', 'de', 'it', 'pt', 'es', 'ja', 'ko', 'fr', 'ru'];

