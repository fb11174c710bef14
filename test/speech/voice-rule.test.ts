/**
 * Which voice a model speaks is one rule (src/dashscope/voice-rule.ts): the runtime refuses by it
 * (VoiceModelMismatch) and the edit dialogs mark by it, bundled into resources/catalog.js. Every
 * model of both families against every system voice and a set of custom voice ids: the voice
 * validator of each synthesis dialog, run from the shipped editor files, answers as the runtime
 * does.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { allModels, cosyVoiceVoices, qwenVoices, type ModelInfo } from '../../src/dashscope/catalog';
import { resolveCosyVoiceParams, type CosyVoiceNodeProps } from '../../src/speech/cosyvoice-settings';
import { InputError } from '../../src/speech/input-error';
import { resolveQwenSettings, type QwenNodeProps } from '../../src/speech/qwen-settings';

const ROOT = join(__dirname, '..', '..');

type Validate = (this: Record<string, unknown>, v: unknown) => boolean;
interface EditorLibrary {
  synthesis(type: string, spec: Record<string, unknown>): { defaults: Record<string, { validate?: Validate }> };
}

/**
 * The dialogs' voice validators, as the browser runs them: the shipped library and catalog in a
 * context of their own. No dialog is open there ($ finds no field), so a validator judges the
 * node's saved model, as it does for every node on the workspace.
 */
function editorVoiceValidators(): Record<'cosyvoice' | 'qwen', Validate> {
  const sandbox: { $: () => { length: number }; DashScopeEditor?: EditorLibrary } = { $: () => ({ length: 0 }) };
  vm.createContext(sandbox);
  for (const file of ['editor.js', 'catalog.js']) vm.runInContext(readFileSync(join(ROOT, 'resources', file), 'utf8'), sandbox);
  const lib = sandbox.DashScopeEditor as EditorLibrary;
  const validator = (type: string, family: string, tuning: Record<string, string>): Validate => {
    const validate = lib.synthesis(type, { family, model: '', voice: '', tuning }).defaults.voice?.validate;
    assert.ok(validate, `${type} has a voice validator`);
    return validate;
  };
  return {
    cosyvoice: validator('cosyvoice-stream', 'cosyvoice', { rate: 'rate', volume: 'volume', pitch: 'pitch' }),
    qwen: validator('qwen-realtime', 'qwen', { speechRate: 'speech_rate', volume: 'volume', pitchRate: 'pitch_rate' }),
  };
}

/** Whether the runtime speaks `voice` with `model` (any refusal but VoiceModelMismatch is not the voice's). */
function runtimeTakes(model: ModelInfo, voice: string): boolean {
  try {
    if (model.family === 'cosyvoice') {
      const props = { model: model.id, voice, format: model.defaultFormat, sampleRate: model.defaultSampleRate } as unknown as CosyVoiceNodeProps;
      resolveCosyVoiceParams(props);
    } else {
      const props = { model: model.id, voice, mode: 'server_commit', format: model.defaultFormat, sampleRate: model.defaultSampleRate } as unknown as QwenNodeProps;
      resolveQwenSettings(props);
    }
    return true;
  } catch (err) {
    if (err instanceof InputError && err.code === 'VoiceModelMismatch') return false;
    throw err;
  }
}

describe('the voice rule: the dialogs mark exactly the voices the runtime refuses', () => {
  it('every model × every system voice and custom voice ids of both families', () => {
    const validators = editorVoiceValidators();
    const models = allModels();
    const voices = [
      ...cosyVoiceVoices().map((v) => v.voice),
      ...qwenVoices().map((v) => v.voice),
      // A custom voice made for each CosyVoice model (the id names it), one with a suffix of its own, ids of no pattern.
      ...models.filter((m) => m.family === 'cosyvoice').map((m) => `${m.id}-myvoice-0123456789abcdef`),
      'cosyvoice-v3-flash-x',
      'qwen-tts-vc-myvoice-voice-20260115120000-abcd',
      'some-custom-voice',
    ];
    let refused = 0;
    let taken = 0;
    const differ: string[] = [];
    for (const model of models) {
      const validate = validators[model.family === 'cosyvoice' ? 'cosyvoice' : 'qwen'];
      for (const voice of voices) {
        const runtime = runtimeTakes(model, voice);
        const editor = validate.call({ model: model.id, voice }, voice) === true;
        if (runtime !== editor) differ.push(`${model.id} × ${voice}: runtime ${runtime ? 'takes' : 'refuses'}, dialog ${editor ? 'takes' : 'marks'}`);
        if (runtime) taken += 1;
        else refused += 1;
      }
    }
    assert.deepEqual(differ, []);
    // Both answers occur often: the comparison is not of two constant answers.
    assert.ok(refused > 50 && taken > 50, `refused ${refused}, taken ${taken}`);
  });

  it('known cases, as the runtime words them', () => {
    const validators = editorVoiceValidators();
    const cases: [family: 'cosyvoice' | 'qwen', model: string, voice: string, takes: boolean][] = [
      ['cosyvoice', 'cosyvoice-v3-flash', 'longxiaochun_v2', false],
      ['cosyvoice', 'cosyvoice-v2', 'longxiaochun_v2', true],
      ['cosyvoice', 'cosyvoice-v2', 'cosyvoice-v3-flash-myvoice-0123456789abcdef', false],
      ['cosyvoice', 'cosyvoice-v3-flash', 'cosyvoice-v3-flash-myvoice-0123456789abcdef', true],
      ['qwen', 'qwen3-tts-vd-realtime-2026-01-15', 'Cherry', false],
      ['qwen', 'qwen3-tts-flash-realtime', 'Cherry', true],
      ['qwen', 'qwen3-tts-flash-realtime', 'some-custom-voice', true],
    ];
    for (const [family, model, voice, takes] of cases) {
      assert.equal(validators[family].call({ model, voice }, voice), takes, `${model} × ${voice}`);
      const info = allModels().find((m) => m.id === model) as ModelInfo;
      assert.equal(runtimeTakes(info, voice), takes, `runtime: ${model} × ${voice}`);
    }
    // Blank: msg.voice or the model's first voice decides at run time.
    assert.equal(validators.cosyvoice.call({ model: 'cosyvoice-v3-flash', voice: '' }, ''), true);
  });
});
