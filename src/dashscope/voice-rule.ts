/**
 * Which voice a model speaks, as one pure rule over the catalog's lists: the runtime applies it to
 * every utterance (src/speech/voice-check.ts) and the edit dialogs run the same function in the
 * browser (bundled through src/nodes/tts-config/editor-rules.ts, over the editor's catalog), so
 * the dialog marks exactly the voices the runtime refuses. It imports nothing: the browser bundle
 * must not pull the catalog in (the dialogs have their own copy of it in resources/catalog.js).
 */

/** A model as the rule needs it (a ModelInfo, or the editor catalog's model). */
export interface VoiceRuleModel {
  id: string;
  family: 'cosyvoice' | 'qwen-tts-realtime';
  /** false: the model speaks custom voices only. */
  systemVoices: boolean;
}

/** A system voice and the models it speaks with. */
export interface VoiceRuleVoice {
  id: string;
  models: readonly string[];
}

/** The lists the rule reads: every model, and each family's system voices (the editor catalog has this shape). */
export interface VoiceRuleCatalog {
  models: readonly VoiceRuleModel[];
  voices: { cosyvoice: readonly VoiceRuleVoice[]; qwen: readonly VoiceRuleVoice[] };
}

/**
 * The model a CosyVoice custom voice id was made for: such ids are `<target_model>-<prefix>-<hex>`,
 * and the longest model id that starts the voice id is the target (cosyvoice-v3.5-flash before
 * cosyvoice-v3, if both are listed).
 */
export function customVoiceModel(catalog: VoiceRuleCatalog, voice: string): string | undefined {
  return catalog.models
    .filter((m) => m.family === 'cosyvoice')
    .map((m) => m.id)
    .sort((a, b) => b.length - a.length)
    .find((id) => voice.startsWith(`${id}-`));
}

/**
 * Why `model` would not speak `voice` ('' when it would, and for a blank voice or an unknown
 * model: the node's other checks decide those). A CosyVoice custom voice speaks only with the
 * model it was made for; a system voice only with the models it lists (a model without system
 * voices takes none); any other id may be a custom voice, which only the service can judge.
 */
export function voiceProblem(catalog: VoiceRuleCatalog, model: string, voice: string): string {
  const info = catalog.models.find((m) => m.id === model);
  if (!voice || !info) return '';
  if (info.family === 'cosyvoice') {
    const target = customVoiceModel(catalog, voice);
    if (target) return target === model ? '' : `voice "${voice}" was created for ${target} and cannot speak with ${model}`;
    const system = catalog.voices.cosyvoice.find((v) => v.id === voice);
    return system && !system.models.includes(model) ? `voice "${voice}" belongs to ${system.models.join(', ')}, not ${model}` : '';
  }
  const system = catalog.voices.qwen.find((v) => v.id === voice);
  if (!system) return '';
  if (!info.systemVoices) return `${model} does not take system voices such as "${voice}": use a voice created for it`;
  return system.models.includes(model) ? '' : `voice "${voice}" is not available on ${model}`;
}
