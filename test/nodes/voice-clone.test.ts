import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Node } from 'node-red';
import type { CustomVoice } from '../../src/dashscope/customization';
import { maxSampleFileBytes } from '../../src/voices/sample';
import type { TtsConfigNode } from '../../src/nodes/tts-config/types';
import { SAMPLE_FILE_REFUSED } from '../../src/nodes/voice-clone/sample-file';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { editorDefinition } from '../support/editor-definition';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from '../support/node-red';
import { mp3Sample, oggSample, wavSample } from '../support/voice-samples';

const KEY = 'sk-test-key';
const nodes = [
  builtNode('tts-config'),
  builtNode('voice-clone'),
  builtNode('cosyvoice-stream'),
  builtNode('qwen-realtime'),
  coreNode('function/15-change.js'),
  coreNode('sequence/17-split.js'),
  coreNode('common/25-catch.js'),
];

interface VoiceMsg {
  payload: unknown;
  voice?: string;
  model?: string;
  topic?: string;
  action?: string;
  customVoice?: CustomVoice & { requestId?: string };
  error?: { message: string; code?: string };
}

interface AudioMsg {
  payload: Buffer;
}

type Receiver = Node & { receive(msg: Record<string, unknown>): void };
/** The helper spies on Node.prototype.status, so the calls of every node are in one spy. */
type StatusSpy = { getCalls(): { thisValue: unknown; args: { fill?: string; text?: string }[] }[] };
/** Node.prototype.warn and .debug likewise. */
type TextSpy = { getCalls(): { thisValue: unknown; args: unknown[] }[] };

const SPOKEN = 'Hello, this is my own voice speaking.';
/** A refused sample path as catch nodes see it (msg.error.message is the error's toString()). */
const REFUSED = `InputError: ${SAMPLE_FILE_REFUSED}`;

