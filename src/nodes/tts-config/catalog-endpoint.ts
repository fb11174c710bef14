import type { NodeAPI } from 'node-red';
import { allModels, cosyVoiceInstructionMaxChars, cosyVoiceVoices, modelsOf, qwenVoices, serviceParameters, type ModelInfo, type ServiceParameters, type VoiceInfo } from '../../dashscope/catalog';
import { targetModels, type VoiceFamily } from '../../dashscope/voice-services';
import { cosyVoiceHintLanguages, designRulesOf, NAME_RULES, QWEN_CLONE_LANGUAGES, type DesignRules } from '../../voices/rules';

/** A model as the dialogs offer it and judge its settings. */
export type EditorModel = Pick<ModelInfo, 'id' | 'family' | 'systemVoices' | 'formats' | 'sampleRates' | 'parameters' | 'tunables' | 'instructions' | 'ssml' | 'languageTypes'>;

/** A system voice as the voice pickers list it. */
export interface EditorVoice {
  id: string;
  name?: string;
  models: string[];
}

/** What the dialogs check and offer for one family (the voice-family names: cosyvoice, qwen). */
export interface EditorFamily {
  /** The `family` of this family's models in `models`. */
  modelFamily: ModelInfo['family'];
  parameters: ServiceParameters;
  /** The languages (codes) the family's Language rows offer: every one a clone sample of the family may be in. */
  languages: string[];
  /** CosyVoice: the longest instruction. */
  instructionMaxChars?: number;
  /**
   * Qwen: the language_type values its models take, in catalog order ("Auto", the blank choice,
   * left out), each with the language code its Language row shows it by ("German" → "de").
   */
  languageTypes?: Record<string, string>;
  /** The custom-voice name rule, as a RegExp source. */
  voiceName: string;
  /** Clone targets, each with the sample languages it takes ([]: the target takes no language). */
  clone: { targets: string[]; languages: Record<string, string[]> };
  design: DesignRules & { targets: string[] };
}

/** Everything the edit dialogs know about models and voices: the runtime's own rules, from the one catalog. */
export interface EditorCatalog {
  models: EditorModel[];
  voices: Record<VoiceFamily, EditorVoice[]>;
  families: Record<VoiceFamily, EditorFamily>;
}

function pickerVoices(list: readonly VoiceInfo[]): EditorVoice[] {
  return list.map((v) => ({ id: v.voice, name: v.name, models: v.models }));
}

function editorModel(m: ModelInfo): EditorModel {
  const { id, family, systemVoices, formats, sampleRates, parameters, tunables, instructions, ssml, languageTypes } = m;
  return { id, family, systemVoices, formats, sampleRates, parameters, tunables, instructions, ssml, languageTypes };
}

function family(name: VoiceFamily, modelFamily: ModelInfo['family'], cloneLanguages: (target: string) => string[]): EditorFamily {
  const cloneTargets = targetModels(name, 'clone');
  const languages: string[] = [];
  for (const target of cloneTargets) for (const l of cloneLanguages(target)) if (!languages.includes(l)) languages.push(l);
  return {
    modelFamily,
    languages,
    parameters: serviceParameters(modelFamily),
    voiceName: NAME_RULES[name].pattern.source,
    clone: { targets: cloneTargets, languages: Object.fromEntries(cloneTargets.map((t) => [t, cloneLanguages(t)])) },
    design: { ...designRulesOf(name), targets: targetModels(name, 'design') },
  };
}

/**
 * Qwen's language_type values ("German") with the codes of the family's languages ("de"), matched
 * by the languages' English names, so that no list of them is typed anywhere; a value no code
 * matches keeps its own text.
 */
function languageTypeCodes(codes: readonly string[]): Record<string, string> {
  const english = new Intl.DisplayNames(['en'], { type: 'language' });
  const types: Record<string, string> = {};
  for (const m of modelsOf('qwen-tts-realtime')) {
    for (const t of m.languageTypes) if (t !== 'Auto' && !(t in types)) types[t] = codes.find((c) => english.of(c) === t) ?? t;
  }
  return types;
}

/**
 * The catalog as the edit dialogs use it, no more (it is shipped to every editor page). The build
 * writes it into resources/catalog.js (the dialogs' validators run synchronously as flows load,
 * so they cannot wait for a request); the same view is served at GET /dashscope-tts/catalog.
 */
export function editorCatalog(): EditorCatalog {
  return {
    models: allModels().map(editorModel),
    voices: { cosyvoice: pickerVoices(cosyVoiceVoices()), qwen: pickerVoices(qwenVoices()) },
    families: {
      cosyvoice: { ...family('cosyvoice', 'cosyvoice', cosyVoiceHintLanguages), instructionMaxChars: cosyVoiceInstructionMaxChars() },
      qwen: { ...family('qwen', 'qwen-tts-realtime', () => QWEN_CLONE_LANGUAGES), languageTypes: languageTypeCodes(QWEN_CLONE_LANGUAGES) },
    },
  };
}

/** GET <httpAdminRoot>/dashscope-tts/catalog, readable by anyone who may read flows. */
export function registerCatalogEndpoint(RED: NodeAPI): void {
  RED.httpAdmin.get('/dashscope-tts/catalog', RED.auth.needsPermission('tts-config.read'), (_req, res) => {
    res.json(editorCatalog());
  });
}
