/**
 * Voices a Qwen realtime model accepts (qwen-realtime.md §1, voice-customization.md §5): the system
 * voices of its snapshot, or custom voices made by the model's own customization service for
 * exactly this model id.
 */
import { qwenSystemVoicesFor, type CatalogModel } from '../catalog';
import type { VoiceStore } from '../voice-store';

export function isQwenVoiceAllowed(model: CatalogModel, voice: string, store: VoiceStore): boolean {
  if (qwenSystemVoicesFor(model).has(voice)) return true;
  const custom = store.get(voice);
  const service = model.custom_voices?.service;
  return Boolean(custom && service && custom.service === service && custom.targetModel === model.id && custom.status !== 'UNDEPLOYED');
}

export function voiceNotSupported(voice: string): string {
  return `The requested voice '${voice}' is not supported.`;
}
