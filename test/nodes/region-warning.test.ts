import assert from 'node:assert/strict';
import { DashScopeSimulator } from '../simulator';
import { builtNode, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];

interface LogEvent {
  level?: number;
  id?: string;
  msg?: unknown;
}

/** Node-RED's numeric log levels. */
const WARN = 30;
const ERROR = 20;

function logged(id: string, level: number): string[] {
  const calls = (helper.log() as unknown as { args: LogEvent[][] }).args;
  return calls.map((a) => a[0]).filter((e): e is LogEvent => e?.id === id && e.level === level).map((e) => String(e.msg));
}

/**
 * The warning is computed from the configured region alone, so a Singapore config (which cannot
 * reach the simulator) is deployed without synthesizing: keepWarm off, nothing connects.
 */
function singaporeFlow(node: { id: string; type: string } & Record<string, unknown>): TestFlows {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'cfg', type: 'tts-config', region: 'singapore', endpoint: '', keepWarm: false },
    { z: 'tab', config: 'cfg', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [[], []], ...node },
  ];
}

describe('region warning at deploy', () => {
  let sim: DashScopeSimulator | undefined;

  freshServerEachTest({
    after: async () => {
      await sim?.close();
      sim = undefined;
    },
  });

  it('warns once about a Beijing-only CosyVoice model configured for Singapore, naming beijing', async () => {
    await helper.load(nodes, singaporeFlow({ id: 'tts', type: 'cosyvoice-stream', model: 'cosyvoice-v2', voice: 'longxiaochun_v2' }), { cfg: { apiKey: KEY } });
    const warnings = logged('tts', WARN);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0] ?? '', /cosyvoice-v2 is offered only in beijing, not in singapore/);
    assert.deepEqual(logged('tts', ERROR), [], 'a warning, not an error: the node stays usable');
  });

  it('warns about a Beijing-only Qwen model too', async () => {
    await helper.load(nodes, singaporeFlow({ id: 'tts', type: 'qwen-realtime', model: 'qwen-tts-realtime', voice: 'Cherry', mode: 'server_commit' }), { cfg: { apiKey: KEY } });
    const warnings = logged('tts', WARN);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0] ?? '', /qwen-tts-realtime is offered only in beijing, not in singapore/);
  });

  it("warns also when the node's other settings are incomplete (its voice comes with each message)", async () => {
    await helper.load(nodes, singaporeFlow({ id: 'tts', type: 'qwen-realtime', model: 'qwen-tts-realtime', voice: '', mode: 'server_commit' }), { cfg: { apiKey: KEY } });
    assert.equal(logged('tts', WARN).filter((w) => /qwen-tts-realtime is offered only in beijing/.test(w)).length, 1);
  });

  it('says nothing about a model offered in both regions', async () => {
    await helper.load(nodes, singaporeFlow({ id: 'tts', type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang' }), { cfg: { apiKey: KEY } });
    assert.deepEqual(logged('tts', WARN), []);
  });

  it('says nothing for a custom endpoint, where a Beijing-only model just speaks', async () => {
    sim = await DashScopeSimulator.start({ firstAudioLatencyMs: 20, realTimeFactor: 0.05 });
    const flow = synthesisFlow(sim.baseUrl, { id: 'tts', type: 'cosyvoice-stream', model: 'cosyvoice-v2', voice: 'longxiaochun_v2' });
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    const joined = nextMessages<{ payload: Buffer }>(helper.getNode('joined'), 1);
    (helper.getNode('tts') as unknown as { receive(msg: Record<string, unknown>): void }).receive({ payload: 'Hello.' });
    const [whole] = await joined;
    assert.ok((whole?.payload.length ?? 0) > 0);
    assert.deepEqual(logged('tts', WARN), []);
  });
});
