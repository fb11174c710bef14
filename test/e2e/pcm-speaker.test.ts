// End to end: a real Node-RED with this package, the shipped example flows deployed through the
// admin API, tts-config pointed at the DashScope simulator running in this process, the inject
// button pressed, and the real speaker addon playing into the test ALSA file device. The bytes in
// the capture file must be the simulator's audio for that text, exactly.
import { ALSA_NO_DEFAULT_CONFIG, ALSA_TEST_CONFIG, readCapture } from '../alsa/env';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHIME_NAMES, ChimeLibrary } from '../../src/audio/chime';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { requireSystem } from '../support/system-deps';
import { NodeRedProcess, ROOT, until } from './node-red-process';

const KEY = 'sk-test-key';

type FlowNode = Record<string, unknown> & { id: string; type: string };

function example(file: string): FlowNode[] {
  return JSON.parse(readFileSync(join(ROOT, 'examples', file), 'utf8')) as FlowNode[];
}

/** An example as a user deploys it into the demo: its nodes name the service node `dashscope-tts-config`, here on the simulator with the key as a credential. */
function withSimulator(flows: FlowNode[], baseUrl: string): FlowNode[] {
  return [...flows, { id: 'dashscope-tts-config', type: 'tts-config', name: '', region: 'custom', endpoint: baseUrl, workspace: '', keepWarm: false, credentials: { apiKey: KEY } }];
}

function nodeOfType(flows: FlowNode[], type: string): FlowNode {
  const node = flows.find((n) => n.type === type);
  assert.ok(node, `the example has no ${type} node`);
  return node;
}

/** The pcm-speaker node the example's synthesis node feeds from its audio output. */
function speakerOf(flows: FlowNode[], synthesisType: string): FlowNode {
  const synth = nodeOfType(flows, synthesisType);
  const audioWires = (synth.wires as string[][])[0] ?? [];
  const speaker = flows.find((n) => n.type === 'pcm-speaker' && audioWires.includes(n.id));
  assert.ok(speaker, `${synthesisType}'s output 1 is not wired to a pcm-speaker`);
  return speaker;
}

