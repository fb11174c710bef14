import assert from 'node:assert/strict';
import { allModels, regionsOffering, regionWarning } from '../../src/dashscope/catalog';

describe('model regions', () => {
  it('names the regions the catalog lists for a model, as the tts-config node spells them', () => {
    assert.deepEqual(regionsOffering('cosyvoice-v3-flash'), ['beijing', 'singapore']);
    assert.deepEqual(regionsOffering('qwen3-tts-flash-realtime'), ['beijing', 'singapore']);
    assert.deepEqual(regionsOffering('cosyvoice-v3.5-plus'), ['beijing']);
    assert.deepEqual(regionsOffering('cosyvoice-v2'), ['beijing']);
    assert.deepEqual(regionsOffering('qwen-tts-realtime'), ['beijing']);
    assert.deepEqual(regionsOffering('no-such-model'), []);
  });

  it('warns about a Beijing-only model used in Singapore, naming where it is offered', () => {
    for (const model of ['cosyvoice-v3.5-flash', 'cosyvoice-v1', 'qwen-tts-realtime-latest']) {
      const warning = regionWarning(model, 'singapore');
      assert.ok(warning, model);
      assert.match(warning, new RegExp(`^${model.replace(/\./g, '\\.')} is offered only in beijing, not in singapore`));
    }
  });

  it('is silent where the model is offered, for a custom endpoint and for an unknown model', () => {
    assert.equal(regionWarning('cosyvoice-v3.5-flash', 'beijing'), undefined);
    assert.equal(regionWarning('cosyvoice-v3-plus', 'singapore'), undefined);
    assert.equal(regionWarning('qwen3-tts-vc-realtime-2026-01-15', 'singapore'), undefined);
    assert.equal(regionWarning('cosyvoice-v3.5-flash', 'custom'), undefined);
    assert.equal(regionWarning('no-such-model', 'singapore'), undefined);
  });

  it('agrees with the catalog for every model and public region', () => {
    const ids = { beijing: 'cn-beijing', singapore: 'ap-southeast-1' } as const;
    for (const m of allModels()) {
      for (const region of ['beijing', 'singapore'] as const) {
        const listed = m.regions.includes(ids[region]);
        assert.equal(regionWarning(m.id, region) === undefined, listed, `${m.id} in ${region}`);
        assert.equal(regionsOffering(m.id).includes(region), listed, `${m.id} offered in ${region}`);
      }
    }
  });
});
