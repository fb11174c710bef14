/**
 * Which voice a CosyVoice model accepts (cosyvoice.md §1, §6.5; voice-customization.md §5): its own
 * system voices, or a custom voice created for exactly this model that is not UNDEPLOYED.
 */
import { cosyVoiceSystemVoice, isQwenSystemVoiceAnywhere, type CatalogModel, type CosyVoiceSystemVoice } from '../catalog';
import type { VoiceStore } from '../voice-store';

export type VoiceCheck =
  | { ok: true; kind: 'system'; system: CosyVoiceSystemVoice }
  | { ok: true; kind: 'custom'; deploying: boolean }
  | { ok: false; code: string; message: string };

const ENGINE_418 = { ok: false, code: 'InvalidParameter', message: '[tts:]Engine return error code: 418' } as const;
const NO_SUCH_VOICE = { ok: false, code: 'InternalError', message: 'Remote cancelled grpc stream.' } as const;

export function checkCosyVoiceVoice(model: CatalogModel, voice: string, store: VoiceStore): VoiceCheck {
  const custom = store.get(voice);
  if (custom) {
    if (custom.service !== 'voice-enrollment' || custom.targetModel !== model.id || custom.status === 'UNDEPLOYED') return ENGINE_418;
    return { ok: true, kind: 'custom', deploying: custom.status === 'DEPLOYING' };
  }
  const system = cosyVoiceSystemVoice(voice);
  if (system) return model.system_voices && system.models.includes(model.id) ? { ok: true, kind: 'system', system } : ENGINE_418;
  if (isQwenSystemVoiceAnywhere(voice)) return ENGINE_418;
  // An id shaped like a clone that no longer (or never) existed: "voice does not exist" (§6.5);
  // any other unknown name is a wrong voice for this model (418).
  return /^cosyvoice-/.test(voice) ? NO_SUCH_VOICE : ENGINE_418;
}
