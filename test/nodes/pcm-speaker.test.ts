// pcm-speaker as Node-RED loads it (the built nodes/pcm-speaker.js), fed by a real cosyvoice-stream
// node talking to the DashScope simulator, playing through the real speaker addon or aplay into the
// test ALSA file device. The capture file holds exactly what reached the "speaker".
//
// The ALSA file plugin writes audio to the file as it leaves the device buffer (0.5 s behind) and
// the rest when the device is closed, so captures are read after the flow is stopped: closing the
// node closes the device.
import { newCaptureFile, readCapture } from '../alsa/env';
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import type { Node, NodeAPI } from 'node-red';
import { applyGain } from '../../src/audio/gain';
import { ChunkRouter } from '../../src/nodes/pcm-speaker/chunk-routing';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { childrenNamed } from '../support/child-processes';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from '../support/node-red';
import { needing } from '../support/system-deps';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('pcm-speaker'), coreNode('common/25-catch.js')];
const VOICE = 'longanyang';
/** aplay pads its last period with silence: at most 125 ms at 24 kHz mono 16-bit. */
const APLAY_MAX_PADDING_BYTES = 3000 * 2;

interface Finished {
  topic?: string;
  _msgid?: string;
  payload: {
    id: string;
    durationMs: number;
    bytes: number;
    interrupted: boolean;
    partial?: boolean;
    backend?: string;
    format?: { sampleRate: number; channels: number; bitDepth: number };
    error?: string;
  };
}

interface Caught {
  error?: { message: string; code?: string };
}

interface StatusArg {
  fill?: string;
  shape?: string;
  text?: string;
}

/** A settings.js entry of this node; the helper's settings type lists only Node-RED's own. */
type HelperSettings = Parameters<typeof helper.settings>[0];

type Receiver = Node & { receive(msg: Record<string, unknown>): void };

const audioOf = (text: string, format: 'pcm' | 'wav' = 'pcm'): Buffer => expectedAudio({ text, voice: VOICE, sampleRate: 24000, format });
const msOf = (bytes: number): number => (bytes / 2 / 24000) * 1000;

/** aplay processes this test process started. */
const aplayChildren = (): number => childrenNamed('aplay').length;