describe('voice-clone node', () => {
  let sim: DashScopeSimulator;
  let dir: string;

  /**
   * clone → out, and clone → change (payload = SPOKEN) → the synthesis node (its voice left empty,
   * so msg.voice is used) → join → joined.
   */
  async function start(clone: Record<string, unknown> = {}, simOptions: SimulatorOptions = {}, synth: Record<string, unknown> = {}, apiKey = KEY): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    const qwen = clone.family === 'qwen';
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      {
        id: 'clone',
        type: 'voice-clone',
        z: 'tab',
        config: 'cfg',
        family: 'cosyvoice',
        targetModel: qwen ? 'qwen3-tts-vc-realtime-2026-01-15' : 'cosyvoice-v3-flash',
        voiceName: 'myvoice',
        languageHints: '',
        action: 'create',
        pollInterval: '0.02',
        pollTimeout: '5',
        wires: [['out', 'say']],
        ...clone,
      },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'say', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: SPOKEN, tot: 'str' }], wires: [['speak']] },
      qwen
        ? { id: 'speak', type: 'qwen-realtime', z: 'tab', config: 'cfg', model: 'qwen3-tts-vc-realtime-2026-01-15', voice: '', mode: 'commit', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['joiner'], []], ...synth }
        : { id: 'speak', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: '', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['joiner'], []], ...synth },
      { id: 'joiner', type: 'join', z: 'tab', mode: 'auto', wires: [['joined']] },
      { id: 'joined', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg: { apiKey } });
  }

  freshServerEachTest({
    ownSettings: true,
    before: () => {
      dir = mkdtempSync(join(tmpdir(), 'voice-clone-'));
      // Local sample paths are read only from this folder (settings.js ttsVoiceSampleFolder).
      helper.settings({ ttsVoiceSampleFolder: dir } as Record<string, unknown>);
    },
    after: async () => {
      await sim?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });

  const clone = (): Receiver => helper.getNode('clone') as Receiver;
  const node = (id: string): Node => helper.getNode(id);
  const statuses = (): { fill?: string; text?: string }[] =>
    (clone() as unknown as { status: StatusSpy }).status
      .getCalls()
      .filter((c) => c.thisValue === clone())
      .map((c) => c.args[0] ?? {});
  /** What the clone node itself passed to node.warn / node.debug. */
  const said = (method: 'warn' | 'debug'): string[] =>
    (clone() as unknown as Record<typeof method, TextSpy>)[method]
      .getCalls()
      .filter((c) => c.thisValue === clone())
      .map((c) => String(c.args[0]));
  const file = (name: string, bytes: Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('clones a CosyVoice voice from a local WAV through the temporary upload, waits until OK, then speaks with it', async () => {
    await start({}, { customization: { deployMs: 150 } });
    const out = nextMessages<VoiceMsg>(node('out'), 1);
    const joined = nextMessages<AudioMsg>(node('joined'), 1);
    const sample = wavSample({ sampleRate: 16000, seconds: 12 });
    clone().receive({ payload: file('kitchen recording.wav', sample), topic: 'me' });
    const [msg] = await out;
    const id = msg?.payload as string;
    assert.match(id, /^cosyvoice-v3-flash-myvoice-[0-9a-f]{32}$/);
    assert.deepEqual([msg?.voice, msg?.model, msg?.topic, msg?.customVoice?.status], [id, 'cosyvoice-v3-flash', 'me', 'OK']);
    assert.ok(msg?.customVoice?.requestId);

    const [object] = sim.uploads.objects();
    assert.ok(object?.bytes.equals(sample), 'the sample went through the temporary storage');
    assert.match(object?.key ?? '', /\/kitchen_recording\.wav$/);
    assert.equal(sim.voices.get(id)?.url, `oss://${object?.key}`);

    const [audio] = await joined;
    assert.ok(audio?.payload.equals(expectedAudio({ text: SPOKEN, voice: id, sampleRate: 24000 })), 'the new voice speaks');
    const texts = statuses().map((s) => s.text);
    for (const step of ['checking sample', 'uploading sample', 'creating voice']) assert.ok(texts.includes(step), texts.join(' | '));
    assert.ok(texts.some((t) => /^deploying \(\d+ s\)$/.test(t ?? '')), texts.join(' | '));
    assert.deepEqual(statuses()[statuses().length - 1], { fill: 'green', shape: 'dot', text: `ready: ${id}`.slice(0, 57) + '...' });
  });

  it('takes a Buffer, a data: URI or an MP3 for CosyVoice too; an https URL is passed on without an upload', async () => {
    await start();
    const out = nextMessages<VoiceMsg>(node('out'), 4);
    clone().receive({ payload: wavSample({ sampleRate: 16000 }) });
    clone().receive({ payload: `data:audio/x-wav;base64,${wavSample({ sampleRate: 48000 }).toString('base64')}` });
    clone().receive({ payload: mp3Sample() });
    clone().receive({ payload: 'https://example.com/me.wav' });
    const msgs = await out;
    assert.equal(new Set(msgs.map((m) => m.voice)).size, 4);
    assert.deepEqual(
      sim.uploads.objects().map((o) => o.key.slice(o.key.lastIndexOf('/') + 1)),
      ['sample.wav', 'sample.wav', 'sample.mp3'],
      'named by the sniffed format',
    );
    assert.equal(sim.voices.get(msgs[3]?.voice as string)?.url, 'https://example.com/me.wav');
  });

  it('clones a Qwen voice from the bytes as a data URI (no upload, no polling), and qwen-realtime speaks with it', async () => {
    await start({ family: 'qwen', voiceName: 'my_voice', languageHints: 'en' });
    const out = nextMessages<VoiceMsg>(node('out'), 1);
    const joined = nextMessages<AudioMsg>(node('joined'), 1);
    clone().receive({ payload: wavSample({ sampleRate: 24000, seconds: 10 }), text: 'What I said in the recording.' });
    const [msg] = await out;
    assert.match(msg?.voice ?? '', /^qwen-tts-vc-my_voice-voice-\d{17}-[0-9a-f]{4}$/);
    assert.equal(msg?.model, 'qwen3-tts-vc-realtime-2026-01-15');
    assert.equal(sim.voices.get(msg?.voice as string)?.language, 'en');
    assert.equal(sim.uploads.objects().length, 0);
    assert.equal(sim.stats.httpRequests, 1, 'one create, nothing else');
    const [audio] = await joined;
    assert.ok(audio?.payload.equals(expectedAudio({ text: SPOKEN, voice: msg?.voice as string, sampleRate: 24000, service: 'qwen', qwenMode: 'commit' })));
  });

  it('reports a voice used with another model clearly: VoiceModelMismatch for CosyVoice, the service error for Qwen', async () => {
    await start({}, {}, { model: 'cosyvoice-v2' });
    const caught = nextMessages<VoiceMsg>(node('caught'), 1);
    clone().receive({ payload: wavSample({ sampleRate: 16000 }) });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'VoiceModelMismatch');
    assert.match(err?.error?.message ?? '', /was created for cosyvoice-v3-flash and cannot speak with cosyvoice-v2/);
    await helper.unload();
    await sim.close();

    await start({ family: 'qwen' }, {}, { model: 'qwen3-tts-vc-realtime-2025-11-27' });
    const caughtQwen = nextMessages<VoiceMsg>(node('caught'), 1);
    clone().receive({ payload: wavSample() });
    const [qerr] = await caughtQwen;
    assert.equal(qerr?.error?.code, 'invalid_value');
    assert.match(qerr?.error?.message ?? '', /The requested voice 'qwen-tts-vc-myvoice-voice-.*' is not supported/);
  });

  for (const family of ['cosyvoice', 'qwen'] as const) {
    it(`${family}: list, query and delete by msg.action (Action "from msg.action"); a deleted voice is gone`, async () => {
      await start({ family, action: 'msg', wires: [['out']] });
      const created = nextMessages<VoiceMsg>(node('out'), 1);
      clone().receive({ action: 'create', payload: wavSample({ sampleRate: 24000 }) });
      const [made] = await created;
      const id = made?.voice as string;
      // A designed voice on the same service must not show up in the clone list.
      if (family === 'cosyvoice') sim.voices.add({ service: 'voice-enrollment', kind: 'design', targetModel: 'cosyvoice-v3-flash', status: 'OK' });

      const answers = nextMessages<VoiceMsg>(node('out'), 3);
      clone().receive({ action: 'list', topic: 'mine' });
      clone().receive({ action: 'query', voice: id });
      clone().receive({ action: 'delete', payload: id });
      const [list, query, del] = await answers;
      const voices = list?.payload as CustomVoice[];
      assert.deepEqual(voices.map((v) => [v.voice, v.kind, v.targetModel, v.status]), [[id, 'clone', made?.model, 'OK']]);
      assert.deepEqual([list?.action, list?.topic], ['list', 'mine'], 'msg.action travels, so a switch node can route answers');
      assert.deepEqual([(query?.payload as CustomVoice).voice, query?.voice, query?.model], [id, id, made?.model]);
      assert.deepEqual(del?.payload, { voice: id, deleted: true });
      assert.equal(sim.voices.get(id), undefined);

      const caught = nextMessages<VoiceMsg>(node('caught'), 1);
      clone().receive({ action: 'query', voice: id });
      const [err] = await caught;
      assert.equal(err?.error?.code, family === 'cosyvoice' ? 'BadRequest.ResourceNotExist' : 'VoiceNotFound');
    });
  }

  it('CosyVoice update: a new sample, uploaded, and the voice deploys again; Qwen has no update', async () => {
    await start({ action: 'msg', wires: [['out']] }, { customization: { deployMs: 100 } });
    const created = nextMessages<VoiceMsg>(node('out'), 1);
    clone().receive({ action: 'create', payload: wavSample({ sampleRate: 16000 }) });
    const id = (await created)[0]?.voice as string;
    assert.equal(sim.voices.get(id)?.status, 'OK');
    const answer = nextMessages<VoiceMsg>(node('out'), 1);
    clone().receive({ action: 'update', voice: id, payload: wavSample({ sampleRate: 22050, seconds: 15 }) });
    const [updated] = await answer;
    assert.deepEqual([updated?.payload, updated?.customVoice?.status], [id, 'OK']);
    assert.equal(sim.uploads.objects().length, 2);
    assert.equal(sim.voices.get(id)?.url, `oss://${sim.uploads.objects()[1]?.key}`);
    assert.ok(statuses().some((s) => /^deploying/.test(s.text ?? '')));
    await helper.unload();
    await sim.close();

    await start({ family: 'qwen', action: 'update' });
    const caught = nextMessages<VoiceMsg>(node('caught'), 1);
    clone().receive({ voice: 'qwen-tts-vc-x', payload: wavSample() });
    assert.match((await caught)[0]?.error?.message ?? '', /no update: delete the voice and create it again/);
  });

  it('refuses bad samples before any request reaches the service: too long, too big, wrong format, too low a rate, empty', async () => {
    await start();
    const cases: [unknown, RegExp][] = [
      [wavSample({ sampleRate: 16000, seconds: 75 }), /75\.0 s long; the limit is 60 s/],
      [Buffer.concat([mp3Sample(), Buffer.alloc(11 * 1024 * 1024)]), /the sample is 11\.0 MB; the limit is 10\.0 MB/],
      [oggSample(), /Ogg .*WAV \(16-bit\), MP3 or M4A/],
      [file('phone.wav', wavSample({ sampleRate: 8000 })), /8000 Hz; CosyVoice cloning needs at least 16000 Hz/],
      [Buffer.alloc(0), /empty/],
      [file('empty.wav', Buffer.alloc(0)), /empty/],
    ];
    const caught = nextMessages<VoiceMsg>(node('caught'), cases.length + 3);
    for (const [payload] of cases) clone().receive({ payload });
    clone().receive({ payload: join(dir, 'missing.wav') });
    clone().receive({ payload: 42 });
    clone().receive({ payload: 'data:audio/wav,not-base64' });
    const errs = await caught;
    cases.forEach(([, message], i) => {
      assert.equal(errs[i]?.error?.code, 'InvalidSample', `case ${i}`);
      assert.match(errs[i]?.error?.message ?? '', message);
    });
    assert.equal(errs[cases.length]?.error?.message, REFUSED, 'a missing file: the one refusal, nothing about why');
    assert.match(errs[cases.length + 1]?.error?.message ?? '', /msg\.payload must be the voice sample.*got number/);
    assert.match(errs[cases.length + 2]?.error?.message ?? '', /base64/);
    assert.equal(sim.stats.httpRequests, 0, 'no request reached the simulator');
    assert.equal(sim.uploads.objects().length, 0);
    const last = statuses()[statuses().length - 1];
    assert.equal(last?.fill, 'red');
  });

  it('refuses a stereo or 16 kHz sample for Qwen before sending it', async () => {
    await start({ family: 'qwen' });
    const caught = nextMessages<VoiceMsg>(node('caught'), 2);
    clone().receive({ payload: wavSample({ channels: 2 }) });
    clone().receive({ payload: wavSample({ sampleRate: 16000 }) });
    const errs = await caught;
    assert.match(errs[0]?.error?.message ?? '', /Qwen cloning takes mono only/);
    assert.match(errs[1]?.error?.message ?? '', /at least 24000 Hz/);
    assert.equal(sim.stats.httpRequests, 0);
    const last = statuses()[statuses().length - 1];
    assert.deepEqual([last?.fill, last?.text], ['red', 'the sample rate is 16000 Hz; Qwen cloning needs at least ...'], 'the reason, not the preamble');
  });

  it('a rejected voice (UNDEPLOYED) and one that takes too long are clear errors', async () => {
    const bad = 'https://example.com/music.wav';
    await start({ pollTimeout: '0.3' }, { customization: { deployMs: 60, urlFailures: { [bad]: 'undeployed' } } });
    const caught = nextMessages<VoiceMsg>(node('caught'), 1);
    clone().receive({ payload: bad });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'VoiceUndeployed');
    assert.match(err?.error?.message ?? '', /rejected voice .* \(status UNDEPLOYED\)/);
    await helper.unload();
    await sim.close();

    await start({ pollTimeout: '' }, { customization: { deployMs: 60_000 } });
    const late = nextMessages<VoiceMsg>(node('caught'), 1);
    clone().receive({ payload: 'https://example.com/me.wav', pollTimeout: 0.2 });
    const [timeout] = await late;
    assert.equal(timeout?.error?.code, 'DeployTimeout');
    assert.match(timeout?.error?.message ?? '', /still DEPLOYING after/);
  });

  it('a full voice quota reaches catch with the service code and a plain explanation', async () => {
    await start({ family: 'qwen' }, { customization: { quota: 1 } });
    const out = nextMessages<VoiceMsg>(node('out'), 1);
    const caught = nextMessages<VoiceMsg>(node('caught'), 1);
    clone().receive({ payload: wavSample() });
    await out;
    clone().receive({ payload: wavSample(), topic: 'second' });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'Throttling.AllocationQuota');
    assert.match(err?.error?.message ?? '', /voice quota reached/);
    assert.equal(err?.topic, 'second');
    const last = statuses()[statuses().length - 1];
    assert.equal(last?.fill, 'red');
    assert.match(last?.text ?? '', /^Throttling\.AllocationQuota: voice quota reached/);
  });

  it('does nothing on deploy; settings it cannot use are shown at once', async () => {
    await start({ voiceName: 'Not-Valid' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(sim.stats.httpRequests, 0, 'no request at deploy');
    const first = statuses()[0];
    assert.equal(first?.fill, 'red');
    assert.match(first?.text ?? '', /voice name "Not-Valid" is not valid/);
    const caught = nextMessages<VoiceMsg>(node('caught'), 1);
    clone().receive({ payload: wavSample({ sampleRate: 16000 }) });
    assert.equal((await caught)[0]?.error?.code, 'InvalidSetting');
    assert.equal(sim.stats.httpRequests, 0);
  });

  it('handles messages one at a time, in order', async () => {
    await start({ family: 'qwen', voiceName: '', wires: [['out']] });
    const out = nextMessages<VoiceMsg>(node('out'), 3);
    for (const name of ['first', 'second', 'third']) clone().receive({ payload: wavSample(), voiceName: name });
    const names = (await out).map((m) => /^qwen-tts-vc-(\w+?)-voice-/.exec(m.voice ?? '')?.[1]);
    assert.deepEqual(names, ['first', 'second', 'third']);
  });

  it('stops polling when the flow is stopped', async () => {
    await start({}, { customization: { deployMs: 60_000 } });
    clone().receive({ payload: 'https://example.com/me.wav' });
    await waitFor(() => statuses().some((s) => /^deploying/.test(s.text ?? '')), 2000, 'deploying');
    await helper.unload();
    // A query already on the wire when the node closed may still land; none may start afterwards.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const requests = sim.stats.httpRequests;
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(sim.stats.httpRequests, requests, 'no query after the node closed');
  });

  it('keeps the API key out of messages, errors, logs, status and the config node', async () => {
    const secret = 'sk-this-must-never-leak-0123456789';
    await start({}, {}, {}, secret);
    const caught = nextMessages<VoiceMsg>(node('caught'), 1);
    clone().receive({ payload: wavSample({ sampleRate: 16000 }) });
    const [err] = await caught;
    assert.equal(err?.error?.code, 'InvalidApiKey');
    const config = helper.getNode('cfg') as TtsConfigNode;
    assert.ok(config.http, 'the accessor is there for the voice nodes');
    assert.ok(!Object.keys(config).includes('http'), 'but not enumerable');
    const everything = JSON.stringify([err, helper.log().args, statuses(), Object.keys(config)]);
    assert.ok(everything.includes('invalid API key'));
    assert.ok(!everything.includes(secret), 'the API key leaked');
  });

  describe('local sample files: only from ttsVoiceSampleFolder', () => {
    let outside: string;
    beforeEach(() => {
      // A valid sample the node must never read: it lies next to the sample folder, not in it.
      outside = mkdtempSync(join(tmpdir(), 'voice-clone-outside-'));
      writeFileSync(join(outside, 'secret.wav'), wavSample({ sampleRate: 24000 }));
    });
    afterEach(() => {
      rmSync(outside, { recursive: true, force: true });
    });

    it('reads a file inside the folder: a relative name or a symlink within it (CosyVoice), an absolute path or file:// URL (Qwen, folder named through a symlink)', async () => {
      await start({ wires: [['out']] });
      const sample = wavSample({ sampleRate: 16000, seconds: 8 });
      file('kitchen recording.wav', sample);
      mkdirSync(join(dir, 'takes'));
      symlinkSync(join(dir, 'kitchen recording.wav'), join(dir, 'takes', 'best.wav'));
      const out = nextMessages<VoiceMsg>(node('out'), 2);
      clone().receive({ payload: 'kitchen recording.wav' });
      clone().receive({ payload: 'takes/best.wav' });
      const made = await out;
      assert.equal(made.length, 2);
      assert.deepEqual(
        sim.uploads.objects().map((o) => [o.key.slice(o.key.lastIndexOf('/') + 1), o.bytes.equals(sample)]),
        [['kitchen_recording.wav', true], ['best.wav', true]],
      );
      await helper.unload();
      await sim.close();

      const link = join(outside, 'samples-link');
      symlinkSync(dir, link);
      helper.settings({ ttsVoiceSampleFolder: link } as Record<string, unknown>);
      await start({ family: 'qwen', wires: [['out']] });
      const qwenSample = file('me.wav', wavSample({ sampleRate: 24000, seconds: 6 }));
      const qwenOut = nextMessages<VoiceMsg>(node('out'), 2);
      clone().receive({ payload: qwenSample });
      clone().receive({ payload: pathToFileURL(join(link, 'me.wav')).href });
      const qwenMade = await qwenOut;
      for (const m of qwenMade) assert.match(m.voice ?? '', /^qwen-tts-vc-myvoice-voice-/);
      assert.equal(sim.stats.httpRequests, 2, 'two creations');
    });

    it('refuses every other path with the one message: outside, ../, symlinks out, missing, a directory, a FIFO, too large; nothing is sent and the node goes on', async () => {
      // Both families have a file limit; the smallest makes the cheapest oversized file.
      const family = maxSampleFileBytes('qwen') < maxSampleFileBytes('cosyvoice') ? 'qwen' : 'cosyvoice';
      const limit = maxSampleFileBytes(family);
      await start({ family, wires: [['out']] });
      symlinkSync(join(outside, 'secret.wav'), join(dir, 'link.wav'));
      symlinkSync(outside, join(dir, 'linked-dir'));
      symlinkSync('/dev/zero', join(dir, 'zero.wav'));
      mkdirSync(join(dir, 'folder.wav'));
      const fifo = spawnSync('mkfifo', [join(dir, 'pipe.wav')]);
      assert.equal(fifo.status, 0, `mkfifo: ${String(fifo.stderr)}`);
      // A sparse file one byte over the limit that starts like a good WAV: only its size is wrong.
      const big = file('big.wav', wavSample({ sampleRate: 24000 }));
      truncateSync(big, limit + 1);
      const paths = [
        join(outside, 'secret.wav'),
        `../${basename(outside)}/secret.wav`,
        `takes/../../${basename(outside)}/secret.wav`,
        pathToFileURL(join(outside, 'secret.wav')).href,
        'link.wav',
        'linked-dir/secret.wav',
        'zero.wav',
        'missing.wav',
        'folder.wav',
        '.',
        'pipe.wav',
        'big.wav',
      ];
      const errs = collect<VoiceMsg>(node('caught'));
      const accepted = collect<VoiceMsg>(node('out'));
      for (const payload of paths) clone().receive({ payload, topic: payload });
      await waitFor(() => errs.length + accepted.length === paths.length, 5000, 'an answer to every path');
      assert.deepEqual(accepted.map((m) => m.topic), [], 'no path was used');
      assert.deepEqual(
        errs.map((e) => [e.payload, e.error?.code, e.error?.message]),
        paths.map((p) => [p, 'InvalidInput', REFUSED]),
        'one code and one text, whatever the reason',
      );
      assert.match(SAMPLE_FILE_REFUSED, /^cannot use this file as a sample/);
      assert.equal(sim.stats.httpRequests, 0, 'no upload, no creation');
      assert.equal(sim.uploads.objects().length, 0);
      const told = JSON.stringify([errs.map((e) => e.error), statuses()]);
      for (const secret of [outside, dir, 'secret', 'pipe', 'ENOENT', 'regular']) assert.ok(!told.includes(secret), `the error or status tells "${secret}"`);

      // Why, and which path, are in the debug log only.
      const details = said('debug').join('\n');
      assert.match(details, /secret\.wav.*outside ttsVoiceSampleFolder/);
      assert.match(details, /missing\.wav.*ENOENT/);
      assert.match(details, /pipe\.wav" is not a regular file/);
      assert.match(details, /folder\.wav" is not a regular file/);
      assert.match(details, new RegExp(`big\\.wav" is ${limit + 1} bytes; the limit is ${limit}`));

      const out = nextMessages<VoiceMsg>(node('out'), 1);
      clone().receive({ payload: file('good.wav', wavSample({ sampleRate: 24000 })) });
      assert.ok((await out)[0]?.voice, 'the next good sample is cloned');
      assert.equal(statuses()[statuses().length - 1]?.fill, 'green');
    });

    it('refuses /proc/self/pagemap (size 0, endless) having read at most the limit + 1 bytes', async () => {
      helper.settings({ ttsVoiceSampleFolder: '/proc/self' } as Record<string, unknown>);
      const limit = maxSampleFileBytes('qwen');
      await start({ family: 'qwen' });
      // Every byte any thread of this process read() is counted here.
      const bytesRead = (): number => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
      const before = bytesRead();
      const caught = nextMessages<VoiceMsg>(node('caught'), 1);
      clone().receive({ payload: 'pagemap' });
      const [err] = await caught;
      const read = bytesRead() - before;
      assert.equal(err?.error?.message, REFUSED);
      assert.ok(read <= limit + 1 + 256 * 1024, `read ${read} bytes; the limit is ${limit}`);
      assert.match(said('debug').join('\n'), /pagemap/);
      assert.equal(sim.stats.httpRequests, 0);
    });

    it('with no ttsVoiceSampleFolder every path is refused the same way, and Buffers and URLs still work', async () => {
      helper.settings({});
      await start({ wires: [['out']] });
      const caught = nextMessages<VoiceMsg>(node('caught'), 2);
      clone().receive({ payload: file('mine.wav', wavSample({ sampleRate: 16000 })) });
      clone().receive({ payload: 'mine.wav' });
      const errs = await caught;
      assert.deepEqual(errs.map((e) => e.error?.message), [REFUSED, REFUSED]);
      assert.match(SAMPLE_FILE_REFUSED, /ttsVoiceSampleFolder in settings\.js/, 'says where local files may come from');
      assert.match(said('debug').join('\n'), /ttsVoiceSampleFolder is not set/);
      assert.equal(sim.stats.httpRequests, 0);

      const out = nextMessages<VoiceMsg>(node('out'), 2);
      clone().receive({ payload: wavSample({ sampleRate: 16000 }) });
      clone().receive({ payload: 'https://example.com/me.wav' });
      assert.equal((await out).length, 2);
    });
  });

  describe('msg.action only when the Action is "from msg.action"', () => {
    it('a node set to create ignores msg.action "delete" and "list" (warning once) and creates; nothing is listed or deleted', async () => {
      await start({ family: 'qwen', wires: [['out']] });
      const kept = sim.voices.add({ service: 'qwen-voice-enrollment', targetModel: 'qwen3-tts-vc-realtime-2026-01-15', name: 'keep' });
      const out = nextMessages<VoiceMsg>(node('out'), 2);
      clone().receive({ action: 'delete', voice: kept.id, payload: wavSample() });
      clone().receive({ action: 'list', payload: wavSample() });
      const made = await out;
      assert.deepEqual(made.map((m) => [/^qwen-tts-vc-myvoice-/.test(m.voice ?? ''), m.action]), [[true, 'create'], [true, 'create']], 'created; msg.action says what was done');
      // The create's own check refuses a message with no sample, whatever msg.action said.
      const caught = nextMessages<VoiceMsg>(node('caught'), 1);
      clone().receive({ action: 'delete', voice: kept.id });
      assert.match((await caught)[0]?.error?.message ?? '', /msg\.payload must be the voice sample/);
      assert.ok(sim.voices.get(kept.id), 'the voice msg.action named is still there');
      assert.equal(sim.voices.count('qwen-voice-enrollment'), 3);
      assert.equal(sim.stats.httpRequests, 2, 'two creations, no list, no delete');
      const warnings = said('warn');
      assert.equal(warnings.length, 1, warnings.join(' | '));
      assert.match(warnings[0] ?? '', /msg\.action "delete" was ignored: this node always does "create"\. To let messages choose the action, set the node's Action to "from msg.action"/);
    });

    it('Action "from msg.action": msg.action "list" lists; none or an unknown one is an error to catch, and the next message works', async () => {
      await start({ family: 'qwen', action: 'msg', wires: [['out']] });
      assert.notEqual(statuses()[0]?.fill, 'red', '"msg" is a valid Action at deploy');
      const caught = nextMessages<VoiceMsg>(node('caught'), 2);
      clone().receive({ payload: wavSample() });
      clone().receive({ action: 'erase', voice: 'x' });
      const errs = await caught;
      assert.deepEqual(errs.map((e) => e.error?.code), ['InvalidInput', 'InvalidInput']);
      assert.match(errs[0]?.error?.message ?? '', /takes its action from the message: set msg\.action to one of create, list, query, update, delete/);
      assert.match(errs[1]?.error?.message ?? '', /msg\.action must be one of .* \(got "erase"\)/);
      assert.equal(sim.stats.httpRequests, 0);
      const out = nextMessages<VoiceMsg>(node('out'), 1);
      clone().receive({ action: 'list' });
      assert.deepEqual((await out)[0]?.payload, []);
      assert.equal(sim.stats.httpRequests, 1);
      assert.deepEqual(said('warn'), []);
    });

    it('flows from before keep working: a blank Action creates, and a "list" node takes msg.action "list" (as the example sends it) without a warning', async () => {
      await start({ family: 'qwen', action: '', wires: [['out']] });
      const created = nextMessages<VoiceMsg>(node('out'), 1);
      clone().receive({ payload: wavSample() });
      assert.match((await created)[0]?.voice ?? '', /^qwen-tts-vc-myvoice-/);
      await helper.unload();
      await sim.close();

      await start({ family: 'qwen', action: 'list', wires: [['out']] });
      const listed = nextMessages<VoiceMsg>(node('out'), 1);
      clone().receive({ action: 'list', topic: 'mine' });
      assert.deepEqual([(await listed)[0]?.payload, (await listed)[0]?.action], [[], 'list']);
      assert.deepEqual(said('warn'), []);
    });
  });

  it('the editor defines exactly the properties the runtime reads, validates them per family, and has help', () => {
    const { definition: d, help } = editorDefinition('voice-clone');
    assert.deepEqual([d.category, d.color, d.icon, d.inputs, d.outputs], ['DashScope TTS', '#A6BBCF', 'dashscope-clone.svg', 1, 1]);
    assert.deepEqual(Object.keys(d.defaults).sort(), ['action', 'config', 'family', 'languageHints', 'name', 'pollInterval', 'pollTimeout', 'targetModel', 'voiceName']);
    assert.equal(d.defaults.config?.type, 'tts-config');
    const valid = (prop: string, value: unknown, family: string): boolean => d.defaults[prop]?.validate?.call({ family }, value) ?? true;
    assert.ok(valid('voiceName', 'myvoice', 'cosyvoice'));
    assert.ok(!valid('voiceName', 'My_Voice', 'cosyvoice'), 'CosyVoice prefixes are lowercase letters and digits');
    assert.ok(valid('voiceName', 'My_Voice', 'qwen'));
    assert.ok(valid('targetModel', 'qwen3-tts-vc-realtime-2026-01-15', 'qwen'));
    assert.ok(!valid('targetModel', 'qwen3-tts-flash-realtime', 'qwen'), 'system-voice models take no clones');
    assert.ok(!valid('action', 'erase', 'qwen'));
    assert.ok(valid('action', 'msg', 'qwen'), '"from msg.action" is an Action');
    assert.match(help, /<script type="text\/html" data-help-name="voice-clone">[\s\S]*<h3>Inputs<\/h3>[\s\S]*<h3>Outputs<\/h3>[\s\S]*<h3>Details<\/h3>/);
  });
});
