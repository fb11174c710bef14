/**
 * Issue 9, bad input matrix for pcm-speaker: each bad message gets a specific error at a catch
 * node, and the good utterance sent right behind it reaches the device byte for byte.
 */
import { newCaptureFile, readCapture } from '../alsa/env';
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper, type TestFlows } from '../support/node-red';
import { requireSystem } from '../support/system-deps';

const nodes = [builtNode('pcm-speaker'), coreNode('common/25-catch.js')];
type Receiver = Node & { receive(msg: Record<string, unknown>): void };
interface Caught {
  error?: { message: string; code?: string };
}

const FORMAT = { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16 };
/** 100 ms of a ramp: recognisable bytes, whole frames. */
const GOOD = Buffer.from(Int16Array.from({ length: 1600 }, (_, i) => (i * 37) % 30000 - 15000).buffer);

const ROWS: { name: string; msg: Record<string, unknown>; code?: string; message: RegExp }[] = [
  { name: 'a string payload', msg: { payload: 'not audio' }, message: /msg\.payload must be a Buffer of PCM or WAV audio \(got string\)/ },
  { name: 'a number payload', msg: { payload: 42 }, message: /msg\.payload must be a Buffer of PCM or WAV audio \(got number\)/ },
  { name: 'a null payload', msg: { payload: null }, message: /msg\.payload must be a Buffer of PCM or WAV audio/ },
  { name: 'an object payload', msg: { payload: { data: [1, 2] } }, message: /msg\.payload must be a Buffer of PCM or WAV audio/ },
  { name: 'msg.audio.sampleRate text', msg: { payload: Buffer.alloc(320), audio: { ...FORMAT, sampleRate: 'fast' } }, code: 'InvalidAudioFormat', message: /msg\.audio\.sampleRate: sample rate must be a number \(got "fast"\)/ },
  { name: 'msg.audio.channels an object', msg: { payload: Buffer.alloc(320), audio: { ...FORMAT, channels: { n: 1 } } }, code: 'InvalidAudioFormat', message: /msg\.audio\.channels: channels must be a number \(got \{"n":1\}\)/ },
  { name: 'msg.audio.sampleRate too high', msg: { payload: Buffer.alloc(320), audio: { ...FORMAT, sampleRate: 1e6 } }, code: 'InvalidAudioFormat', message: /sample rate must be an integer/ },
  { name: 'msg.audio.channels 0', msg: { payload: Buffer.alloc(320), audio: { ...FORMAT, channels: 0 } }, code: 'InvalidAudioFormat', message: /channels must be 1 to 8 \(got 0\)/ },
  { name: 'msg.audio.bitDepth 12', msg: { payload: Buffer.alloc(320), audio: { ...FORMAT, bitDepth: 12 } }, code: 'InvalidAudioFormat', message: /bit depth must be 8, 16, 24 or 32 \(got 12\)/ },
  { name: 'msg.audio.format mp3', msg: { payload: Buffer.alloc(320), audio: { ...FORMAT, format: 'mp3' } }, code: 'UnsupportedAudioFormat', message: /cannot play mp3 audio/ },
];

describe('bad input matrix (issue 9): pcm-speaker', function () {
  requireSystem('speaker');
  this.timeout(15_000);
  let capture: string;
  before(() => {
    helper.settings({ pcmSpeakerIdleCloseMs: 50 } as unknown as Parameters<typeof helper.settings>[0]);
  });
  after(() => {
    helper.settings({});
  });
  freshServerEachTest();

  for (const row of ROWS) {
    it(`${row.name}: ${row.code ?? 'a clear error'}; the next utterance plays byte-exact`, async () => {
      capture = newCaptureFile();
      const flow: TestFlows = [
        { id: 'tab', type: 'tab' },
        { id: 'spk', type: 'pcm-speaker', z: 'tab', device: '', backend: 'speaker', volume: 100, prebufferMs: 50, queue: 'queue', wires: [['finished']] },
        { id: 'finished', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ];
      await helper.load(nodes, flow);
      const caught = collect<Caught>(helper.getNode('caught'));
      const finished = collect<{ payload: { interrupted: boolean } }>(helper.getNode('finished'));
      const spk = helper.getNode('spk') as Receiver;
      spk.receive({ ...row.msg, parts: { id: 'bad', index: 0, count: 1, type: 'buffer' } });
      spk.receive({ payload: GOOD, audio: FORMAT, parts: { id: 'good', index: 0, count: 1, type: 'buffer' } });
      await waitFor(() => finished.some((f) => !f.payload.interrupted), 8000, 'the good utterance to finish');
      assert.equal(caught.length, 1, 'one error');
      if (row.code) assert.equal(caught[0]?.error?.code, row.code);
      assert.match(caught[0]?.error?.message ?? '', row.message);
      await helper.unload();
      assert.ok(readCapture(capture).equals(GOOD), 'exactly the good bytes reached the device');
    });
  }
});
