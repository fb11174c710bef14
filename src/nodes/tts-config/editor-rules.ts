/**
 * The runtime rules the edit dialogs apply as they are, not rewritten for the browser:
 * scripts/build-editor.mjs bundles this module into resources/catalog.js (DashScopeEditor.rules),
 * so that each rule is written once.
 */
export { customEndpointProblem } from './endpoint-rule';
/** How CosyVoice counts an instruction's length (a CJK character counts 2), docs/protocol.md "CosyVoice: limits". */
export { billedLength } from '../../dashscope/text';
/** Whether a model speaks a voice, over the editor's catalog (the runtime's rule, src/speech/voice-check.ts). */
export { voiceProblem } from '../../dashscope/voice-rule';
