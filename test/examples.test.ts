import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node } from 'node-red';
import { DashScopeSimulator } from './simulator';
import { expectedAudio } from './simulator/audio';
import { builtNode, coreNode, helper, nextMessages, type TestFlows } from './support/node-red';

const EXAMPLES = join(__dirname, '..', 'examples');
const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const ourTypes = Object.keys(pkg['node-red'].nodes);
const core = [
  coreNode('common/20-inject.js'),
  coreNode('common/90-comment.js'),
  coreNode('function/10-function.js'),
  coreNode('sequence/17-split.js'),
  coreNode('common/25-catch.js'),
];
/** Sinks that would reach outside the test (sidebar, sound card) are watched by helper nodes instead. */
const OBSERVED = new Set(['debug', 'pcm-speaker']);

type FlowNode = { id: string; type: string; z?: string; wires?: string[][]; payload?: string; [k: string]: unknown };

interface AudioMsg {
  payload: Buffer;
}
interface EventMsg {
  payload: { text: string; voice: string; sampleRate: number };
}

const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));

describe('example flows', () => {
  let sim: DashScopeSimulator;
  before(async () => {
    sim = await DashScopeSimulator.start();
  });
  after(async () => {
    await sim.close();
  });
  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });

  it('there is an example for every synthesis node', () => {
    const used = new Set(files.flatMap((f) => (JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[]).map((n) => n.type)));
    for (const type of ['cosyvoice-stream', 'qwen-realtime']) assert.ok(used.has(type), `no example uses ${type}`);
  });

  for (const file of files) {
    it(`"${file}" deploys and speaks against the simulator`, async () => {
      const flow = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[];
      const configs = flow.filter((n) => n.type === 'tts-config');
      assert.equal(configs.length, 1, 'each example brings its tts-config node');
      for (const n of flow) {
        if (n.type !== 'tab' && n.type !== 'tts-config') assert.ok(n.z, `${n.type} ${n.id} is not on a tab`);
        if (n.config !== undefined) assert.equal(n.config, configs[0]?.id, `${n.id} refers to a tts-config that is not in the file`);
      }
      const deployed: TestFlows = flow.map((n) => {
        if (n.type === 'tts-config') return { ...n, region: 'custom', endpoint: sim.baseUrl };
        if (OBSERVED.has(n.type)) return { id: n.id, type: 'helper', z: n.z };
        return n;
      });
      await helper.load([...ourTypes.map(builtNode), ...core], deployed, { [configs[0]?.id as string]: { apiKey: 'sk-test-key' } });

      const synth = flow.find((n) => n.type === 'cosyvoice-stream' || n.type === 'qwen-realtime') as FlowNode;
      const [audioWire, eventWire] = synth.wires as string[][];
      const joinNode = flow.find((n) => audioWire?.includes(n.id) && n.type === 'join') as FlowNode;
      const audioSink = helper.getNode((joinNode.wires as string[][])[0]?.[0] as string);
      const eventSink = helper.getNode(eventWire?.[0] as string);
      const audio = nextMessages<AudioMsg>(audioSink, 1);
      const events = nextMessages<EventMsg>(eventSink, 1);

      const trigger = flow.find((n) => n.type === 'inject' && (n.props as { p: string }[]).some((p) => p.p === 'payload')) as FlowNode;
      (helper.getNode(trigger.id) as Node & { receive(msg: object): void }).receive({});
      const [event] = await events;
      const [whole] = await audio;
      const text = event?.payload.text as string;
      if (trigger.payloadType === 'str') assert.equal(text, trigger.payload);
      const service = synth.type === 'qwen-realtime' ? 'qwen' : 'cosyvoice';
      assert.ok(
        whole?.payload.equals(expectedAudio({ text, voice: event?.payload.voice as string, sampleRate: event?.payload.sampleRate as number, service })),
        'the example speaks the text it sends',
      );
    });
  }
});
