import type { NodeAPI } from 'node-red';
import { allModels, cosyVoiceInstructionMaxChars, cosyVoiceVoices, qwenVoices, serviceParameters, type ModelInfo, type ServiceParameters, type VoiceInfo } from '../../dashscope/catalog';
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
  /** CosyVoice: the longest instruction. */
  instructionMaxChars?: number;
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
  return {
    modelFamily,
    parameters: serviceParameters(modelFamily),
    voiceName: NAME_RULES[name].pattern.source,
    clone: { targets: cloneTargets, languages: Object.fromEntries(cloneTargets.map((t) => [t, cloneLanguages(t)])) },
    design: { ...designRulesOf(name), targets: targetModels(name, 'design') },
  };
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
      qwen: family('qwen', 'qwen-tts-realtime', () => QWEN_CLONE_LANGUAGES),
    },
  };
}

/** GET <httpAdminRoot>/dashscope-tts/catalog, readable by anyone who may read flows. */
export function registerCatalogEndpoint(RED: NodeAPI): void {
  RED.httpAdmin.get('/dashscope-tts/catalog', RED.auth.needsPermission('tts-config.read'), (_req, res) => {
    res.json(editorCatalog());
  });
}
