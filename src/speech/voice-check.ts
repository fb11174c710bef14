import { allModels, cosyVoiceVoices, qwenVoices, type VoiceInfo } from '../dashscope/catalog';
import { voiceProblem, type VoiceRuleCatalog, type VoiceRuleVoice } from '../dashscope/voice-rule';
import { InputError } from './input-error';

let lists: VoiceRuleCatalog | undefined;

function ruleVoices(list: readonly VoiceInfo[]): VoiceRuleVoice[] {
  return list.map((v) => ({ id: v.voice, models: v.models }));
}

/** The catalog's lists in the rule's shape, made once (the rule runs for every utterance). */
function ruleCatalog(): VoiceRuleCatalog {
  lists ??= { models: allModels(), voices: { cosyvoice: ruleVoices(cosyVoiceVoices()), qwen: ruleVoices(qwenVoices()) } };
  return lists;
}

/**
 * Refuses a voice the model does not speak (VoiceModelMismatch), by the rule the edit dialogs
 * also run (src/dashscope/voice-rule.ts).
 */
export function checkVoice(model: string, voice: string): void {
  const problem = voiceProblem(ruleCatalog(), model, voice);
  if (problem) throw new InputError('VoiceModelMismatch', problem);
}
