// End to end through a sound server: a real Node-RED whose environment points at a real
// PulseAudio started by the test (test/support/pulse-server.ts), cosyvoice-stream on the DashScope
// simulator feeding a pcm-speaker with backend auto and the default Device. What the server's null
// sink played is recorded from its monitor with parec and compared with the service's audio,
// sample by sample.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PcmFormat } from '../../src/audio/pcm-format';
import { ChimeLibrary } from '../../src/audio/chime';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { ANNOUNCE_DESCRIPTION, OTHER_DESCRIPTION, PulseServer, alive, type Recording } from '../support/pulse-server';
import { requireSystem } from '../support/system-deps';
import { NodeRedProcess, until } from './node-red-process';

const KEY = 'sk-test-key';
const VOICE = 'longanyang';
const F24: PcmFormat = { sampleRate: 24000, channels: 1, bitDepth: 16 };

type FlowNode = Record<string, unknown> & { id: string; type: string };

interface Finished {
  finishedAt: number;
  topic?: string;
  payload: { id: string; durationMs: number; interrupted: boolean; backend?: string };
}

/**
 * (Flow nodes have x and y: Node-RED takes a node without them for a config node.)
 * inject (text, and msg properties) → cosyvoice-stream (simulator) → pcm-speaker (auto, Device '')
 * → a function stamping when "finished" left the speaker → debug; the speaker's "started" output
 * → debug.
 */
function flow(baseUrl: string, speaker: Record<string, unknown>, injects: { id: string; text: string; props?: { p: string; v: string; vt: string }[] }[]): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'pulse' },
    { id: 'cfg', type: 'tts-config', name: '', region: 'custom', endpoint: baseUrl, workspace: '', keepWarm: false, credentials: { apiKey: KEY } },
    ...injects.map(
      (i): FlowNode => ({
        id: i.id,
        type: 'inject',
        z: 'tab',
        props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }, ...(i.props ?? [])],
        topic: i.id,
        payload: i.text,
        payloadType: 'str',
        repeat: '',
        once: false,
        x: 100,
        y: 100,
        wires: [['tts']],
      }),
    ),
    { id: 'tts', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: VOICE, format: 'pcm', sampleRate: 24000, input: 'utterance', cache: false, fallback: false, x: 300, y: 100, wires: [['speaker'], []] },
    { id: 'speaker', type: 'pcm-speaker', z: 'tab', device: '', backend: 'auto', volume: 100, prebufferMs: 200, queue: 'queue', stallTimeout: 5, ...speaker, x: 500, y: 100, wires: [['stamp'], ['started']] },
    { id: 'stamp', type: 'function', z: 'tab', func: 'msg.finishedAt = Date.now();\nreturn msg;', outputs: 1, x: 700, y: 100, wires: [['finished']] },
    { id: 'finished', type: 'debug', z: 'tab', active: true, tosidebar: true, console: false, complete: 'true', targetType: 'full', x: 900, y: 100, wires: [] },
    { id: 'started', type: 'debug', z: 'tab', active: true, tosidebar: true, console: false, complete: 'true', targetType: 'full', x: 700, y: 160, wires: [] },
  ];
}

function samples(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}

/** The sample offset in `heard` where `want` starts, each sample within `tolerance`; -1 if nowhere. */
function findSamples(heard: Int16Array, want: Int16Array, from = 0, tolerance = 0): number {
  const probe = Math.min(want.length, 480);
  outer: for (let at = from; at + want.length <= heard.length; at++) {
    for (let i = 0; i < probe; i++) if (Math.abs((heard[at + i] as number) - (want[i] as number)) > tolerance) continue outer;
    for (let i = probe; i < want.length; i++) if (Math.abs((heard[at + i] as number) - (want[i] as number)) > tolerance) continue outer;
    return at;
  }
  return -1;
}

