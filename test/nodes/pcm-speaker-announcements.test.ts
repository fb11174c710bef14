// Issue 21, pcm-speaker as Node-RED loads it (the built nodes/pcm-speaker.js), fed by a real
// cosyvoice-stream node talking to the DashScope simulator, playing into the test ALSA file device:
// the chime before an announcement, the lead-in silence, keep-open, the "started" event (output 2),
// msg.speakerVolume and msg.ttl — each checked on what really reached the device.
//
// As in pcm-speaker.test.ts: the ALSA file plugin writes the rest of the audio when the device is
// closed, so a capture is read after the flow is stopped (speaker backend), and every device open
// starts a new capture file: a test that keeps the device open (Keep open) captures all its
// utterances in one file, and one that reopens it (a priority cut-in) captures what followed the reopen.
import { newCaptureFile, readCapture } from '../alsa/env';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import type { Node, NodeMessageInFlow } from 'node-red';
import { ChimeLibrary } from '../../src/audio/chime';
import { wavHeader } from '../../src/audio/resample';
import { CHIME_FILE_REFUSED } from '../../src/nodes/pcm-speaker/announcement-options';
import { resolveSettings } from '../../src/nodes/pcm-speaker/settings';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { childrenNamed } from '../support/child-processes';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, type TestFlows } from '../support/node-red';
import { needing } from '../support/system-deps';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('pcm-speaker'), coreNode('common/25-catch.js')];
const VOICE = 'longanyang';
const FORMAT = { sampleRate: 24000, channels: 1, bitDepth: 16 } as const;
/** 24 kHz mono 16-bit. */
const BYTES_PER_MS = 48;
/** aplay pads its last period with silence: at most 125 ms at 24 kHz mono 16-bit. */
const APLAY_MAX_PADDING_BYTES = 3000 * 2;
const LONG = 'A long, calm, rather unimportant announcement that goes on for a while.';

interface Finished {
  topic?: string;
  speakerVolume?: number;
  payload: { id: string; durationMs: number; bytes: number; interrupted: boolean; expired?: boolean; chimeMs?: number; backend?: string };
}
interface Started {
  topic?: string;
  payload: { event: string; id: string; queueWaitMs: number; firstAudioMs: number; backend: string; chime?: { name: string; durationMs: number }; leadInMs: number };
}
interface Caught {
  topic?: string;
  error?: { message: string; code?: string };
  _msgid?: string;
}
type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type HelperSettings = Parameters<typeof helper.settings>[0];
/** A message as a helper node received it, with when. */
type Timed<T> = T & { at: number };

const audioOf = (text: string): Buffer => expectedAudio({ text, voice: VOICE, sampleRate: 24000, format: 'pcm' });
const chimes = new ChimeLibrary();
const chimeOf = (name: string): Buffer => chimes.load(name).pcmFor(FORMAT);
const silence = (ms: number): Buffer => Buffer.alloc(ms * BYTES_PER_MS);
const halved = (pcm: Buffer): Buffer => {
  const out = Buffer.alloc(pcm.length);
  for (let i = 0; i < pcm.length; i += 2) out.writeInt16LE(Math.trunc((pcm.readInt16LE(i) * 50) / 100), i);
  return out;
};

/** The largest step between neighbouring samples of `pcm` (16-bit). */
function largestStep(pcm: Buffer): number {
  let max = 0;
  for (let i = 2; i < pcm.length; i += 2) max = Math.max(max, Math.abs(pcm.readInt16LE(i) - pcm.readInt16LE(i - 2)));
  return max;
}

/** aplay processes this test process started. */
const aplayChildren = (): number => childrenNamed('aplay').length;