describe('end to end: example flows in a real Node-RED, audio captured from ALSA', function () {
  requireSystem('speaker', 'aplay');
  this.timeout(30_000);
  let sim: DashScopeSimulator;
  let red: NodeRedProcess;
  let broken: NodeRedProcess;
  let dir: string;
  let capture: string;

  before(async function () {
    this.timeout(60_000);
    sim = await DashScopeSimulator.start();
    dir = mkdtempSync(join(tmpdir(), 'pcm-speaker-e2e-capture-'));
    capture = join(dir, 'capture.raw');
    const env = { ...process.env, DASHSCOPE_API_KEY: '' };
    // Both at once: a machine with the test sound card, and one without a usable default device.
    [red, broken] = await Promise.all([
      NodeRedProcess.start({ ...env, ALSA_CONFIG_PATH: ALSA_TEST_CONFIG, CAPTURE_FILE: capture }),
      NodeRedProcess.start({ ...env, ALSA_CONFIG_PATH: ALSA_NO_DEFAULT_CONFIG, CAPTURE_FILE: join(dir, 'never.raw') }),
    ]);
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all([red?.stop(), broken?.stop()]);
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Node-RED loads pcm-speaker from the package, and the editor can list the ALSA devices', async () => {
    const sets = (await (await red.get('/nodes')).json()) as { id: string; types: string[]; enabled: boolean; err?: string }[];
    const set = sets.find((s) => s.id.endsWith('/pcm-speaker'));
    assert.ok(set, `no pcm-speaker node set in ${sets.map((s) => s.id).join(', ')}`);
    assert.deepEqual([set.types, set.enabled, set.err], [['pcm-speaker'], true, undefined]);
    const editor = await (await fetch(`http://127.0.0.1:${red.port}/nodes`, { headers: { Accept: 'text/html' } })).text();
    assert.match(editor, /RED\.nodes\.registerType\('pcm-speaker', \{/);
    const devices = (await (await red.get('/pcm-speaker/devices')).json()) as { devices: { name: string }[] };
    assert.deepEqual(
      devices.devices.map((d) => d.name),
      ['default', 'capture', 'null'],
    );
  });

  it('cosyvoice-stream example: the speaker plays exactly the synthesized audio, and reports it when heard', async () => {
    const flows = withSimulator(example('cosyvoice tts announcement.json'), sim.baseUrl);
    const speaker = speakerOf(flows, 'cosyvoice-stream');
    const inject = flows.find((n) => n.id === 'cv-example-inject') as FlowNode;
    const voice = nodeOfType(flows, 'cosyvoice-stream').voice as string;
    await red.deploy(flows);
    await until('the speaker to be ready', 10_000, () => red.lastStatus(speaker.id) === 'ready · speaker');

    const expected = expectedAudio({ text: inject.payload as string, voice, sampleRate: 24000 });
    const durationMs = (expected.length / 2 / 24000) * 1000;
    const pressed = Date.now();
    await red.inject(inject.id);
    await until('playback', 5_000, () => red.statusTexts(speaker.id).includes('playing · speaker'));
    await until('the end of playback', durationMs + 5_000, () => red.lastStatus(speaker.id) === 'ready · speaker');
    const heardAfter = Date.now() - pressed;
    assert.ok(heardAfter >= durationMs - 50, `reported finished after ${heardAfter} ms; the audio lasts ${durationMs} ms`);

    // Replacing the flow closes the device, which flushes the ALSA file plugin's buffer.
    await red.deploy([]);
    const captured = await until('the capture', 5_000, () => {
      const bytes = readCapture(capture);
      return bytes.length >= expected.length && bytes;
    });
    assert.equal(captured.length, expected.length);
    assert.ok(captured.equals(expected), 'captured bytes differ from the service audio');
  });

  it('qwen-realtime example (a streamed LLM answer): the speaker plays exactly the synthesized audio', async () => {
    const flows = withSimulator(example('qwen tts read an LLM stream.json'), sim.baseUrl);
    const speaker = speakerOf(flows, 'qwen-realtime');
    const qwen = nodeOfType(flows, 'qwen-realtime');
    const events = flows.find((n) => n.type === 'debug' && ((qwen.wires as string[][])[1] ?? []).includes(n.id)) as FlowNode;
    const inject = nodeOfType(flows, 'inject');
    // The answer the example's "fake LLM" function streams, token by token.
    const func = nodeOfType(flows, 'function').func as string;
    const answer = (/const answer = ([^;]+);/.exec(func)?.[1] ?? '').match(/'[^']*'/g)?.map((s) => s.slice(1, -1)).join('') ?? '';
    assert.match(answer, /^Sure! /);

    await red.deploy(flows);
    await until('the speaker to be ready', 10_000, () => red.lastStatus(speaker.id) === 'ready · speaker');
    const debugBefore = red.debug.length;
    await red.inject(inject.id);
    // The synthesis node's summary (output 2) follows the last audio chunk (output 1).
    const summary = await until('the utterance summary', 10_000, () => red.debug.slice(debugBefore).find((d) => d.id === events.id));
    assert.equal((JSON.parse(summary.msg) as { text: string }).text, answer, 'the whole answer was spoken as one utterance');
    await until('playback', 2_000, () => red.statusTexts(speaker.id).includes('playing · speaker'));
    // The speaker writes as chunks arrive; give it a moment past the last one, then close the device.
    await new Promise((r) => setTimeout(r, 300));
    await red.deploy([]);
    const expected = expectedAudio({ text: answer, voice: qwen.voice as string, sampleRate: 24000, service: 'qwen' });
    const captured = await until('the capture', 5_000, () => {
      const bytes = readCapture(capture);
      return bytes.length >= expected.length && bytes;
    });
    assert.equal(captured.length, expected.length);
    assert.ok(captured.equals(expected), 'captured bytes differ from the service audio');
  });

  it('the doorbell example (a built-in chime, a msg.ttl): a press is announced after its ding-dong, gap-free', async () => {
    const flows = withSimulator(example('pcm speaker Raspberry Pi doorbell announcement.json'), sim.baseUrl);
    const speaker = speakerOf(flows, 'cosyvoice-stream');
    const tts = nodeOfType(flows, 'cosyvoice-stream');
    const rules = nodeOfType(flows, 'change').rules as { p: string; to: string }[];
    const text = rules.find((r) => r.p === 'payload')?.to as string;
    assert.ok(rules.some((r) => r.p === 'ttl' && Number(r.to) > 0), 'the example sets msg.ttl');
    assert.ok((CHIME_NAMES as readonly string[]).includes(speaker.chime as string), `the example's chime "${String(speaker.chime)}" is a built-in one`);
    const done = flows.find((n) => n.type === 'debug' && ((speaker.wires as string[][])[0] ?? []).includes(n.id)) as FlowNode;
    await red.deploy(flows);
    await until('the speaker to be ready', 10_000, () => red.lastStatus(speaker.id) === 'ready · speaker');
    const debugBefore = red.debug.length;
    await red.inject(nodeOfType(flows, 'inject').id);
    const finished = await until('the announcement to be heard', 15_000, () => red.debug.slice(debugBefore).find((d) => d.id === done.id));
    const report = JSON.parse(finished.msg) as { chimeMs?: number; interrupted: boolean };
    const chime = new ChimeLibrary().load(speaker.chime as string).pcmFor({ sampleRate: tts.sampleRate as number, channels: 1, bitDepth: 16 });
    assert.equal(report.interrupted, false);
    assert.equal(report.chimeMs, Math.round((chime.length / 2 / 24000) * 1000));
    await red.deploy([]);
    const expected = Buffer.concat([chime, expectedAudio({ text, voice: tts.voice as string, sampleRate: 24000 })]);
    const captured = await until('the capture', 5_000, () => {
      const bytes = readCapture(capture);
      return bytes.length >= expected.length && bytes;
    });
    assert.equal(captured.length, expected.length);
    assert.ok(captured.equals(expected), 'captured bytes are not the chime, then the speech');
  });

  it('no usable default ALSA device: Node-RED keeps running and the node says what is wrong', async () => {
    const flows = withSimulator(example('cosyvoice tts announcement.json'), sim.baseUrl);
    const speaker = speakerOf(flows, 'cosyvoice-stream');
    await broken.deploy(flows);
    // Loading the speaker addon here would abort the process; the node probes in a child first.
    await until('the probe verdict', 10_000, () => broken.lastStatus(speaker.id) === 'no usable default ALSA device: choose a Device');
    await broken.inject('cv-example-inject');
    const failed = await until('the playback failure', 10_000, () => broken.statusTexts(speaker.id).find((t) => /audio open error/.test(t)));
    assert.match(failed, /aplay could not play on ALSA device "default": audio open error/);
    assert.ok(broken.running, 'Node-RED is still running');
    assert.equal((await broken.get('/flows')).status, 200, 'and still answers');
    assert.doesNotMatch(broken.output, /Assertion .* failed|Aborted/);
    assert.match(broken.output, /speaker addon not used \(no usable default ALSA device\)/);
  });
});