/** For a failure message: where the start of `want` is heard and where the match ends. */
function mismatch(heard: Int16Array, want: Int16Array): string {
  const head = want.subarray(0, 240);
  const at = findSamples(heard, head);
  if (at < 0) return 'its first 10 ms are heard nowhere';
  let n = 0;
  while (n < want.length && heard[at + n] === want[n]) n++;
  const skip = n < want.length ? findSamples(heard, want.subarray(n, n + 240), at + n) : -1;
  return `heard from sample ${at}, same for ${n} of ${want.length} samples; then heard ${Array.from(heard.subarray(at + n, at + n + 6)).join(',')} for ${Array.from(want.subarray(n, n + 6)).join(',')}; the rest resumes ${skip < 0 ? 'nowhere' : `${skip - at - n} samples later`}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe('end to end: pcm-speaker through a real PulseAudio server', function () {
  requireSystem('pulseaudio');
  this.timeout(60_000);
  let pulse: PulseServer;
  let sim: DashScopeSimulator;
  let red: NodeRedProcess;

  before(async function () {
    this.timeout(60_000);
    [pulse, sim] = await Promise.all([PulseServer.start(), DashScopeSimulator.start()]);
    red = await NodeRedProcess.start({ ...pulse.env, DASHSCOPE_API_KEY: '' });
  });

  after(async function () {
    this.timeout(30_000);
    await red?.stop();
    await sim?.close();
    const pids = pulse?.pids ?? [];
    await pulse?.stop();
    assert.deepEqual(pids.filter(alive), [], 'no process of the test server is left');
  });

  const finishedMessages = (since: number): Finished[] => red.debug.slice(since).filter((d) => d.id === 'finished').map((d) => JSON.parse(d.msg) as Finished);

  /** Presses `inject` and waits for its "finished" message. */
  async function play(inject: string): Promise<Finished> {
    const since = red.debug.length;
    await red.inject(inject);
    return until(`"finished" of ${inject}`, 20_000, () => finishedMessages(since).find((m) => m.topic === inject));
  }

  it('the devices endpoint lists the sinks of the server after "default", before the ALSA cards', async () => {
    const res = await red.get('/pcm-speaker/devices');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { devices: { name: string; label: string; more: boolean; server?: true }[]; server: unknown };
    assert.deepEqual(body.server, { reachable: true });
    assert.deepEqual(body.devices.slice(0, 3), [
      { name: 'default', label: 'Default output', more: false },
      { name: 'pulse:announce', label: ANNOUNCE_DESCRIPTION, more: false, server: true },
      { name: 'pulse:other', label: OTHER_DESCRIPTION, more: false, server: true },
    ]);
    assert.ok(body.devices.slice(3).every((d) => d.server === undefined), 'only the sinks are server entries');
  });

  it('a Node-RED that reaches the server but has no pacat on its PATH: no sinks, reason noPacat, and the detail for the tooltip', async () => {
    // Node-RED is started by its absolute path: a PATH with nothing on it is a machine without pulseaudio-utils.
    const emptyBin = mkdtempSync(join(tmpdir(), 'no-pacat-'));
    const bare = await NodeRedProcess.start({ ...pulse.env, DASHSCOPE_API_KEY: '', PATH: emptyBin });
    try {
      const res = await bare.get('/pcm-speaker/devices');
      assert.equal(res.status, 200);
      const body = (await res.json()) as { devices: { name: string; server?: true }[]; server: unknown };
      assert.deepEqual(body.server, { reachable: true, reason: 'noPacat', error: 'pacat not found: install pulseaudio-utils to play through the sound server' });
      assert.deepEqual(body.devices.filter((d) => d.server), [], 'no sinks listed');
      assert.equal(body.devices[0]?.name, 'default');
    } finally {
      await bare.stop();
      rmSync(emptyBin, { recursive: true, force: true });
    }
  });

  it('auto with the default Device plays through the server: exactly the service audio, the stream open while playing and closed after keep-open', async () => {
    const text = 'The washing machine has finished.';
    await red.deploy(flow(sim.baseUrl, { keepOpen: 1.5 }, [{ id: 'plain', text }]));
    await until('the speaker to be ready', 10_000, () => red.lastStatus('speaker') === 'ready · pulse');
    const expected = samples(expectedAudio({ text, voice: VOICE, sampleRate: 24000 }));
    const recording = await pulse.record();
    const since = red.debug.length;
    await red.inject('plain');
    await until('playback', 5_000, () => red.statusTexts('speaker').includes('playing · pulse'));
    assert.equal((await pulse.sinkInputs()).length, 1, 'one stream on the server while it plays');
    const finished = await until('"finished"', 20_000, () => finishedMessages(since)[0]);
    assert.equal(finished.payload.backend, 'pulse');
    assert.equal(finished.payload.interrupted, false);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await pulse.sinkInputs()).length, 1, 'kept open for the next announcement');
    await until('the stream to close after keep-open', 3_000, async () => (await pulse.sinkInputs()).length === 0);
    const heard = samples(await recording.stop());
    const at = findSamples(heard, expected);
    assert.ok(at >= 0, `the recording holds the service audio exactly: ${mismatch(heard, expected)}`);
    assert.ok(heard.subarray(0, at).every((s) => s === 0) && heard.subarray(at + expected.length).every((s) => s === 0), 'and nothing else');
    assert.equal(red.lastStatus('speaker'), 'ready · pulse');
  });

  it('msg.speakerVolume 50 halves that utterance only, sample by sample', async () => {
    const quiet = 'Quiet please.';
    const loud = 'Loud again.';
    await red.deploy(
      flow(sim.baseUrl, { keepOpen: 0 }, [
        { id: 'quiet', text: quiet, props: [{ p: 'speakerVolume', v: '50', vt: 'num' }] },
        { id: 'loud', text: loud },
      ]),
    );
    await until('the speaker to be ready', 10_000, () => red.lastStatus('speaker') === 'ready · pulse');
    const recording = await pulse.record();
    await play('quiet');
    await play('loud');
    await new Promise((r) => setTimeout(r, 200));
    const heard = samples(await recording.stop());
    const full = samples(expectedAudio({ text: quiet, voice: VOICE, sampleRate: 24000 }));
    const half = full.map((s) => Math.trunc(s / 2));
    assert.ok(full.some((s) => Math.abs(s) >= 4), 'the audio is loud enough for halving to show');
    const quietAt = findSamples(heard, half);
    assert.ok(quietAt >= 0, `the first utterance is heard at half amplitude, every sample: ${mismatch(heard, Int16Array.from(half))}`);
    assert.equal(findSamples(heard, full), -1, 'and never at full amplitude');
    assert.ok(findSamples(heard, samples(expectedAudio({ text: loud, voice: VOICE, sampleRate: 24000 })), quietAt + half.length) >= 0, 'the next one at full amplitude');
  });

  it('a chime, then the speech with no gap and no click at the join', async () => {
    const text = 'Someone is at the door.';
    await red.deploy(flow(sim.baseUrl, { keepOpen: 0, chime: 'ding' }, [{ id: 'door', text }]));
    await until('the speaker to be ready', 10_000, () => red.lastStatus('speaker') === 'ready · pulse');
    const recording = await pulse.record();
    const since = red.debug.length;
    await play('door');
    const heard = samples(await recording.stop());
    const chime = samples(new ChimeLibrary().load('ding').pcmFor(F24));
    const speech = samples(expectedAudio({ text, voice: VOICE, sampleRate: 24000 }));
    const chimeAt = findSamples(heard, chime);
    assert.ok(chimeAt >= 0, `the chime is heard exactly: ${mismatch(heard, chime)}`);
    const speechAt = findSamples(heard, speech, chimeAt);
    assert.equal(speechAt, chimeAt + chime.length, 'the speech starts on the sample after the chime: no gap');
    // No click: the step across the join is no bigger than the steps either side of it.
    const step = (i: number): number => Math.abs((heard[i] as number) - (heard[i - 1] as number));
    const around = Array.from({ length: 120 }, (_, k) => speechAt - 120 + k).filter((i) => i !== speechAt).map(step);
    const after = Array.from({ length: 120 }, (_, k) => speechAt + 1 + k).map(step);
    assert.ok(step(speechAt) <= Math.max(...around, ...after), `step ${step(speechAt)} at the join; at most ${Math.max(...around, ...after)} within 5 ms of it`);
    const started = red.debug.slice(since).find((d) => d.id === 'started');
    assert.ok(started, 'the started event came');
    const payload = (JSON.parse(started.msg) as { payload: { event: string; backend: string; chime?: { name: string } } }).payload;
    assert.deepEqual([payload.event, payload.backend, payload.chime?.name], ['started', 'pulse', 'ding']);
  });

  it(`measures how late "finished" comes after the last sample was heard`, async function () {
    const text = 'Dinner is ready.';
    await red.deploy(flow(sim.baseUrl, { keepOpen: 2 }, [{ id: 'dinner', text }]));
    await until('the speaker to be ready', 10_000, () => red.lastStatus('speaker') === 'ready · pulse');
    const expected = samples(expectedAudio({ text, voice: VOICE, sampleRate: 24000 }));
    const lateness: number[] = [];
    for (let i = 0; i < 5; i++) {
      const recording: Recording = await pulse.record();
      const finished = await play('dinner');
      await new Promise((r) => setTimeout(r, 300));
      const heard = samples(await recording.stop());
      const at = findSamples(heard, expected);
      assert.ok(at >= 0, `run ${i}: the audio was heard exactly: ${mismatch(heard, expected)}`);
      const lastSampleAt = recording.receivedAt((at + expected.length) * 2 - 1) as number;
      lateness.push(finished.finishedAt - lastSampleAt);
    }
    const m = median(lateness);
    // parec delivers what it records every ~10 ms (its --latency-msec), so "heard" is up to that late itself.
    console.log(`      "finished" after the last recorded sample: median ${m} ms (runs: ${lateness.join(', ')} ms)`);
    assert.ok(m > -150 && m < 300, `median ${m} ms`);
  });
});
