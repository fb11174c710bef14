import type { NodeAPI } from 'node-red';
import { COSYVOICE_VOICES, MODELS, QWEN_VOICES } from '../../dashscope/catalog';

/** What the edit dialogs need to offer model-aware choices: models, their options and system voices. */
export function editorCatalog(): unknown {
  const voices = (list: typeof COSYVOICE_VOICES) => list.map((v) => ({ id: v.voice, name: v.name, languages: v.languages, gender: v.gender, models: v.models }));
  return { models: MODELS, voices: { cosyvoice: voices(COSYVOICE_VOICES), qwen: voices(QWEN_VOICES) } };
}

/** GET <httpAdminRoot>/dashscope-tts/catalog, readable by anyone who may read flows. */
export function registerCatalogEndpoint(RED: NodeAPI): void {
  RED.httpAdmin.get('/dashscope-tts/catalog', RED.auth.needsPermission('tts-config.read'), (_req, res) => {
    res.json(editorCatalog());
  });
}
