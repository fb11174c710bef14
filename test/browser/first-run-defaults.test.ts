/**
 * The flows a user first meets (every example, and the tab `npm start` writes, demo and live) set
 * each property of the package's nodes to what a new node of that type gets in the dialog, unless
 * the flow sets it on purpose: the list below names those choices, flow by flow. A node someone
 * drops from the palette then behaves like the one in the example it copied.
 *
 * The defaults are read live from the editor (`RED.nodes.getType(type).defaults`), so a change of
 * a dialog default makes this test name every shipped flow that still has the old value.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { CONFIG_ID, DEMO_IDS, demoFlow, type FlowNode } from '../../scripts/demo-flow.mjs';
import { ROOT } from '../e2e/node-red-process';
import { requireSystem } from '../support/system-deps';
import { editorSession, js } from './editor-session';

const OURS = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes);
/** What every node has beside its type's defaults: identity, place and wiring. */
const NOT_SETTINGS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires']);

const DEMO = 'npm start: the demo flow (simulator)';
const LIVE = 'npm start: the live flow (DASHSCOPE_API_KEY)';

/** Per flow, per node id: the properties that flow sets on purpose (each must differ from the default). */
const DELIBERATE: Record<string, Record<string, string[]>> = {
  // The simulator's address, from the environment at run time; named so that it is not taken for the real service.
  [DEMO]: { [CONFIG_ID]: ['name', 'region', 'endpoint'] },
  [LIVE]: {},
  'cosyvoice tts announcement': {},
  'cosyvoice tts smart-home alert interrupts an announcement': {},
  'cosyvoice tts synthesize to a WAV file': {},
  // A doorbell pressed again while it speaks is not said twice, and it rings before it speaks.
  'pcm speaker Raspberry Pi doorbell announcement': { 'db-example-speaker': ['queue', 'chime'] },
  'pcm speaker announcements': {},
  // The answer arrives token by token and is spoken as it streams in; it is English.
  'qwen tts read an LLM stream': { 'qw-example-tts': ['input', 'languageType'] },
  'voice clone from a recording, then speak with it': {
    // The sample is English; the voice is made for the model the cosyvoice tts node speaks with msg.voice.
    'vc-example-clone': ['languageHints'],
    'vc-example-tts': ['name', 'voice'],
    'vc-example-manage': ['name', 'action'],
  },
  'voice design from a description, hear the preview, then use it': {
    // A Qwen designed voice: family, its model, an English preview, and the synthesis node on that model with msg.voice.
    'vd-example-design': ['family', 'targetModel', 'previewText', 'voiceName', 'language'],
    'vd-example-tts': ['name', 'model', 'voice', 'languageType'],
    'vd-example-manage': ['name', 'family', 'targetModel', 'previewText', 'voiceName', 'action'],
  },
};

type Defaults = Record<string, Record<string, unknown>>;

function shippedFlows(): [string, FlowNode[]][] {
  const examples = readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .map((f): [string, FlowNode[]] => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(ROOT, 'examples', f), 'utf8')) as FlowNode[]]);
  return [[DEMO, demoFlow({ demo: true })], [LIVE, demoFlow({ demo: false, region: 'beijing' })], ...examples];
}

/** Every way the flow's nodes of the package's types differ from a new node, other than its deliberate choices. */
function departures(flow: FlowNode[], defaults: Defaults, chosen: Record<string, string[]>): string[] {
  const found: string[] = [];
  for (const node of flow.filter((n) => OURS.includes(n.type))) {
    const own = defaults[node.type];
    assert.ok(own, `no dialog defaults for ${node.type}`);
    const deliberate = chosen[node.id] ?? [];
    for (const key of Object.keys(own)) {
      const where = `${node.type} ${node.id}: ${key}`;
      if (key === 'config') {
        if (node.config !== CONFIG_ID) found.push(`${where} is ${JSON.stringify(node.config)}, not the shared service node ${CONFIG_ID}`);
      } else if (!(key in node)) {
        found.push(`${where} is missing (a new node has ${JSON.stringify(own[key])})`);
      } else if (deliberate.includes(key)) {
        if (isDeepStrictEqual(node[key], own[key])) found.push(`${where} is listed as a deliberate choice but is the default ${JSON.stringify(own[key])}`);
      } else if (!isDeepStrictEqual(node[key], own[key])) {
        found.push(`${where} is ${JSON.stringify(node[key])}; a new node has ${JSON.stringify(own[key])}`);
      }
    }
    for (const key of Object.keys(node)) if (!NOT_SETTINGS.has(key) && !(key in own)) found.push(`${node.type} ${node.id}: ${key} is not a setting of the dialog`);
    for (const key of deliberate) if (!(key in own)) found.push(`${node.type} ${node.id}: deliberate ${key} is not a setting of the dialog`);
  }
  for (const id of Object.keys(chosen)) if (!flow.some((n) => n.id === id)) found.push(`deliberate choices listed for ${id}, which is not in the flow`);
  return found;
}

describe('shipped flows use the dialog defaults', function () {
  requireSystem('chromium');
  this.timeout(60_000);
  const session = editorSession((sim) => ({ env: { ...process.env, DASHSCOPE_API_KEY: 'sk-offline-demo', DASHSCOPE_SIMULATOR_URL: sim.baseUrl }, flows: demoFlow({ demo: true }) }));
  let defaults: Defaults;
  before(async () => {
    defaults = await js<Defaults>(
      session.page,
      `(${JSON.stringify(OURS)}).reduce(function (all, t) {
        var d = RED.nodes.getType(t).defaults, own = {};
        Object.keys(d).forEach(function (k) { own[k] = d[k].value; });
        all[t] = own;
        return all;
      }, {})`,
    );
  });

  const flows = shippedFlows();
  it('every shipped flow has its list of deliberate choices (and every list a flow)', () => {
    assert.deepEqual(flows.map(([name]) => name).sort(), Object.keys(DELIBERATE).sort());
  });

  for (const [name, flow] of flows) {
    it(`${name}: every setting is the dialog's default, or a deliberate choice`, () => {
      assert.ok(flow.some((n) => OURS.includes(n.type)), 'the flow has nodes of the package');
      assert.deepEqual(departures(flow, defaults, DELIBERATE[name] ?? {}), []);
    });
  }

  it('the check finds a changed setting, a missing one, one that is not the dialog’s, and a deliberate one that is the default', () => {
    const flow = demoFlow({ demo: true }).map((n) => {
      if (n.id === DEMO_IDS.tts) {
        const { voice: _voice, ...rest } = n;
        return { ...rest, model: 'cosyvoice-v2', legacy: 1 };
      }
      return n;
    });
    const found = departures(flow, defaults, { [CONFIG_ID]: ['name', 'region', 'endpoint', 'workspace'] });
    assert.deepEqual(
      found.map((f) => f.replace(/ is .*| a new node .*/, '')),
      [`cosyvoice-stream ${DEMO_IDS.tts}: model`, `cosyvoice-stream ${DEMO_IDS.tts}: voice`, `cosyvoice-stream ${DEMO_IDS.tts}: legacy`, `tts-config ${CONFIG_ID}: workspace`],
      found.join('\n'),
    );
  });
});