describe('pcm-speaker announcements (issue 21)', function () {
  this.timeout(20000);
  let sim: DashScopeSimulator;
  let capture: string;
  let statuses: string[];
  let finished: Timed<Finished>[];
  let started: Timed<Started>[];
  let caught: Caught[];

  async function start(speaker: Record<string, unknown>, simOptions: Parameters<typeof DashScopeSimulator.start>[0] = {}): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    capture = newCaptureFile();
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      { id: 'tts', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: VOICE, format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['spk'], []] },
      { id: 'tts2', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: VOICE, format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['spk'], []] },
      // The device stays open through a test (Keep open 10 s) unless the test says otherwise: one capture holds all its utterances.
      { id: 'spk', type: 'pcm-speaker', z: 'tab', device: '', backend: 'speaker', volume: 100, prebufferMs: 200, queue: 'queue', keepOpen: 10, wires: [['finished'], ['started']], ...speaker },
      { id: 'finished', type: 'helper', z: 'tab' },
      { id: 'started', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    statuses = [];
    (spk() as unknown as EventEmitter).on('call:status', (call: { args: unknown[] }) => statuses.push((call.args[0] as { text?: string }).text ?? ''));
    finished = [];
    started = [];
    helper.getNode('finished').on('input', (msg: NodeMessageInFlow) => finished.push({ ...(msg as unknown as Finished), at: performance.now() }));
    helper.getNode('started').on('input', (msg: NodeMessageInFlow) => started.push({ ...(msg as unknown as Started), at: performance.now() }));
    caught = collect<Caught>(helper.getNode('caught'));
  }

  /** settings.js pcmSpeakerChimeFolder here: holds door.wav; private.wav lies next to it, outside. */
  let chimeFolder: string;
  let outsideWav: string;
  before(() => {
    const tmp = mkdtempSync(join(tmpdir(), 'pcm-speaker-chimes-'));
    chimeFolder = join(tmp, 'chimes');
    mkdirSync(chimeFolder);
    // 200 ms of a 660 Hz tone, 24 kHz mono 16-bit.
    const tone = Buffer.alloc(4800 * 2);
    for (let i = 0; i < 4800; i++) tone.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 660 * i) / 24000)), i * 2);
    writeFileSync(join(chimeFolder, 'door.wav'), Buffer.concat([wavHeader(24000, tone.length), tone]));
    outsideWav = join(tmp, 'private.wav');
    writeFileSync(outsideWav, Buffer.concat([wavHeader(24000, tone.length), tone]));
    // A node without Keep open would close its device at once (settings.js), so a test that forgot it would show it.
    helper.settings({ pcmSpeakerIdleCloseMs: 0, pcmSpeakerChimeFolder: chimeFolder } as unknown as HelperSettings);
  });
  after(() => {
    helper.settings({});
    rmSync(join(chimeFolder, '..'), { recursive: true, force: true });
  });
  freshServerEachTest({ after: () => sim?.close() });

  const tts = (id = 'tts'): Receiver => helper.getNode(id) as Receiver;
  const spk = (): Receiver => helper.getNode('spk') as Receiver;
  /** What reached the device: stopping the flow closes it, which flushes the capture (speaker backend). */
  const captured = async (): Promise<Buffer> => {
    await helper.unload();
    return readCapture(capture);
  };

  it('chime then speech: lead-in zeros, the chime and the speech exactly, no gap and no step at either join; "started" before "finished"', needing('speaker', async () => {
    await start({ chime: 'ding', leadInMs: 300 });
    const text = 'Door open.';
    const sent = performance.now();
    tts().receive({ payload: text, topic: 'door' });
    await waitFor(() => finished.length === 1, 10000, 'finished');
    const chime = chimeOf('ding');
    const speech = audioOf(text);
    const bytes = await captured();
    const lead = silence(300);
    assert.equal(bytes.length, lead.length + chime.length + speech.length, 'lead-in + chime + speech, nothing more');
    assert.ok(bytes.equals(Buffer.concat([lead, chime, speech])), 'exactly lead-in zeros, then the chime, then the speech');
    // The joins: a step there no larger than the steps inside the chime's last (and the speech's first) millisecond.
    const chimeEnd = lead.length + chime.length;
    const allowed = Math.max(largestStep(chime.subarray(chime.length - BYTES_PER_MS)), largestStep(speech.subarray(0, BYTES_PER_MS)));
    assert.ok(Math.abs(bytes.readInt16LE(chimeEnd) - bytes.readInt16LE(chimeEnd - 2)) <= allowed, 'chime → speech');
    assert.ok(Math.abs(bytes.readInt16LE(lead.length) - bytes.readInt16LE(lead.length - 2)) <= largestStep(chime.subarray(0, BYTES_PER_MS)), 'lead-in → chime');

    const [start1] = started;
    const [done] = finished;
    assert.equal(started.length, 1);
    assert.equal(start1?.topic, 'door', 'the input message travels to output 2');
    assert.equal(start1?.payload.event, 'started');
    assert.equal(start1?.payload.id, done?.payload.id);
    assert.equal(start1?.payload.backend, 'speaker');
    assert.equal(start1?.payload.leadInMs, 300);
    assert.deepEqual(start1?.payload.chime, { name: 'ding', durationMs: chimes.load('ding').durationMs });
    const { queueWaitMs, firstAudioMs } = start1?.payload ?? { queueWaitMs: -1, firstAudioMs: -1 };
    assert.ok(queueWaitMs >= 300, `queue wait ${queueWaitMs} ms covers the lead-in`);
    assert.ok(firstAudioMs >= queueWaitMs, `first audio ${firstAudioMs} ms counts from the request, before the audio arrived`);
    assert.ok(firstAudioMs < performance.now() - sent, 'and not from before the request');
    // Started when its first sample played: the chime and the speech take their time after it.
    const playing = ((chime.length + speech.length) / BYTES_PER_MS);
    assert.ok((done?.at ?? 0) - (start1?.at ?? 0) >= playing - 20, `finished ${((done?.at ?? 0) - (start1?.at ?? 0)).toFixed(0)} ms after started; chime + speech last ${playing} ms`);
    assert.equal(done?.payload.interrupted, false);
    assert.ok(Math.abs((done?.payload.chimeMs ?? -1) - chimes.load('ding').durationMs) < 1, `chimeMs ${done?.payload.chimeMs}`);
    assert.equal(done?.payload.expired, undefined);
  }));

  it('the lead-in comes once per device open: the next utterance while the device is open follows without one', needing('speaker', async () => {
    await start({ leadInMs: 500 });
    tts().receive({ payload: 'One.', topic: 'one' });
    tts().receive({ payload: 'Two.', topic: 'two' });
    await waitFor(() => finished.length === 2, 10000, 'two reports');
    const bytes = await captured();
    assert.ok(bytes.equals(Buffer.concat([silence(500), audioOf('One.'), audioOf('Two.')])), `captured ${bytes.length} bytes`);
    assert.deepEqual(started.map((s) => [s.topic, s.payload.leadInMs, s.payload.chime]), [['one', 500, undefined], ['two', 0, undefined]]);
    assert.ok(started.every((s) => s.payload.queueWaitMs >= 0 && s.payload.firstAudioMs >= 0));
    assert.ok((started[0]?.payload.queueWaitMs ?? 0) >= 500);
    assert.ok(finished.every((f) => f.payload.chimeMs === undefined));
  }));

  it('msg.speakerVolume 50 (set on the message into the speech node) halves that utterance, its chime included; the others play unchanged', needing('speaker', async () => {
    await start({ chime: 'ding' });
    tts().receive({ payload: 'One.', topic: 'one' });
    tts().receive({ payload: 'Two.', topic: 'two', speakerVolume: 50 });
    tts().receive({ payload: 'Three.', topic: 'three' });
    await waitFor(() => finished.length === 3, 10000, 'three reports');
    const chime = chimeOf('ding');
    const expected = Buffer.concat([chime, audioOf('One.'), halved(chime), halved(audioOf('Two.')), chime, audioOf('Three.')]);
    const bytes = await captured();
    assert.equal(bytes.length, expected.length);
    const second = chime.length + audioOf('One.').length;
    for (let i = 0; i < bytes.length; i += 2) {
      if (bytes.readInt16LE(i) !== expected.readInt16LE(i)) assert.fail(`sample ${i / 2} (${i < second ? 'first' : i < second + chime.length + audioOf('Two.').length ? 'second' : 'third'} utterance): ${bytes.readInt16LE(i)}, expected ${expected.readInt16LE(i)}`);
    }
    assert.ok(largestStep(audioOf('Two.')) > 0 && !halved(audioOf('Two.')).equals(audioOf('Two.')), 'halving changes the samples');
    assert.deepEqual(finished.map((f) => [f.topic, f.speakerVolume, f.payload.interrupted]), [['one', undefined, false], ['two', 50, false], ['three', undefined, false]]);
  }));

  it('msg.ttl (set on the message into the speech node) passed while it waited: never played, reported expired with a log line; the next one plays', needing('speaker', async () => {
    await start({});
    const logs: string[] = [];
    (spk() as unknown as EventEmitter).on('call:log', (call: { args: unknown[] }) => logs.push(String(call.args[0])));
    const warnings: string[] = [];
    (spk() as unknown as EventEmitter).on('call:warn', (call: { args: unknown[] }) => warnings.push(String(call.args[0])));
    tts().receive({ payload: LONG, topic: 'long' });
    await waitFor(() => started.length === 1, 10000, 'the long one playing');
    // Another speech node: it synthesizes at once, and the speaker holds it behind the long one for longer than its ttl.
    tts2().receive({ payload: 'Stale news.', topic: 'stale', ttl: 0.5 });
    await waitFor(() => finished.some((f) => f.topic === 'stale'), 5000, 'the stale one reported');
    const stale = finished.find((f) => f.topic === 'stale');
    assert.equal(stale?.payload.expired, true);
    assert.equal(stale?.payload.interrupted, false);
    assert.equal(stale?.payload.durationMs, 0);
    assert.equal(finished[0]?.topic, 'stale', 'reported while the long one still plays, not when the queue reaches it');
    assert.ok(logs.some((l) => l.includes(stale?.payload.id ?? '?') && /expired/.test(l) && /\d+ ms past its ttl/.test(l)), `log: ${logs.join(' | ')}`);
    assert.deepEqual(warnings, [], 'intended behaviour: no warning');
    assert.deepEqual(caught, [], 'not an error');
    tts().receive({ payload: 'Fresh.', topic: 'fresh' });
    await waitFor(() => finished.length === 3, 10000, 'all reported');
    assert.deepEqual(started.map((s) => s.topic), ['long', 'fresh'], 'no "started" for the expired one');
    const bytes = await captured();
    assert.ok(bytes.equals(Buffer.concat([audioOf(LONG), audioOf('Fresh.')])), 'the expired one is nowhere in the capture');
  }));

  it('msg.chime false overrides the node\'s chime; msg.chime names another', needing('speaker', async () => {
    await start({ chime: 'ding' });
    tts().receive({ payload: 'Quiet.', topic: 'none', chime: false });
    tts().receive({ payload: 'Loud.', topic: 'alert', chime: 'alert' });
    await waitFor(() => finished.length === 2, 10000, 'two reports');
    const bytes = await captured();
    assert.ok(bytes.equals(Buffer.concat([audioOf('Quiet.'), chimeOf('alert'), audioOf('Loud.')])), `captured ${bytes.length} bytes`);
    assert.deepEqual(started.map((s) => s.payload.chime?.name), [undefined, 'alert']);
    assert.deepEqual(caught, [], 'false is no mistake: nothing for catch nodes');
    assert.equal(finished[0]?.payload.chimeMs, undefined);
    assert.ok((finished[1]?.payload.chimeMs ?? 0) > 0);
  }));

  it('msg.chime names a file: of pcmSpeakerChimeFolder it plays; a readable WAV outside it is refused with the one error, and nothing of it is on the outputs', needing('speaker', async () => {
    await start({});
    tts().receive({ payload: 'Inside.', topic: 'inside', chime: 'door.wav' });
    tts().receive({ payload: 'Outside.', topic: 'outside', chime: outsideWav });
    await waitFor(() => finished.length === 2 && caught.length === 1, 10000, 'two reports and one error');
    const door = chimes.loadInFolder('door.wav', chimeFolder);
    const bytes = await captured();
    assert.ok(bytes.equals(Buffer.concat([door.pcmFor(FORMAT), audioOf('Inside.'), audioOf('Outside.')])), `captured ${bytes.length} bytes: the folder's chime, then both utterances, the second without one`);
    // (Node-RED puts the error's name in front of its message for catch nodes.)
    assert.deepEqual(caught.map((c) => [c.topic, c.error?.code, c.error?.message]), [['outside', 'ChimeUnavailable', `AudioInputError: ${CHIME_FILE_REFUSED}`]]);
    assert.deepEqual(started.map((s) => [s.topic, s.payload.chime]), [['inside', { name: 'door.wav', durationMs: 200 }], ['outside', undefined]]);
    assert.deepEqual(finished.map((f) => [f.topic, f.payload.chimeMs, f.payload.interrupted]), [['inside', 200, false], ['outside', undefined, false]]);
  }));

  it('a chime file that cannot be loaded shows at deploy; at the utterance catch nodes get ChimeUnavailable and the speech still plays', needing('speaker', async () => {
    await start({ chime: '/nonexistent/bell.wav' });
    await waitFor(() => statuses.some((s) => s.includes('/nonexistent/bell.wav')), 3000, 'the status at deploy');
    tts().receive({ payload: 'Door open.', topic: 'door' });
    await waitFor(() => finished.length === 1 && caught.length === 1, 10000, 'the report and the error');
    assert.equal(caught[0]?.error?.code, 'ChimeUnavailable');
    assert.match(caught[0]?.error?.message ?? '', /\/nonexistent\/bell\.wav/);
    assert.equal(caught[0]?.topic, 'door', 'with the utterance\'s own properties');
    assert.equal(finished[0]?.payload.interrupted, false);
    assert.equal(finished[0]?.payload.chimeMs, undefined);
    assert.ok((await captured()).equals(audioOf('Door open.')), 'the speech played, without the chime');
  }));

  it('a bad msg.ttl or msg.speakerVolume refuses that utterance (one InvalidInput error each, its later chunks dropped); the next one plays', needing('speaker', async () => {
    await start({});
    const pcm = audioOf('Door open.');
    const audio = { format: 'pcm', ...FORMAT };
    // Straight into the speaker: a speech node checks msg.ttl too, and would refuse it before it got here.
    const send = (id: string, extra: Record<string, unknown>): void => {
      const half = pcm.length / 2;
      spk().receive({ payload: pcm.subarray(0, half), audio, parts: { id, index: 0, type: 'buffer' }, topic: id, ...extra });
      spk().receive({ payload: pcm.subarray(half), audio, parts: { id, index: 1, type: 'buffer' }, topic: id, ...extra });
      spk().receive({ payload: Buffer.alloc(0), audio, parts: { id, index: 2, type: 'buffer', count: 3 }, topic: id, ...extra });
    };
    send('bad-ttl', { ttl: 'soon' });
    send('bad-volume', { speakerVolume: 150 });
    send('good', {});
    await waitFor(() => finished.length === 1, 10000, 'the good one');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(caught.map((c) => [c.topic, c.error?.code]), [['bad-ttl', 'InvalidInput'], ['bad-volume', 'InvalidInput']]);
    assert.match(caught[0]?.error?.message ?? '', /msg\.ttl/);
    assert.match(caught[1]?.error?.message ?? '', /msg\.speakerVolume/);
    assert.deepEqual(finished.map((f) => f.topic), ['good']);
    assert.ok((await captured()).equals(pcm), 'only the good one played');
  }));

  it('priority cut-in with a chime and a lead-in: the priority one plays its chime after the lead-in of the reopened device; the cut one is reported interrupted', needing('speaker', async () => {
    await start({ chime: 'ding', leadInMs: 200 });
    tts().receive({ payload: LONG, topic: 'calm' });
    await waitFor(() => started.length === 1, 10000, 'the calm one playing');
    await new Promise((r) => setTimeout(r, 300));
    tts2().receive({ payload: 'Fire!', topic: 'urgent', priority: true });
    await waitFor(() => finished.length === 2, 10000, 'two reports');
    assert.deepEqual(finished.map((f) => [f.topic, f.payload.interrupted]), [['calm', true], ['urgent', false]]);
    assert.deepEqual(started.map((s) => [s.topic, s.payload.chime?.name, s.payload.leadInMs]), [['calm', 'ding', 200], ['urgent', 'ding', 200]]);
    assert.ok((finished[1]?.payload.chimeMs ?? 0) > 0);
    // The cut-in reopened the device: its capture is what followed.
    const bytes = await captured();
    assert.ok(bytes.equals(Buffer.concat([silence(200), chimeOf('ding'), audioOf('Fire!')])), `captured ${bytes.length} bytes`);
  }));

  it('keep-open: the aplay child is still there shortly before Keep open has passed after the last utterance, and gone after it', needing('aplay', async () => {
    await start({ backend: 'aplay', keepOpen: 1.5 });
    tts().receive({ payload: 'Door open.', topic: 'door' });
    await waitFor(() => finished.length === 1, 10000, 'finished');
    const heard = finished[0]?.at ?? 0;
    assert.equal(aplayChildren(), 1, 'open right after the utterance');
    await new Promise((r) => setTimeout(r, 1500 - 300 - (performance.now() - heard)));
    assert.equal(aplayChildren(), 1, 'still open 1.2 s after it');
    await waitFor(() => aplayChildren() === 0, 3000, 'aplay to be closed');
    const closedAfter = performance.now() - heard;
    assert.ok(closedAfter >= 1500 - 50, `closed ${closedAfter.toFixed(0)} ms after the last utterance`);
    const bytes = readCapture(capture);
    const expected = audioOf('Door open.');
    assert.ok(bytes.subarray(0, expected.length).equals(expected));
    assert.ok(bytes.length - expected.length <= APLAY_MAX_PADDING_BYTES);
  }));

  function tts2(): Receiver {
    return tts('tts2');
  }
});

