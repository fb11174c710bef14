// A streamed utterance that fails ends there: later pieces start a new utterance and every input
// message is done, with the phrase cache and the fallback voice around the engine as without them
// (they wrap the utterance's events; the node must still know its own stream's output).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'node-red';
import { DashScopeSimulator, expectedAudio } from '../simulator';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, type TestFlows } from '../support/node-red';

const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), coreNode('common/24-complete.js'), coreNode('common/25-catch.js'), coreNode('sequence/17-split.js')];
type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type Out = { topic?: string; payload: Buffer; error?: { code?: string } };

describe('a failed stream, then more of it (issue 18 review)', function () {
  this.timeout(20_000);
  let sim: DashScopeSimulator;
  freshServerEachTest({ ownSettings: true, before: () => helper.settings({ userDir: mkdtempSync(join(tmpdir(), 'stream-fail-')) }), after: () => sim?.close() });

  for (const [label, features] of [['plain', {}], ['phrase cache', { cache: true }], ['fallback voice', { fallback: true }]] as const) {
    it(`${label}: the failed piece is caught, the later pieces are a new utterance, and every message is done`, async () => {
      sim = await DashScopeSimulator.start();
      const flow: TestFlows = [
        { id: 'tab', type: 'tab' },
        { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
        { id: 'tts', z: 'tab', type: 'cosyvoice-stream', config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, input: 'stream', ...features, wires: [['joiner'], []] },
        { id: 'joiner', type: 'join', z: 'tab', mode: 'auto', wires: [['joined']] },
        { id: 'joined', type: 'helper', z: 'tab' },
        { id: 'completed', type: 'complete', z: 'tab', scope: ['tts'], uncaught: false, wires: [['doneOut']] },
        { id: 'doneOut', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: ['tts'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ];
      await helper.load(nodes, flow, { cfg: { apiKey: 'sk-test-key' } });
      const dones = collect<Out>(helper.getNode('doneOut'));
      const caught = collect<Out>(helper.getNode('caught'));
      const joined = collect<Out>(helper.getNode('joined'));
      sim.inject({ kind: 'fail-task', code: 'InvalidParameter', message: 'bad', after: 'first-text' });
      const tts = helper.getNode('tts') as Receiver;
      tts.receive({ payload: 'Hello there. ', topic: 'a' });
      await waitFor(() => caught.length === 1, 5000, 'the failure');
      assert.equal(caught[0]?.error?.code, 'InvalidParameter');
      tts.receive({ payload: 'More text. ', topic: 'b' });
      tts.receive({ payload: 'End.', topic: 'c', complete: true });
      await waitFor(() => dones.length === 2, 5000, `the later messages done (done: ${dones.map((d) => d.topic).join(',')})`);
      assert.deepEqual(dones.map((d) => d.topic).sort(), ['b', 'c']);
      await waitFor(() => joined.length === 1, 5000, 'the new utterance');
      assert.ok(joined[0]?.payload.equals(expectedAudio({ text: 'More text. End.', voice: 'longanyang', sampleRate: 24000 })), 'the later pieces were spoken as one new utterance');
    });
  }
});
