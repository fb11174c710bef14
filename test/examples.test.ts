import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessageInFlow } from 'node-red';
import { DashScopeSimulator } from './simulator';
import { expectedAudio } from './simulator/audio';
import { waitFor } from './support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from './support/node-red';
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
  coreNode('storage/10-file.js'),
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
  freshServerEachTest();

  it('there is an example for every synthesis node', () => {
    const used = new Set(files.flatMap((f) => (JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[]).map((n) => n.type)));
    for (const type of ['cosyvoice-stream', 'qwen-realtime']) assert.ok(used.has(type), `no example uses ${type}`);
  });

  it('there is an example for every node a user drops on a flow (the Flow Library asks for it)', () => {
    const used = new Set(files.flatMap((f) => (JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[]).map((n) => n.type)));
    for (const type of ourTypes.filter((t) => t !== 'tts-config')) assert.ok(used.has(type), `no example uses ${type}`);
  });

  it('every example refers to the tts-config node by the shared id, so importing two examples keeps one config node', () => {
    for (const f of files) {
      const flow = JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[];
      assert.deepEqual(flow.filter((n) => n.type === 'tts-config').map((n) => n.id), ['dashscope-tts-config'], f);
    }
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
        // A file an example writes goes to this test's own directory instead.
        if (n.type === 'file') return { ...n, filename: join(sampleDir, `${n.id}.wav`) };
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
      // It may be fed directly, or through a `file in` node that reads the recording the inject names.
      const fed = new Set((trigger.wires ?? []).flat());
      for (const id of [...fed]) if (byId(id)?.type === 'file in') for (const next of (byId(id)?.wires ?? []).flat()) fed.add(next);
      const maker = flow.find((n) => VOICE_MAKERS.includes(n.type) && fed.has(n.id));
      // Text that a change node sets in front of the synthesis node (a doorbell press, a new voice) is what is said.
      const say = flow.find((n) => n.type === 'change' && (n.wires ?? []).flat().includes(synth.id));
      if (say) assert.equal(text, (say.rules as { to: string }[])[0]?.to, 'the text the change node sets');
      if (maker) {
        assert.ok(say, 'a change node puts the text to say in front of the synthesis node');
        const made = sim.voices.get(voice);
        assert.ok(made, 'it speaks with the voice the example made');
        assert.equal(made.targetModel, synth.model, 'the synthesis node uses the model the voice was made for');
      }
      const service = synth.type === 'qwen-realtime' ? 'qwen' : 'cosyvoice';
      const expected = expectedAudio({ text, voice, sampleRate, service });
      // A function node after the join that puts a WAV header in front has already done so on the
      // very message object we were handed (its handler runs first): the samples follow the header.
      const wavHeaderAdded = flow.some((n) => n.type === 'file') && whole.payload.toString('ascii', 0, 4) === 'RIFF';
      const samples = wavHeaderAdded ? whole.payload.subarray(44) : whole.payload;
      assert.ok(samples.equals(expected), 'the example speaks the text it sends');
      // An example that writes a WAV file writes exactly that audio behind a valid header.
      for (const file of flow.filter((n) => n.type === 'file')) {
        const path = join(sampleDir, `${file.id}.wav`);
        await waitFor(() => existsSync(path) && readFileSync(path).length === 44 + expected.length, 5000, `${path} written`);
        const wav = readFileSync(path);
        assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
        assert.equal(wav.toString('ascii', 8, 16), 'WAVEfmt ');
        assert.deepEqual([wav.readUInt16LE(20), wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt16LE(34)], [1, 1, sampleRate, 16]);
        assert.equal(wav.readUInt32LE(28), sampleRate * 2, 'byte rate');
        assert.equal(wav.toString('ascii', 36, 40), 'data');
        assert.equal(wav.readUInt32LE(40), expected.length);
        assert.equal(wav.readUInt32LE(4), 36 + expected.length);
        assert.ok(wav.subarray(44).equals(expected), 'the samples after the header');
      }
    });
  }
});

describe('example: a smart-home alert interrupts a long announcement', () => {
  const FILE = 'cosyvoice-stream smart-home alert interrupts an announcement.json';
  let sim: DashScopeSimulator;
  before(async () => {
    // Audio streams at real-time pace here, so the briefing is still speaking when the alert fires.
    sim = await DashScopeSimulator.start({ realTimeFactor: 1 });
  });
  after(async () => {
    await sim.close();
  });
  freshServerEachTest();

  it('the alert cuts the briefing short and is spoken whole, marked to cut in at the speaker', async () => {
    const flow = JSON.parse(readFileSync(join(EXAMPLES, FILE), 'utf8')) as FlowNode[];
    const deployed: TestFlows = flow.map((n) => {
      if (n.type === 'tts-config') return { ...n, region: 'custom', endpoint: sim.baseUrl };
      if (OBSERVED.has(n.type)) return { id: n.id, type: 'helper', z: n.z };
      return n;
    });
    await helper.load([...ourTypes.map(builtNode), ...core], deployed, { 'dashscope-tts-config': { apiKey: 'sk-test-key' } });
    const speaker = helper.getNode('al-example-speaker');
    type Chunk = AudioMsg & { topic: string; interrupted?: boolean; priority?: boolean };
    const chunks = collect<Chunk>(speaker);
    const briefing = flow.find((n) => n.id === 'al-example-briefing') as FlowNode;
    const alert = flow.find((n) => n.id === 'al-example-alert') as FlowNode;
    const inject = (id: string): void => (helper.getNode(id) as Node & { receive(msg: object): void }).receive({});

    inject(briefing.id);
    await waitFor(() => chunks.some((c) => c.topic === 'briefing' && c.payload.length > 0), 5000, 'the briefing speaking');
    inject(alert.id);
    await waitFor(() => chunks.some((c) => c.topic === 'alarm' && c.parts?.count !== undefined), 10000, 'the whole alert');

    const briefed = chunks.filter((c) => c.topic === 'briefing');
    const end = briefed.at(-1) as Chunk;
    assert.equal(end.interrupted, true, 'the briefing ends with an interrupted end marker');
    const full = expectedAudio({ text: briefing.payload as string, voice: 'longanyang', sampleRate: 24000, service: 'cosyvoice' });
    assert.ok(Buffer.concat(briefed.map((c) => c.payload)).length < full.length, 'the briefing was cut short');
    const alerted = chunks.filter((c) => c.topic === 'alarm');
    assert.ok(chunks.indexOf(alerted[0] as Chunk) > chunks.indexOf(end), 'the alert follows the end of the briefing');
    assert.ok(alerted.every((c) => c.priority === true), 'every alert chunk asks the speaker to cut in');
    const said = Buffer.concat(alerted.map((c) => c.payload));
    assert.ok(said.equals(expectedAudio({ text: alert.payload as string, voice: 'longanyang', sampleRate: 24000, service: 'cosyvoice' })), 'the alert is spoken whole');
  });
});
