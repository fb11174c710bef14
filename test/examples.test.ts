import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessageInFlow } from 'node-red';
import { DashScopeSimulator } from './simulator';
import { expectedAudio } from './simulator/audio';
import { waitFor } from './support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from './support/node-red';
import { CONFIG_ID, SAMPLE_FILE } from '../scripts/demo-flow.mjs';
import { inspectSample } from '../src/voices/sample';

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

/**
 * The service node an example gets where it is imported (the demo's, which has the examples' id):
 * here it points at the simulator. The examples carry none, so importing one never conflicts.
 */
function serviceNode(baseUrl: string): TestFlows[number] {
  return { id: CONFIG_ID, type: 'tts-config', name: '', region: 'custom', endpoint: baseUrl, workspace: '', keepWarm: false };
}

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
  before(async () => {
    sim = await DashScopeSimulator.start();
    // Where a file an example writes goes instead.
    sampleDir = mkdtempSync(join(tmpdir(), 'example-output-'));
  });
  after(async () => {
    await sim.close();
    rmSync(sampleDir, { recursive: true, force: true });
  });
  // The voice clone example reads the recording the package ships, from the folder settings.js
  // names (npm start copies it there; here the examples folder itself is that folder).
  freshServerEachTest({ ownSettings: true, before: () => helper.settings({ ttsVoiceSampleFolder: EXAMPLES } as Record<string, unknown>) });

  it('there is an example for every synthesis node', () => {
    const used = new Set(files.flatMap((f) => (JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[]).map((n) => n.type)));
    for (const type of ['cosyvoice-stream', 'qwen-realtime']) assert.ok(used.has(type), `no example uses ${type}`);
  });

  it('there is an example for every node a user drops on a flow (the Flow Library asks for it)', () => {
    const used = new Set(files.flatMap((f) => (JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[]).map((n) => n.type)));
    for (const type of ourTypes.filter((t) => t !== 'tts-config')) assert.ok(used.has(type), `no example uses ${type}`);
  });

  it('no example carries a service node; every node that needs one names the shared id (the demo\'s), so importing never conflicts', () => {
    let referring = 0;
    for (const f of files) {
      const flow = JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[];
      assert.deepEqual(flow.filter((n) => n.type === 'tts-config').map((n) => n.id), [], f);
      for (const n of flow.filter((n) => ourTypes.includes(n.type) && n.type !== 'pcm-speaker')) {
        assert.equal(n.config, CONFIG_ID, `${f}: ${n.type} ${n.id}`);
        referring += 1;
      }
    }
    assert.ok(referring >= files.length, 'every example has nodes that use the service');
  });

  it('the voice clone example clones the recording the package ships, by its name in ttsVoiceSampleFolder', () => {
    const file = files.find((f) => f.startsWith('voice clone '));
    assert.ok(file, 'a voice clone example');
    const flow = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[];
    const clone = flow.find((n) => n.type === 'voice-clone' && n.action === 'create') as FlowNode;
    const inject = flow.find((n) => n.type === 'inject' && (n.wires ?? []).flat().includes(clone.id)) as FlowNode;
    assert.equal(inject.payload, SAMPLE_FILE);
    assert.doesNotMatch(JSON.stringify(flow), /\/home\/pi\/my-voice/);
    // A real recording both families accept (rate, length, size), not a stand-in.
    const bytes = readFileSync(join(EXAMPLES, SAMPLE_FILE));
    for (const family of ['cosyvoice', 'qwen'] as const) {
      const { wav } = inspectSample(bytes, family);
      assert.ok(wav && wav.durationSeconds >= 10 && wav.durationSeconds <= 13, `${family}: ${wav?.durationSeconds} s`);
    }
    assert.ok(bytes.length < 700_000, `${bytes.length} bytes`);
    assert.match(JSON.stringify(flow), /MIT/, 'a comment says under which licence it comes');
  });

  it('each example\'s tab is named as its entry in Import › Examples, which starts with the palette name of a node it shows', () => {
    const paletteNames = ['cosyvoice tts', 'qwen tts', 'voice clone', 'voice design', 'pcm speaker'];
    for (const f of files) {
      const flow = JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[];
      const tabs = flow.filter((n) => n.type === 'tab');
      assert.equal(tabs.length, 1, f);
      assert.equal(tabs[0]?.label, f.replace(/\.json$/, ''), f);
      assert.ok(paletteNames.some((name) => f.startsWith(`${name} `)), f);
    }
  });

  it('there is an example for each voice node', () => {
    const used = new Set(files.flatMap((f) => (JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as FlowNode[]).map((n) => n.type)));
    for (const type of VOICE_MAKERS) assert.ok(used.has(type), `no example uses ${type}`);
  });

  for (const file of files) {
    it(`"${file}" deploys and speaks against the simulator`, async () => {
      const flow = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[];
      for (const n of flow) if (n.type !== 'tab') assert.ok(n.z, `${n.type} ${n.id} is not on a tab`);
      const deployed: TestFlows = [
        ...flow.map((n) => {
          if (OBSERVED.has(n.type)) return { id: n.id, type: 'helper', z: n.z };
          // A file an example writes goes to this test's own directory instead.
          if (n.type === 'file') return { ...n, filename: join(sampleDir, `${n.id}.wav`) };
          return n;
        }),
        serviceNode(sim.baseUrl),
      ];
      await helper.load([...ourTypes.map(builtNode), ...core], deployed, { [CONFIG_ID]: { apiKey: 'sk-test-key' } });

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
      const fed = new Set((trigger.wires ?? []).flat());
      const maker = flow.find((n) => VOICE_MAKERS.includes(n.type) && fed.has(n.id));
      // Text that a change node sets in front of the synthesis node (a doorbell press, a new voice) is what is said.
      const say = flow.find((n) => n.type === 'change' && (n.wires ?? []).flat().includes(synth.id));
      if (say) assert.equal(text, (say.rules as { to: string }[])[0]?.to, 'the text the change node sets');
      if (maker) {
        assert.ok(say, 'a change node puts the text to say in front of the synthesis node');
        const made = sim.voices.get(voice);
        assert.ok(made, 'it speaks with the voice the example made');
        assert.equal(made.targetModel, synth.model, 'the synthesis node uses the model the voice was made for');
        // A clone is made from the recording the package ships, read from ttsVoiceSampleFolder.
        if (maker.type === 'voice-clone') {
          const shipped = readFileSync(join(EXAMPLES, SAMPLE_FILE));
          assert.ok(sim.uploads.objects().some((o) => o.bytes.equals(shipped)), 'the shipped recording was uploaded');
        }
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
  const FILE = 'cosyvoice tts smart-home alert interrupts an announcement.json';
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
    const deployed: TestFlows = [...flow.map((n) => (OBSERVED.has(n.type) ? { id: n.id, type: 'helper', z: n.z } : n)), serviceNode(sim.baseUrl)];
    await helper.load([...ourTypes.map(builtNode), ...core], deployed, { [CONFIG_ID]: { apiKey: 'sk-test-key' } });
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
