/**
 * The three customization services (docs/protocol.md "Custom voices") as the voice nodes need
 * them: which service serves a family and kind, their target models, name rules and limits.
 * Targets and limits are read from the shipped catalog so there is one source for them.
 */
import raw from './catalog.json';

export type VoiceFamily = 'cosyvoice' | 'qwen';
export type VoiceKind = 'clone' | 'design';
export type CustomizationModel = 'voice-enrollment' | 'qwen-voice-enrollment' | 'qwen-voice-design';

interface RawCloneAudio {
  max_seconds: number;
  max_bytes: number;
  min_sample_rate: number;
  min_continuous_speech_seconds: number;
}

interface RawDesignLimits {
  voice_prompt_max_chars: number;
  preview_text_max_chars: number;
  preview_sample_rates: number[];
  preview_formats: string[];
  languages?: string[];
  preview_languages?: string[];
}

interface RawService {
  model: string;
  clone_targets?: string[];
  design_targets?: string[];
  targets?: string[];
  clone_audio?: RawCloneAudio;
  design_limits?: RawDesignLimits;
}

const services = (raw as unknown as { customization_services: RawService[] }).customization_services;

function service(model: CustomizationModel): RawService {
  const s = services.find((x) => x.model === model);
  if (!s) throw new Error(`catalog has no customization service ${model}`);
  return s;
}

export function serviceFor(family: VoiceFamily, kind: VoiceKind): CustomizationModel {
  if (family === 'cosyvoice') return 'voice-enrollment';
  return kind === 'clone' ? 'qwen-voice-enrollment' : 'qwen-voice-design';
}

/** Target models a family's clone or design can be made for. */
export function targetModels(family: VoiceFamily, kind: VoiceKind): string[] {
  const s = service(serviceFor(family, kind));
  if (family === 'cosyvoice') return (kind === 'clone' ? s.clone_targets : s.design_targets) ?? [];
  return s.targets ?? [];
}

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
  const a = service(model).clone_audio;
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

export const SAMPLE_RULES: Record<VoiceFamily, SampleRules> = {
  cosyvoice: sampleRules('voice-enrollment', 2, false),
  qwen: sampleRules('qwen-voice-enrollment', 1, true),
};

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
  const d = service(model).design_limits;
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

export const DESIGN_RULES: Record<VoiceFamily, DesignRules> = {
  cosyvoice: designRules('voice-enrollment', 0),
  qwen: designRules('qwen-voice-design', 15),
};

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

/**
 * The target model a CosyVoice custom voice id was made for (`{target}-{prefix}-{hex}` or
 * `{target}-vd-{prefix}-{hex}`), when the id has that shape. Qwen ids do not carry it.
 */
export function cosyVoiceTargetOf(voiceId: string): string | undefined {
  return [...new Set([...targetModels('cosyvoice', 'clone'), ...targetModels('cosyvoice', 'design')])]
    .sort((a, b) => b.length - a.length)
    .find((m) => voiceId.startsWith(`${m}-`));
}