describe('pcm-speaker settings of issue 21', () => {
  it('Keep open: seconds from 0 to 3600; blank or absent leaves it to settings.js', () => {
    assert.equal(resolveSettings({}).keepOpenMs, undefined);
    assert.equal(resolveSettings({ keepOpen: '' }).keepOpenMs, undefined);
    assert.equal(resolveSettings({ keepOpen: '1.5' }).keepOpenMs, 1500);
    assert.equal(resolveSettings({ keepOpen: 0 }).keepOpenMs, 0);
    assert.throws(() => resolveSettings({ keepOpen: 3601 }), /keep open must be a number from 0 to 3600/);
  });

  it('Lead-in: ms from 0 to 5000, default 0; Chime: trimmed, blank for none; Backend: pulse too', () => {
    assert.equal(resolveSettings({}).leadInMs, 0);
    assert.equal(resolveSettings({ leadInMs: '400' }).leadInMs, 400);
    assert.throws(() => resolveSettings({ leadInMs: 5001 }), /lead-in must be a number from 0 to 5000/);
    assert.throws(() => resolveSettings({ leadInMs: -1 }), /lead-in/);
    assert.equal(resolveSettings({}).chime, '');
    assert.equal(resolveSettings({ chime: ' ding-dong ' }).chime, 'ding-dong');
    assert.equal(resolveSettings({ backend: 'pulse' }).backend, 'pulse');
    assert.throws(() => resolveSettings({ backend: 'jack' }), /backend must be auto, .*pulse/);
    // The sound server plays on its own sinks only: an ALSA name there is refused at deploy.
    for (const device of ['', 'pulse', 'pulse:alsa_output.hdmi', ' pulse ']) assert.equal(resolveSettings({ backend: 'pulse', device }).backend, 'pulse', device);
    assert.throws(
      () => resolveSettings({ backend: 'pulse', device: 'hw:0' }),
      (err: Error) => err.message === 'the sound server backend plays on Device blank (its default sink), "pulse" or "pulse:<sink>" (got "hw:0"): choose one of the server\'s sinks, or an ALSA backend for an ALSA device',
    );
    assert.equal(resolveSettings({ backend: 'auto', device: 'hw:0' }).device, 'hw:0', 'auto and the ALSA backends take ALSA names as before');
  });
});
