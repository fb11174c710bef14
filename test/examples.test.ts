import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessageInFlow } from 'node-red';
import { DashScopeSimulator } from './simulator';
import { expectedAudio } from './simulator/audio';
import { builtNode, coreNode, helper, nextMessages, type TestFlows } from './support/node-red';
import { wavSample } from './support/voice-samples';

const EXAMPLES = join(__dirname, '..', 'examples');
const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const ourTypes = Object.keys(pkg['node-red'].nodes);
const core = [
  coreNode('common/20-inject.js'),
  coreNode('common/90-comment.js'),
  coreNode('function/10-function.js'),
  coreNode('sequence/17-split.js'),
  coreNode('common/25-catch.js'),
  coreNode('function/15-change.js'),
  coreNode('function/10-switch.js'),
];
/** Sinks that would reach outside the test (sidebar, sound card) are watched by helper nodes instead. */
const OBSERVED = new Set(['debug', 'pcm-speaker']);

type FlowNode = { id: string; type: string; z?: string; wires?: string[][]; payload?: string; [k: string]: unknown };

/** Nodes that make a custom voice which a synthesis node downstream then speaks with. */
const VOICE_MAKERS = ['voice-clone', 'voice-design'];
/** An inject payload naming a recording the user is meant to replace with their own. */
const SAMPLE_PATH = /\.(wav|mp3|m4a)$/i;

interface AudioMsg {
  payload: Buffer;
  audio?: { sampleRate: number };
  parts?: { count?: number };
}

/** Gathers the chunks a node receives until the end marker (parts.count) closes the utterance. */
function wholeUtterance(node: Node): Promise<AudioMsg> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    node.on('input', (raw: NodeMessageInFlow) => {
      const msg = raw as unknown as AudioMsg;
      chunks.push(msg.payload);
      if (msg.parts?.count !== undefined) resolve({ ...msg, payload: Buffer.concat(chunks) });
    });
  });
}
interface EventMsg {
  payload: { text: string; voice: string; sampleRate: number };
}

const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));

describe('example flows', () => {
  let sim: DashScopeSimulator;
  let sampleDir: string;
  let samplePath: string;
  before(async () => {
    sim = await DashScopeSimulator.start();
    // Stands in for the user's own recording in the voice-cloning example.
    sampleDir = mkdtempSync(join(tmpdir(), 'example-sample-'));
    samplePath = join(sampleDir, 'my-voice.wav');
    writeFileSync(samplePath, wavSample({ sampleRate: 16000, seconds: 12 }));
  });
  after(async () => {
    await sim.close();
    rmSync(sampleDir, { recursive: true, force: true });
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

  it('there is an example for each voice node', () => {
    const used = new Set(files.flatMap((f) => (JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[]).map((n) => n.type)));
    for (const type of VOICE_MAKERS) assert.ok(used.has(type), `no example uses ${type}`);
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
        if (n.type === 'inject' && typeof n.payload === 'string' && SAMPLE_PATH.test(n.payload)) return { ...n, payload: samplePath };
        return n;
      });
      await helper.load([...ourTypes.map(builtNode), ...core], deployed, { [configs[0]?.id as string]: { apiKey: 'sk-test-key' } });

      const synth = flow.find((n) => n.type === 'cosyvoice-stream' || n.type === 'qwen-realtime') as FlowNode;
      const [audioWire, eventWire] = synth.wires as string[][];
      const byId = (id: string | undefined): FlowNode | undefined => flow.find((n) => n.id === id);
      // The audio is watched where the example sends it: a join node's output carries the whole
      // utterance; without one, the speaker (replaced by a helper) gets the chunks themselves.
      const speaker = (audioWire ?? []).map(byId).find((n) => n?.type === 'pcm-speaker');
      const joinNode = (audioWire ?? []).map(byId).find((n) => n?.type === 'join');
      const audio = joinNode
        ? nextMessages<AudioMsg>(helper.getNode((joinNode.wires as string[][])[0]?.[0] as string), 1).then(([m]) => m as AudioMsg)
        : wholeUtterance(helper.getNode((speaker as FlowNode).id));
      const events = eventWire?.[0] ? nextMessages<EventMsg>(helper.getNode(eventWire[0]), 1).then(([e]) => e) : Promise.resolve(undefined);

      const trigger = flow.find((n) => n.type === 'inject' && (n.props as { p: string }[]).some((p) => p.p === 'payload')) as FlowNode;
      (helper.getNode(trigger.id) as Node & { receive(msg: object): void }).receive({});
      const whole = await audio;
      const event = await events;
      const feedsSynth = (trigger.wires ?? []).flat().includes(synth.id);
      const text = event?.payload.text ?? (trigger.payload as string);
      if (trigger.payloadType === 'str' && feedsSynth) assert.equal(text, trigger.payload);
      const voice = event?.payload.voice ?? (synth.voice as string);
      const sampleRate = event?.payload.sampleRate ?? (whole.audio?.sampleRate as number);
      // An example that makes a voice first speaks the text its change node sets, with that new voice.
      const maker = flow.find((n) => VOICE_MAKERS.includes(n.type) && (trigger.wires ?? []).flat().includes(n.id));
      if (maker) {
        const say = flow.find((n) => n.type === 'change' && (n.wires ?? []).flat().includes(synth.id)) as FlowNode;
        assert.equal(text, (say.rules as { to: string }[])[0]?.to, 'the text the change node sets');
        const made = sim.voices.get(voice);
        assert.ok(made, 'it speaks with the voice the example made');
        assert.equal(made.targetModel, synth.model, 'the synthesis node uses the model the voice was made for');
      }
      const service = synth.type === 'qwen-realtime' ? 'qwen' : 'cosyvoice';
      assert.ok(
        whole.payload.equals(expectedAudio({ text, voice, sampleRate, service })),
        'the example speaks the text it sends',
      );
    });
  }
});