describe('pcm-speaker node', function () {
  this.timeout(15000);
  let sim: DashScopeSimulator;
  let capture: string;
  let statuses: string[];
  let spkBackend: string;

  async function start(speaker: Record<string, unknown> = {}, tts: Record<string, unknown> = {}): Promise<void> {
    sim = await DashScopeSimulator.start();
    capture = newCaptureFile();
    spkBackend = String(speaker.backend ?? 'speaker');
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      { id: 'tts', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: VOICE, format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['spk'], []], ...tts },
      { id: 'tts2', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: VOICE, format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['spk'], []] },
      { id: 'spk', type: 'pcm-speaker', z: 'tab', device: '', backend: 'speaker', volume: 100, prebufferMs: 200, queue: 'queue', wires: [['finished']], ...speaker },
      { id: 'finished', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    statuses = [];
    // The helper's spy events ("call:<method>") are not in Node's typed event list.
    (spk() as unknown as EventEmitter).on('call:status', (call: { args: unknown[] }) => statuses.push((call.args[0] as StatusArg).text ?? ''));
  }

  before(() => {
    // Idle devices close quickly here, so that an aplay capture is complete soon after playback.
    helper.settings({ pcmSpeakerIdleCloseMs: 50 } as unknown as HelperSettings);
  });
  after(() => {
    helper.settings({});
  });
  freshServerEachTest({ after: () => sim?.close() });

  const node = (id: string): Node => helper.getNode(id);
  /**
   * What reached the device. speaker: stopping the flow closes the device, which flushes the
   * capture. aplay: a kill would lose what is still in its pipe, so wait for the idle device to be
   * closed the normal way (aplay drains and exits).
   */
  const captured = async (): Promise<Buffer> => {
    if (spkBackend === 'aplay') await waitFor(() => aplayChildren() === 0, 5000, 'aplay to finish');
    else await helper.unload();
    return readCapture(capture);
  };
  const tts = (id = 'tts'): Receiver => helper.getNode(id) as Receiver;
  const spk = (): Receiver => helper.getNode('spk') as Receiver;

  for (const backend of ['speaker', 'aplay'] as const) {
    it(`${backend}: the device gets exactly the synthesized bytes, and "finished" comes when they have played`, needing(backend === 'speaker' ? 'speaker' : 'aplay', async () => {
      await start({ backend });
      const text = 'Door open.';
      const expected = audioOf(text);
      const finished = nextMessages<Finished>(node('finished'), 1);
      const sent = performance.now();
      tts().receive({ payload: text, topic: 'door' });
      const [done] = await finished;
      const elapsed = performance.now() - sent;
      assert.ok(statuses.includes(`playing · ${backend}`), `statuses: ${statuses.join(' | ')}`);
      assert.ok(statuses.includes(`ready · ${backend}`), `statuses: ${statuses.join(' | ')}`);
      const bytes = await captured();
      assert.ok(bytes.subarray(0, expected.length).equals(expected), `captured ${bytes.length} bytes, expected ${expected.length}`);
      const padding = bytes.subarray(expected.length);
      if (backend === 'speaker') assert.equal(padding.length, 0, 'speaker adds nothing');
      else assert.ok(padding.length <= APLAY_MAX_PADDING_BYTES && padding.every((b) => b === 0), `${padding.length} bytes of padding`);

      const duration = msOf(expected.length);
      assert.ok(elapsed >= duration - 5, `finished after ${elapsed.toFixed(0)} ms, the audio lasts ${duration} ms`);
      assert.ok(elapsed < duration + 1500, `finished ${(elapsed - duration).toFixed(0)} ms after the audio ended`);
      assert.equal(done?.topic, 'door', 'input properties travel to the finished message');
      assert.equal(done?.payload.durationMs, Math.round(duration));
      assert.equal(done?.payload.bytes, expected.length);
      assert.equal(done?.payload.interrupted, false);
      assert.equal(done?.payload.backend, backend);
      assert.deepEqual(done?.payload.format, { sampleRate: 24000, channels: 1, bitDepth: 16 });
      assert.match(done?.payload.id ?? '', /^[0-9a-f]{16}$/, 'the utterance id (msg.parts.id)');
    }));

    it(`${backend}: volume 50 % halves every sample exactly (truncated toward zero)`, needing(backend === 'speaker' ? 'speaker' : 'aplay', async () => {
      await start({ backend, volume: 50 });
      const text = 'Quiet.';
      const finished = nextMessages<Finished>(node('finished'), 1);
      tts().receive({ payload: text });
      await finished;
      const original = audioOf(text);
      const bytes = await captured();
      for (let i = 0; i < original.length; i += 2) {
        assert.equal(bytes.readInt16LE(i), Math.trunc(original.readInt16LE(i) / 2) + 0, `sample ${i / 2}`);
      }
      assert.ok(bytes.subarray(0, original.length).equals(applyGain(original, 16, 50)));
      assert.ok(bytes.length - original.length <= (backend === 'aplay' ? APLAY_MAX_PADDING_BYTES : 0));
    }));
  }

  it('wav from the synthesis node: the header is read and stripped, only samples reach the device', needing('speaker', async () => {
    await start({}, { format: 'wav' });
    const text = 'A wave.';
    const finished = nextMessages<Finished>(node('finished'), 1);
    tts().receive({ payload: text });
    const [done] = await finished;
    const wav = audioOf(text, 'wav');
    assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
    assert.equal(done?.payload.bytes, wav.length - 44);
    assert.ok((await captured()).equals(wav.subarray(44)));
  }));

  it('two synthesis nodes speaking at once: utterances play whole, one after the other, never interleaved', needing('speaker', async () => {
    await start();
    const texts = { one: 'One first.', two: 'Two next.' };
    const finished = nextMessages<Finished>(node('finished'), 2);
    tts('tts').receive({ payload: texts.one, topic: 'one' });
    tts('tts2').receive({ payload: texts.two, topic: 'two' });
    const reports = await finished;
    const order = reports.map((r) => r.topic as 'one' | 'two');
    assert.deepEqual([...order].sort(), ['one', 'two']);
    const expected = Buffer.concat(order.map((t) => audioOf(texts[t])));
    assert.ok(reports.every((r) => !r.payload.interrupted));
    assert.ok((await captured()).equals(expected), 'the capture is one utterance, then the other');
  }));

  it('msg.stop silences at once and clears the queue; both utterances report interrupted', needing('speaker', async () => {
    await start();
    const finished = collect<Finished>(node('finished'));
    tts('tts').receive({ payload: 'This is a long announcement that will be cut off early.', topic: 'long' });
    tts('tts2').receive({ payload: 'Queued behind it.', topic: 'queued' });
    await waitFor(() => statuses.some((s) => s.startsWith('playing')), 5000, 'playing');
    await new Promise((r) => setTimeout(r, 300));
    const stoppedAt = performance.now();
    spk().receive({ stop: true });
    await waitFor(() => finished.length === 2, 1000, 'two reports');
    assert.ok(performance.now() - stoppedAt < 100, 'reported at once');
    assert.deepEqual(
      finished.map((f) => [f.topic, f.payload.interrupted]),
      [
        ['long', true],
        ['queued', true],
      ],
    );
    const heard = finished[0]?.payload.durationMs ?? 0;
    assert.ok(heard >= 250 && heard < 1000, `heard ${heard} ms of the long one`);
    assert.equal(finished[1]?.payload.durationMs, 0);
    await waitFor(() => statuses[statuses.length - 1] === 'ready · speaker', 1000, 'ready again');
  }));

  it('msg.priority cuts the current utterance for the new one', needing('speaker', async () => {
    await start();
    const finished = collect<Finished>(node('finished'));
    tts('tts').receive({ payload: 'A long, calm, rather unimportant announcement.', topic: 'calm' });
    await waitFor(() => statuses.some((s) => s.startsWith('playing')), 5000, 'playing');
    await new Promise((r) => setTimeout(r, 200));
    tts('tts2').receive({ payload: 'Fire!', topic: 'urgent', priority: true });
    await waitFor(() => finished.length === 2, 5000, 'two reports');
    assert.deepEqual(
      finished.map((f) => [f.topic, f.payload.interrupted]),
      [
        ['calm', true],
        ['urgent', false],
      ],
    );
    assert.equal(finished[1]?.payload.durationMs, Math.round(msOf(audioOf('Fire!').length)));
  }));

  it('ignore mode drops an utterance that arrives while one plays, with a warning', needing('speaker', async () => {
    await start({ queue: 'ignore' });
    const finished = collect<Finished>(node('finished'));
    const warned = new Promise<string>((resolve) => spk().once('call:warn', (call: { args: unknown[] }) => resolve(String(call.args[0]))));
    tts('tts').receive({ payload: 'Playing.', topic: 'first' });
    await waitFor(() => statuses.some((s) => s.startsWith('playing')), 5000, 'playing');
    tts('tts2').receive({ payload: 'Too late.', topic: 'second' });
    assert.match(await warned, /busy: utterance .* dropped/);
    await waitFor(() => finished.length === 1, 5000, 'first report');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      finished.map((f) => f.topic),
      ['first'],
    );
    assert.ok((await captured()).equals(audioOf('Playing.')));
  }));

  it('mp3 input is a clear error for catch nodes; a non-Buffer payload too', async () => {
    await start({}, { format: 'mp3' });
    const caught = nextMessages<Caught>(node('caught'), 2);
    tts().receive({ payload: 'Compressed.' });
    await waitFor(() => statuses.some((s) => /pcm or wav/.test(s)), 5000, 'status');
    spk().receive({ payload: 'not audio' });
    const [mp3, text] = await caught;
    assert.equal(mp3?.error?.code, 'UnsupportedAudioFormat');
    assert.match(mp3?.error?.message ?? '', /cannot play mp3 audio: set the synthesis node's format to pcm or wav/);
    assert.match(text?.error?.message ?? '', /msg.payload must be a Buffer of PCM or WAV audio \(got string\)/);
  });

  it("a device that cannot be opened: catch nodes get aplay's reason with the utterance's topic, the flow gets an interrupted report", needing('aplay', async () => {
    await start({ backend: 'aplay', device: 'nosuchdevice' });
    const caught = nextMessages<Caught & { topic?: string }>(node('caught'), 1);
    const finished = nextMessages<Finished>(node('finished'), 1);
    tts().receive({ payload: 'Nobody hears this.', topic: 'lost' });
    const [err] = await caught;
    const [report] = await finished;
    assert.equal(err?.topic, 'lost');
    assert.equal(err?.error?.code, 'DeviceOpenFailed');
    assert.match(err?.error?.message ?? '', /aplay could not play on ALSA device "nosuchdevice": audio open error: No such file or directory/);
    assert.equal(report?.topic, 'lost');
    assert.equal(report?.payload.interrupted, true);
    assert.match(report?.payload.error ?? '', /audio open error/);
    await waitFor(() => /audio open error/.test(statuses[statuses.length - 1] ?? ''), 2000, 'the status to name the problem');
  }));

  it('a WAV Buffer without msg.parts or msg.audio is one utterance, its format read from the header', needing('speaker', async () => {
    await start();
    const finished = nextMessages<Finished>(node('finished'), 1);
    const wav = expectedAudio({ text: 'File.', voice: VOICE, sampleRate: 16000, format: 'wav' });
    spk().receive({ payload: wav, topic: 'file' });
    const [done] = await finished;
    assert.deepEqual(done?.payload.format, { sampleRate: 16000, channels: 1, bitDepth: 16 });
    assert.equal(done?.topic, 'file');
    assert.ok((await captured()).equals(wav.subarray(44)));
  }));

  it('invalid settings show on the status and refuse input', async () => {
    await start({ volume: 500 });
    const caught = nextMessages<Caught>(node('caught'), 1);
    spk().receive({ payload: Buffer.alloc(480) });
    const [err] = await caught;
    assert.match(err?.error?.message ?? '', /volume must be a number from 0 to 200/);
  });

  it('lists the ALSA devices for the editor: GET pcm-speaker/devices, guarded by pcm-speaker.read', needing('aplay', async () => {
    const permissions: string[] = [];
    const guarded = (RED: NodeAPI): void => {
      const needsPermission = RED.auth.needsPermission;
      RED.auth.needsPermission = (permission: string) => {
        permissions.push(permission);
        return needsPermission(permission);
      };
      try {
        builtNode('pcm-speaker')(RED);
      } finally {
        RED.auth.needsPermission = needsPermission;
      }
    };
    const flow: TestFlows = [{ id: 'spk', type: 'pcm-speaker', device: '', backend: 'aplay' }];
    await helper.load([guarded], flow);
    assert.deepEqual(permissions, ['pcm-speaker.read']);
    const res = await helper.request().get('/pcm-speaker/devices').expect(200);
    // The test ALSA configuration: its default first, its other pcms under "more" (no sound card).
    // A sound server this machine may have is not the test's: only that the answer says whether one
    // was reached (its sinks, `server: true`, are checked against a server of their own in the sound-server tests).
    const { devices, server, ...rest } = res.body as { devices: { server?: boolean }[]; server: { reachable: boolean; reason?: string } };
    assert.deepEqual(devices.filter((d) => !d.server), [
      { name: 'default', label: 'Default output', more: false },
      { name: 'capture', label: 'capture — Test device: the same…', more: true, description: 'Test device: the same capture under a name' },
      { name: 'null', label: 'null — Discard all samples', more: true, description: 'Discard all samples' },
    ]);
    assert.deepEqual(rest, { error: 'no sound cards found (aplay -l lists none)', reason: 'noCards' });
    if (server.reachable) assert.equal(server.reason, undefined);
    else assert.ok(['noServer', 'noPacat', 'failed'].includes(server.reason ?? ''), `server: ${JSON.stringify(server)}`);
  }));

  it('redeploy while playing through aplay: the child is killed and no timer is left', needing('aplay', async () => {
    await start({ backend: 'aplay' });
    tts().receive({ payload: 'A long announcement that is still playing when the flow is redeployed.' });
    await waitFor(() => statuses.some((s) => s.startsWith('playing')), 5000, 'playing');
    assert.equal(aplayChildren(), 1);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    await helper.unload();
    assert.equal(aplayChildren(), 0, 'no aplay left');
    assert.ok(timers() < before, 'the completion timer was cleared');
  }));

  describe('chunk routing', () => {
    it('groups by parts.id and ends an utterance when parts.count messages have arrived', () => {
      const r = new ChunkRouter();
      assert.deepEqual(r.route({ parts: { id: 'a', index: 0 } }), { id: 'a', end: false });
      assert.deepEqual(r.route({ parts: { id: 'b', index: 0 } }), { id: 'b', end: false });
      assert.deepEqual(r.route({ parts: { id: 'a', index: 1, count: 2 } }), { id: 'a', end: true });
      assert.deepEqual(r.route({ parts: { id: 'b', index: 1, count: 3 } }), { id: 'b', end: false });
      assert.deepEqual(r.route({ parts: { id: 'b', index: 2, count: 3 } }), { id: 'b', end: true });
      const solo = r.route({ _msgid: 'm1' });
      assert.equal(solo.end, true);
      assert.notEqual(r.route({ _msgid: 'm1' }).id, solo.id, 'each message without parts is its own utterance');
    });
  });
});
