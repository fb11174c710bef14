/**
 * The three customization services (docs/protocol.md "Custom voices") as the customization client
 * needs them: which service serves a family and kind, and their target models. Targets and limits
 * are read from the shipped catalog so there is one source for them (the limits are applied in
 * src/voices/rules.ts).
 */
import { rawCatalog } from './catalog';

export type VoiceFamily = 'cosyvoice' | 'qwen';
export type VoiceKind = 'clone' | 'design';
export type CustomizationModel = 'voice-enrollment' | 'qwen-voice-enrollment' | 'qwen-voice-design';

export interface RawCloneAudio {
  max_seconds: number;
  max_bytes: number;
  min_sample_rate: number;
  min_continuous_speech_seconds: number;
}

export interface RawDesignLimits {
  voice_prompt_max_chars: number;
  preview_text_max_chars: number;
  preview_sample_rates: number[];
  preview_formats: string[];
  languages?: string[];
  preview_languages?: string[];
}

export interface RawService {
  model: string;
  clone_targets?: string[];
  design_targets?: string[];
  targets?: string[];
  clone_audio?: RawCloneAudio;
  design_limits?: RawDesignLimits;
}


/** The catalog's entry for one customization service. */
export function customizationService(model: CustomizationModel): RawService {
  const services = (rawCatalog() as unknown as { customization_services: RawService[] }).customization_services;
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
  const s = customizationService(serviceFor(family, kind));
  if (family === 'cosyvoice') return (kind === 'clone' ? s.clone_targets : s.design_targets) ?? [];
  return s.targets ?? [];
}

/**
 * The target model a CosyVoice custom voice id was made for (`{target}-{prefix}-{hex}` or
 * `{target}-vd-{prefix}-{hex}`), when the id has that shape. Qwen ids do not carry it.
 */
export function cosyVoiceTargetOf(voiceId: string): string | undefined {
  return [...new Set([...targetModels('cosyvoice', 'clone'), ...targetModels('cosyvoice', 'design')])]
    .sort((a, b) => b.length - a.length)
    .find((m) => voiceId.startsWith(`${m}-`));
}
