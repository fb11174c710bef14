// Status lines come from the message catalogs (locales/<lang>/<type>.json, `<type>.status.*`),
// in the runtime's language; error texts are shown as the error says them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeStatus } from 'node-red';
import { DashScopeSimulator } from '../simulator';
import { waitFor } from '../support/collect';
import { builtNodeIn, coreNode, freshServerEachTest, helper } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';

const ROOT = join(__dirname, '..', '..');
type Catalog = { [key: string]: string | Catalog };

function statusSection(lang: string, type: string): Record<string, string> {
  const catalog = JSON.parse(readFileSync(join(ROOT, 'locales', lang, `${type}.json`), 'utf8')) as Catalog;
  return ((catalog[type] as Catalog).status ?? {}) as Record<string, string>;
}

const placeholders = (text: string): string[] => [...text.matchAll(/__(\w+)__/g)].map((m) => m[1] as string).sort();

/** Where each node's status lines are written, and the names of the ones not written as literals. */
const USERS: Record<string, { files: string[]; more: string[] }> = {
  'cosyvoice-stream': { files: ['src/nodes/shared/synthesis-node.ts'], more: ['ready', 'connecting', 'reconnecting', 'invalidKey'] },
  'qwen-realtime': { files: ['src/nodes/shared/synthesis-node.ts'], more: ['ready', 'connecting', 'reconnecting', 'invalidKey'] },
  'voice-clone': { files: ['src/nodes/shared/voice-node.ts'], more: ['ready', 'updated', 'listed', 'listedOne', 'queried', 'deleted', 'deployingFor'] },
  'voice-design': { files: ['src/nodes/shared/voice-node.ts'], more: ['ready', 'updated', 'listed', 'listedOne', 'queried', 'deleted', 'deployingFor'] },
  'pcm-speaker': { files: ['src/nodes/pcm-speaker/status.ts'], more: [] },
};

/** The voice layer's steps (src/voices/context.ts VoiceStep) are status names of the voice nodes. */
const VOICE_STEPS = [...readFileSync(join(ROOT, 'src/voices/context.ts'), 'utf8').matchAll(/\| '(\w+)'/g)].map((m) => m[1] as string);

describe('status texts from the message catalogs', () => {
  for (const [type, { files, more }] of Object.entries(USERS)) {
    it(`${type}: every status line the code names is in en-US and zh-CN, with the same placeholders`, () => {
      const names = new Set([...files.flatMap((f) => [...readFileSync(join(ROOT, f), 'utf8').matchAll(/\bstatusLine\('(\w+)'/g)].map((m) => m[1] as string)), ...more]);
      if (type.startsWith('voice-')) for (const step of VOICE_STEPS) names.add(step);
      assert.ok(names.size >= 5, `${names.size} names found`);
      const en = statusSection('en-US', type);
      const zh = statusSection('zh-CN', type);
      for (const name of names) {
        assert.equal(typeof en[name], 'string', `en-US ${type}.status.${name}`);
        assert.equal(typeof zh[name], 'string', `zh-CN ${type}.status.${name}`);
        assert.deepEqual(placeholders(zh[name] as string), placeholders(en[name] as string), `placeholders of ${name}`);
      }
    });
  }

  describe('in a runtime speaking Chinese', function () {
    this.timeout(20_000);
    let sim: DashScopeSimulator;
    freshServerEachTest({ after: () => sim?.close() });

    it('cosyvoice-stream shows its states in Chinese, the voice it speaks with filled in', async () => {
      sim = await DashScopeSimulator.start({ firstAudioLatencyMs: 200 });
      const nodes = [builtNodeIn('tts-config', 'zh-CN'), builtNodeIn('cosyvoice-stream', 'zh-CN'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];
      await helper.load(nodes, synthesisFlow(sim.baseUrl, { id: 'tts', type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang' }), { cfg: { apiKey: 'sk-test-key' } });
      const tts = helper.getNode('tts') as unknown as { status: { args: [NodeStatus][] }; receive(msg: object): void };
      const texts = (): string[] => tts.status.args.map((a) => String(a[0].text));
      await waitFor(() => texts().includes('就绪'), 5000, 'ready, in Chinese');
      tts.receive({ payload: '门开了。' });
      await waitFor(() => texts().includes('正在播报（longanyang）'), 5000, 'speaking, in Chinese');
      assert.ok(texts().every((t) => !/\.status\./.test(t)), `no bare key: ${texts().join(' | ')}`);
    });
  });
});
