/**
 * Issue 9, fault matrix, the audio device: pcm-speaker fed by a real cosyvoice-stream node,
 * playing through aplay into the test ALSA file device. A device that is missing, or that goes
 * away in the middle of playback (its aplay process dies, as when a USB speaker is unplugged),
 * is a clear error on a catch node naming the utterance; the next utterance still plays on a
 * fresh device, and undeploying leaves no child process and no timer.
 */
import { newCaptureFile, readCapture } from '../alsa/env';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'node-red';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { childrenNamed } from '../support/child-processes';
import { waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';
import { builtNode, coreNode, helper, nextMessages, type TestFlows } from '../support/node-red';
import { requireSystem } from '../support/system-deps';

const KEY = 'sk-test-key';
const VOICE = 'longanyang';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('pcm-speaker'), coreNode('common/25-catch.js')];

type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type HelperSettings = Parameters<typeof helper.settings>[0];

interface Finished {
  topic?: string;
  payload: { interrupted: boolean; error?: string; bytes: number };
}
interface Caught {
  topic?: string;
  error?: { message: string; code?: string; source?: { id?: string } };
}

/** aplay children of this process. */
const aplayChildren = (): number[] => childrenNamed('aplay');

describe('reliability: audio device faults (issue 9)', function () {
  requireSystem('aplay');
  this.timeout(20000);
  let sim: DashScopeSimulator | undefined;
  let timers: ReturnType<typeof trackSourceTimers> | undefined;

  async function start(device: string): Promise<string> {
    timers = trackSourceTimers();
    sim = await DashScopeSimulator.start({ realTimeFactor: 1, chunkMs: 40 });
    const capture = newCaptureFile();
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      { id: 'tts', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: VOICE, format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['spk'], []] },
      { id: 'spk', type: 'pcm-speaker', z: 'tab', device, backend: 'aplay', volume: 100, prebufferMs: 100, queue: 'queue', wires: [['finished']] },
      { id: 'finished', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    return capture;
  }

  before(() => {
    helper.settings({ pcmSpeakerIdleCloseMs: 50 } as unknown as HelperSettings);
  });
  after(() => {
    helper.settings({});
  });
  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await waitFor(() => aplayChildren().length === 0, 3000, 'no aplay child left');
    await waitFor(() => sim?.stats.openSockets === 0, 3000, 'no socket left');
    // A socket's close handshake clears its timers once the client has seen the close too.
    await waitFor(() => (timers?.live() ?? []).length === 0, 3000, 'no timer left').catch(() => undefined);
    const live = timers?.live() ?? [];
    timers?.stop();
    timers = undefined;
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await sim?.close();
    sim = undefined;
    assert.deepEqual(live, [], 'no timer from src/ left');
  });

  const tts = (): Receiver => helper.getNode('tts') as Receiver;
  const node = (id: string): Node => helper.getNode(id);

  it('the device is missing: each utterance is a DeviceOpenFailed on catch with its topic, none hangs, no child is left', async () => {
    await start('nosuchdevice');
    const caught = nextMessages<Caught>(node('caught'), 2);
    const finished = nextMessages<Finished>(node('finished'), 2);
    tts().receive({ payload: 'Nobody hears this.', topic: 'first' });
    tts().receive({ payload: 'Nor this.', topic: 'second' });
    const errs = await caught;
    const reports = await finished;
    assert.deepEqual(
      errs.map((e) => [e.topic, e.error?.code, e.error?.source?.id]),
      [
        ['first', 'DeviceOpenFailed', 'spk'],
        ['second', 'DeviceOpenFailed', 'spk'],
      ],
    );
    assert.ok(reports.every((r) => r.payload.interrupted === true && /audio open error/.test(r.payload.error ?? '')));
    await waitFor(() => aplayChildren().length === 0, 3000, 'the failed children reaped');
  });

  it('the device goes away during playback (aplay dies): DeviceFailed on catch naming the utterance, and the next one plays in full', async () => {
    const capture = await start('');
    const caught = nextMessages<Caught>(node('caught'), 1);
    const first = nextMessages<Finished>(node('finished'), 1);
    tts().receive({ payload: 'A long announcement that is playing when the speaker is unplugged, and it goes on for a while.', topic: 'unplugged' });
    await waitFor(() => aplayChildren().length === 1, 5000, 'aplay playing');
    await new Promise((r) => setTimeout(r, 300));
    const [pid] = aplayChildren();
    process.kill(pid as number, 'SIGKILL');
    const [err] = await caught;
    assert.equal(err?.topic, 'unplugged');
    assert.equal(err?.error?.code, 'DeviceFailed');
    assert.match(err?.error?.message ?? '', /SIGKILL/);
    const [report] = await first;
    assert.equal(report?.topic, 'unplugged');
    assert.equal(report?.payload.interrupted, true);

    const next = nextMessages<Finished>(node('finished'), 1);
    const text = 'The speaker is back.';
    tts().receive({ payload: text, topic: 'back' });
    const [played] = await next;
    assert.equal(played?.topic, 'back');
    assert.equal(played?.payload.interrupted, false);
    await waitFor(() => aplayChildren().length === 0, 5000, 'the idle device closed');
    // Every open truncates the capture file: it holds what the fresh aplay played, the whole
    // second utterance byte for byte (plus at most aplay's padding of its last period, 125 ms).
    const expected = expectedAudio({ text, voice: VOICE, sampleRate: 24000 });
    const got = readCapture(capture);
    assert.ok(got.subarray(0, expected.length).equals(expected), 'the next utterance reached the new device intact');
    assert.ok(got.length - expected.length <= 6000, `${got.length - expected.length} bytes of padding`);
  });

  it('the device is busy (another program holds it): DeviceOpenFailed naming the cause, and it plays once the device is free', async () => {
    // aplay's own words when the card is held by someone else; a stand-in aplay on PATH says them.
    const fakeBin = mkdtempSync(join(tmpdir(), 'busy-aplay-'));
    writeFileSync(join(fakeBin, 'aplay'), '#!/bin/sh\necho "aplay: main:831: audio open error: Device or resource busy" >&2\nexit 1\n');
    chmodSync(join(fakeBin, 'aplay'), 0o755);
    const realPath = process.env.PATH;
    process.env.PATH = `${fakeBin}:${realPath ?? ''}`;
    try {
      const capture = await start('');
      const caught = nextMessages<Caught>(node('caught'), 1);
      const refused = nextMessages<Finished>(node('finished'), 1);
      tts().receive({ payload: 'The kitchen timer is done.', topic: 'busy' });
      const [err] = await caught;
      assert.equal(err?.topic, 'busy');
      assert.equal(err?.error?.code, 'DeviceOpenFailed');
      assert.match(err?.error?.message ?? '', /busy/i);
      assert.equal((await refused)[0]?.payload.interrupted, true);

      process.env.PATH = realPath; // the other program lets go of the card
      const next = nextMessages<Finished>(node('finished'), 1);
      const text = 'Now it plays.';
      tts().receive({ payload: text, topic: 'free' });
      const [played] = await next;
      assert.equal(played?.payload.interrupted, false);
      await waitFor(() => aplayChildren().length === 0, 5000, 'the idle device closed');
      const expected = expectedAudio({ text, voice: VOICE, sampleRate: 24000 });
      assert.ok(readCapture(capture).subarray(0, expected.length).equals(expected), 'played in full on the freed device');
    } finally {
      process.env.PATH = realPath;
      rmSync(fakeBin, { recursive: true, force: true });
    }
  });
});

