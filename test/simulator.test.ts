/**
 * Proves the simulator speaks the protocols of docs/protocol.md exactly, using raw `ws`/HTTP
 * clients (never the project's own protocol clients).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { DashScopeSimulator, type SimulatorOptions } from './simulator';
import {
  COSYVOICE_TERMINATORS,
  QWEN_TERMINATORS,
  encodeAudio,
  expectedAudio,
  sentencePcm,
  splitSentences,
  wavHeader,
} from './simulator/audio';
import { RawClient, postJson, type RawFrame } from './simulator/raw-client';
import { billedCharacters, stripSsmlTags } from './simulator/text-count';
import { wavSample } from './support/voice-samples';

const KEY = 'sk-test-key';

interface CosyEvent {
  header: { event: string; task_id: string; error_code?: string; error_message?: string; attributes: Record<string, string> };
  payload: {
    output?: { type?: string; original_text?: string; sentence?: { index?: number; words: Array<Record<string, unknown>> } };
    usage?: { characters: number };
  };
}

interface QwenEvent {
  type: string;
  event_id: string;
  session?: Record<string, unknown>;
  response?: { id: string; status: string; usage?: Record<string, number>; output: Array<{ id: string }> };
  response_id?: string;
  item_id?: string;
  item?: { id: string };
  delta?: string;
  error?: { code: string; message: string };
}

const cev = (f: RawFrame): CosyEvent => f.json as unknown as CosyEvent;
const qev = (f: RawFrame): QwenEvent => f.json as unknown as QwenEvent;
const isCosy = (event: string) => (f: RawFrame): boolean => !f.binary && cev(f)?.header?.event === event;
const isQwen = (type: string) => (f: RawFrame): boolean => !f.binary && qev(f)?.type === type;

let sim: DashScopeSimulator | undefined;
const clients: RawClient[] = [];

async function start(opts: SimulatorOptions = {}): Promise<DashScopeSimulator> {
  sim = await DashScopeSimulator.start(opts);
  return sim;
}

function s(): DashScopeSimulator {
  assert.ok(sim, 'simulator started');
  return sim;
}

const wsBase = (): string => s().baseUrl.replace(/^http/, 'ws');
const cosyUrl = (): string => `${wsBase()}/api-ws/v1/inference`;
const qwenUrl = (model?: string): string => `${wsBase()}/api-ws/v1/realtime${model ? `?model=${encodeURIComponent(model)}` : ''}`;
const customizationUrl = (): string => `${s().baseUrl}/api/v1/services/audio/tts/customization`;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function connect(url: string, headers?: Record<string, string>): Promise<RawClient> {
  const c = await RawClient.open(url, headers);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await sim?.close();
  sim = undefined;
});

// ---------------------------------------------------------------- CosyVoice message builders

type Params = Record<string, unknown>;
const POEM_PARAMS: Params = {
  text_type: 'PlainText',
  voice: 'longanyang',
  format: 'pcm',
  sample_rate: 22050,
  volume: 50,
  rate: 1.0,
  pitch: 1.0,
  word_timestamp_enabled: true,
};

function runTask(taskId: string, params: Params = POEM_PARAMS, model = 'cosyvoice-v3-flash', extra: Params = {}): object {
  return {
    header: { action: 'run-task', task_id: taskId, streaming: 'duplex' },
    payload: { task_group: 'audio', task: 'tts', function: 'SpeechSynthesizer', model, parameters: params, input: {}, ...extra },
  };
}
function continueTask(taskId: string, text: string, input: Params = {}, payloadExtra: Params = {}): object {
  return { header: { action: 'continue-task', task_id: taskId, streaming: 'duplex' }, payload: { input: { text, ...input }, ...payloadExtra } };
}
function finishTask(taskId: string, input: Params = {}): object {
  return { header: { action: 'finish-task', task_id: taskId, streaming: 'duplex' }, payload: { input } };
}

/** Starts a task and waits for task-started. */
async function started(c: RawClient, taskId: string, params: Params = POEM_PARAMS, model?: string): Promise<void> {
  c.send(runTask(taskId, params, model));
  await c.next(isCosy('task-started'));
}

/** Collects everything up to task-finished. */
async function untilFinished(c: RawClient): Promise<{ events: CosyEvent[]; audio: Buffer; binaries: Buffer[]; order: string[] }> {
  const events: CosyEvent[] = [];
  const binaries: Buffer[] = [];
  const order: string[] = [];
  for (;;) {
    const f = await c.next();
    if (f.binary && f.data) {
      binaries.push(f.data);
      order.push('#');
      continue;
    }
    const e = cev(f);
    events.push(e);
    order.push(e.header.event === 'result-generated' ? String(e.payload.output?.type) : e.header.event);
    if (e.header.event === 'task-finished') return { events, audio: Buffer.concat(binaries), binaries, order };
    if (e.header.event === 'task-failed') throw new Error(`task failed: ${e.header.error_message}`);
  }
}

async function expectTaskFailed(c: RawClient, message: string | RegExp, code?: string): Promise<CosyEvent> {
  const e = cev(await c.next(isCosy('task-failed')));
  if (typeof message === 'string') assert.equal(e.header.error_message, message);
  else assert.match(e.header.error_message ?? '', message);
  if (code) assert.equal(e.header.error_code, code);
  assert.deepEqual(e.payload, {}, 'task-failed still carries a payload object');
  const closed = await c.closed;
  assert.equal(closed.code, 1000, 'the server closes the connection after task-failed');
  return e;
}

// ---------------------------------------------------------------- Qwen helpers

async function qwenSession(model: string, session?: Params): Promise<RawClient> {
  const c = await connect(qwenUrl(model));
  await c.next(isQwen('session.created'));
  if (session) {
    c.send({ event_id: 'event_update', type: 'session.update', session });
    await c.next(isQwen('session.updated'));
  }
  return c;
}

async function qwenResponse(c: RawClient): Promise<{ types: string[]; audio: Buffer; done: QwenEvent; events: QwenEvent[] }> {
  const events: QwenEvent[] = [];
  const chunks: Buffer[] = [];
  await c.next(isQwen('response.created')).then((f) => events.push(qev(f)));
  for (;;) {
    const e = qev(await c.next());
    events.push(e);
    if (e.type === 'response.audio.delta') chunks.push(Buffer.from(e.delta ?? '', 'base64'));
    if (e.type === 'response.done') return { types: events.map((x) => x.type), audio: Buffer.concat(chunks), done: e, events };
  }
}

const RESPONSE_SEQUENCE = [
  'response.created',
  'response.output_item.added',
  'response.content_part.added',
  'response.audio.delta',
  'response.audio.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.done',
];
const collapseDeltas = (types: string[]): string[] => types.filter((t, i) => t !== 'response.audio.delta' || types[i - 1] !== t);

// ================================================================= tests

describe('simulator: deterministic audio', () => {
  it('splits after terminators, independent of fragmentation', () => {
    assert.deepEqual(splitSentences('床前明月光，疑是', COSYVOICE_TERMINATORS), { sentences: ['床前明月光，'], rest: '疑是' });
    const text = 'Right? I love supermarkets like this. Especially during Chinese New Year, I go shopping.\nDone';
    const whole = splitSentences(text, QWEN_TERMINATORS);
    assert.deepEqual(whole.sentences, ['Right?', ' I love supermarkets like this.', ' Especially during Chinese New Year, I go shopping.', '\n']);
    assert.equal(whole.rest, 'Done');
    // Feeding the same text in 50 fragments into an accumulating buffer gives the same sentences.
    const pieces: string[] = [];
    let buffer = '';
    const size = Math.ceil(text.length / 50);
    for (let i = 0; i < text.length; i += size) {
      const r = splitSentences(buffer + text.slice(i, i + size), QWEN_TERMINATORS);
      pieces.push(...r.sentences);
      buffer = r.rest;
    }
    assert.deepEqual(pieces, whole.sentences);
    assert.equal(buffer, whole.rest);
  });

  it('sentencePcm is a pure 60 ms-per-character chirp around 0.3 full scale, voice dependent', () => {
    const a = sentencePcm('Hi 你好', 'longanyang', 22050);
    assert.equal(a.length, 5 * Math.round(0.06 * 22050) * 2);
    assert.ok(a.equals(sentencePcm('Hi 你好', 'longanyang', 22050)), 'pure');
    assert.ok(!a.equals(sentencePcm('Hi 你好', 'Cherry', 22050)), 'the voice changes the pitch');
    let peak = 0;
    for (let i = 0; i < a.length; i += 2) peak = Math.max(peak, Math.abs(a.readInt16LE(i)));
    assert.ok(peak > 0.2 * 32767 && peak <= 0.3 * 32767 + 1, `peak ${peak}`);
    assert.ok(Math.abs(a.readInt16LE(0)) < 0.01 * 32767, 'each character fades in');
  });

  it('encodes wav with a streaming header on the first frame only; mp3/opus placeholders are marked', () => {
    const pcm = sentencePcm('a', 'v', 16000);
    const first = encodeAudio(pcm, 'wav', 16000, true);
    assert.equal(first.length, pcm.length + 44);
    assert.equal(first.toString('ascii', 0, 4), 'RIFF');
    assert.equal(first.readUInt32LE(4), 0xffffffff);
    assert.equal(first.readUInt32LE(40), 0xffffffff);
    assert.equal(first.readUInt32LE(24), 16000);
    assert.ok(wavHeader(16000).equals(first.subarray(0, 44)));
    assert.ok(encodeAudio(pcm, 'wav', 16000, false).equals(pcm));
    assert.equal(encodeAudio(pcm, 'mp3', 16000, true).toString('ascii', 0, 3), 'ID3');
    assert.equal(encodeAudio(pcm, 'opus', 16000, true).toString('ascii', 0, 4), 'OggS');
    assert.notEqual(encodeAudio(pcm, 'mp3', 16000, false).toString('ascii', 0, 3), 'ID3');
  });

  it('counts billed characters by the README §4 rule', () => {
    assert.equal(billedCharacters('你好'), 4);
    assert.equal(billedCharacters('中A文123'), 8);
    assert.equal(billedCharacters('中 文。'), 6);
    assert.equal(billedCharacters(stripSsmlTags('<speak>你好</speak>')), 4);
  });
});

describe('simulator: CosyVoice', () => {
  it('reproduces the one-task transcript of cosyvoice.md §9', async () => {
    await start();
    const c = await connect(cosyUrl());
    const id = '5e1f0a3c9b7d4e2f8a6b0c1d2e3f4a5b';
    c.send(runTask(id));
    const startedEv = cev(await c.next());
    assert.deepEqual(startedEv, { header: { task_id: id, event: 'task-started', attributes: {} }, payload: {} });
    c.send(continueTask(id, '床前明月光，疑是'));
    // Sentence 0 completes with the first fragment; it is produced before any more text arrives.
    const end0 = cev(await c.next((f) => !f.binary && cev(f).payload.output?.type === 'sentence-end'));
    assert.equal(end0.payload.output?.original_text, '床前明月光，');
    assert.equal(end0.payload.usage?.characters, 11);
    c.send(continueTask(id, '地上霜。'));
    c.send(finishTask(id));
    const rest = await untilFinished(c);

    const all = c.frames;
    const order = all.map((f) => (f.binary ? '#' : cev(f).header.event === 'result-generated' ? String(cev(f).payload.output?.type) : cev(f).header.event));
    const compact = order.join(' ').replace(/(sentence-synthesis # ?)+/g, 'S+ ').trim();
    assert.equal(compact, 'task-started sentence-begin S+ sentence-end sentence-begin S+ sentence-end task-finished');
    // Every sentence-synthesis is followed immediately by exactly one binary frame.
    order.forEach((o, i) => {
      if (o === 'sentence-synthesis') assert.equal(order[i + 1], '#');
      if (o === '#') assert.equal(order[i - 1], 'sentence-synthesis');
    });
    const texts = rest.events.filter((e) => e.payload.output?.type === 'sentence-begin').map((e) => e.payload.output?.original_text);
    assert.deepEqual(texts, ['疑是地上霜。']);
    const ends = all.filter((f) => !f.binary && cev(f).payload.output?.type === 'sentence-end').map(cev);
    assert.deepEqual(ends.map((e) => [e.payload.output?.sentence?.index, e.payload.usage?.characters]), [[0, 11], [1, 22]]);
    assert.deepEqual(ends[0]?.payload.output?.sentence?.words[0], { text: '床', begin_index: 0, end_index: 1, begin_time: 0, end_time: 60 });
    assert.equal(ends[0]?.payload.output?.sentence?.words.length, 6);
    const finished = rest.events[rest.events.length - 1];
    assert.match(finished?.header.attributes.request_uuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    assert.equal(finished?.payload.usage?.characters, 22);

    const binaries = all.filter((f) => f.binary).map((f) => f.data as Buffer);
    assert.equal(binaries[0]?.length, 4410, '100 ms of PCM16 at 22050 Hz');
    const audio = Buffer.concat(binaries);
    assert.ok(audio.equals(expectedAudio({ text: '床前明月光，疑是地上霜。', voice: 'longanyang', sampleRate: 22050 })));
    assert.ok(c.isOpen, 'the socket stays open after task-finished');

    const t = s().transcripts[0];
    assert.equal(t?.service, 'cosyvoice');
    assert.equal(t?.headers.authorization, `Bearer ${KEY}`);
    assert.equal(t?.entries.filter((e) => e.dir === 'C').length, 4);
    assert.equal(s().stats.tasks.started, 1);
    assert.equal(s().stats.tasks.finished, 1);
  });

  it('reuses the socket for a new task id and rejects a reused one', async () => {
    await start();
    const c = await connect(cosyUrl());
    for (const id of ['task-a', 'task-b']) {
      await started(c, id, { ...POEM_PARAMS, word_timestamp_enabled: false });
      c.send(continueTask(id, 'Hello there.'));
      c.send(finishTask(id));
      const r = await untilFinished(c);
      assert.ok(r.audio.equals(expectedAudio({ text: 'Hello there.', voice: 'longanyang', sampleRate: 22050 })));
    }
    c.send(runTask('task-a'));
    await expectTaskFailed(c, /Duplicate task_id/);
  });

  it('maps format "Default" / sample_rate 0 to mp3 at 22050 and puts the header in the first frame only', async () => {
    await start();
    const c = await connect(cosyUrl());
    await started(c, 't', { ...POEM_PARAMS, format: 'Default', sample_rate: 0, word_timestamp_enabled: false });
    c.send(continueTask('t', 'One. Two three four five six.'));
    c.send(finishTask('t'));
    const r = await untilFinished(c);
    assert.equal(r.binaries[0]?.toString('ascii', 0, 3), 'ID3');
    assert.ok(r.binaries.slice(1).every((b) => b.toString('ascii', 0, 3) !== 'ID3'));
    assert.ok(r.audio.equals(expectedAudio({ text: 'One. Two three four five six.', voice: 'longanyang', sampleRate: 22050, format: 'mp3' })));
  });

  it('sends a WAV header once per task', async () => {
    await start();
    const c = await connect(cosyUrl());
    await started(c, 't', { ...POEM_PARAMS, format: 'wav', sample_rate: 16000 });
    c.send(continueTask('t', '你好。再见。'));
    c.send(finishTask('t'));
    const r = await untilFinished(c);
    assert.equal(r.audio.indexOf('RIFF'), 0);
    assert.equal(r.audio.lastIndexOf('RIFF'), 0);
    assert.ok(r.audio.equals(expectedAudio({ text: '你好。再见。', voice: 'longanyang', sampleRate: 16000, format: 'wav' })));
  });

  it('paces audio: first frame after firstAudioLatencyMs, then real time × realTimeFactor', async () => {
    await start({ firstAudioLatencyMs: 120, realTimeFactor: 0.5 });
    const c = await connect(cosyUrl());
    await started(c, 't', { ...POEM_PARAMS, word_timestamp_enabled: false });
    const t0 = Date.now();
    c.send(continueTask('t', 'Seventeen chars !')); // 17 × 60 ms = 1.02 s of audio, 11 frames
    await c.next((f) => f.binary);
    const first = Date.now();
    await c.next((f) => !f.binary && cev(f).payload.output?.type === 'sentence-end');
    const last = Date.now();
    assert.ok(first - t0 >= 110, `first audio after ${first - t0} ms`);
    // 10 gaps of 100 ms audio at RTF 0.5 = 500 ms.
    assert.ok(last - first >= 450 && last - first < 1500, `streamed in ${last - first} ms`);
    assert.equal(c.frames.filter((f) => f.binary).length, 11);
  });

  describe('run-task validation (task-failed, then close)', () => {
    const cases: Array<{ name: string; msg: object; message: string | RegExp; code?: string }> = [
      { name: 'unknown model', msg: runTask('t', POEM_PARAMS, 'cosyvoice-v9'), message: 'Model not found' },
      { name: 'Qwen model on this endpoint', msg: runTask('t', POEM_PARAMS, 'qwen3-tts-flash-realtime'), message: 'Model not found' },
      { name: 'voice of another model', msg: runTask('t', { ...POEM_PARAMS, voice: 'longxiaochun_v2' }), message: '[tts:]Engine return error code: 418', code: 'InvalidParameter' },
      { name: 'system voice on v3.5', msg: runTask('t', POEM_PARAMS, 'cosyvoice-v3.5-plus'), message: '[tts:]Engine return error code: 418' },
      { name: 'missing voice', msg: runTask('t', { ...POEM_PARAMS, voice: undefined }), message: 'Request voice is invalid!', code: 'InvalidParameter' },
      {
        name: 'missing payload.input',
        msg: { header: { action: 'run-task', task_id: 't', streaming: 'duplex' }, payload: { task_group: 'audio', task: 'tts', function: 'SpeechSynthesizer', model: 'cosyvoice-v2', parameters: POEM_PARAMS } },
        message: 'task can not be null',
        code: 'InvalidParameter',
      },
      { name: 'clone id that does not exist', msg: runTask('t', { ...POEM_PARAMS, voice: 'cosyvoice-v3-flash-gone-0123456789abcdef0123456789abcdef' }), message: 'Remote cancelled grpc stream.', code: 'InternalError' },
      { name: 'opus on v1', msg: runTask('t', { ...POEM_PARAMS, voice: 'longwan', format: 'opus' }, 'cosyvoice-v1'), message: /format/ },
      { name: 'free instruction on a system voice', msg: runTask('t', { ...POEM_PARAMS, instruction: 'Speak happily.' }), message: '[tts:]Engine return error code: 428' },
      { name: 'instruction on v2', msg: runTask('t', { ...POEM_PARAMS, voice: 'longxiaochun_v2', instruction: '你说话的情感是happy。' }, 'cosyvoice-v2'), message: '[tts:]Engine return error code: 428' },
      { name: 'SSML on v1', msg: runTask('t', { ...POEM_PARAMS, voice: 'longwan', enable_ssml: true }, 'cosyvoice-v1'), message: 'SSML text is not supported at the moment!' },
      { name: 'volume out of range', msg: runTask('t', { ...POEM_PARAMS, volume: 101 }), message: /volume/ },
      { name: 'missing model', msg: runTask('t', POEM_PARAMS, ''), message: "Missing required parameter 'payload.model'! Please follow the protocol!" },
    ];
    for (const tc of cases) {
      it(tc.name, async () => {
        if (!sim) await start();
        const c = await connect(cosyUrl());
        c.send(tc.msg);
        await expectTaskFailed(c, tc.message, tc.code);
        assert.equal(s().stats.tasks.started, 0);
        assert.equal(s().stats.tasks.failed, 1);
      });
    }

    it('accepts a templated instruction on an Instruct system voice', async () => {
      await start();
      const c = await connect(cosyUrl());
      await started(c, 't', { ...POEM_PARAMS, instruction: '你正在进行新闻播报，你说话的情感是neutral。' });
      c.send(finishTask('t'));
      await c.next(isCosy('task-finished'));
    });
  });

  describe('protocol shape (close 1007) and SDK variants', () => {
    it('closes with 1007 on an unknown payload key, an unknown input key, or non-JSON', async () => {
      await start();
      const bad: unknown[] = [
        runTask('t', POEM_PARAMS, 'cosyvoice-v3-flash', { mode: 'x' }),
        { ...runTask('t'), payload: { ...(runTask('t') as { payload: Params }).payload, input: { content: 'x' } } },
        'not json',
      ];
      for (const msg of bad) {
        const c = await connect(cosyUrl());
        c.send(msg);
        assert.equal((await c.closed).code, 1007);
      }
      assert.equal(s().stats.tasks.failed, 0);
    });

    it('tolerates SDK extras: unknown parameters, Python/Java continue-task payloads, flush', async () => {
      await start();
      const c = await connect(cosyUrl());
      const params = { ...POEM_PARAMS, type: 0, seed: 0, pre_task_id: 't', phoneme_timestamp_enabled: false, word_timestamp_enabled: false };
      await started(c, 't', params);
      c.send(continueTask('t', 'Py ', {}, { model: 'cosyvoice-v3-flash', task_group: 'audio', task: 'tts', function: 'SpeechSynthesizer' }));
      c.send(continueTask('t', 'Java', {}, { parameters: params }));
      c.send({ header: { action: 'continue-task', task_id: 't', streaming: 'duplex' }, payload: { input: { flush: true } } });
      const flushed = cev(await c.next((f) => !f.binary && cev(f).payload.output?.type === 'sentence-end'));
      assert.equal(flushed.payload.output?.original_text, 'Py Java', 'flush synthesizes the unterminated buffer');
      c.send(continueTask('t', 'More.'));
      c.send(finishTask('t'));
      await c.next(isCosy('task-finished'));
      assert.ok(c.isOpen);
    });
  });

  describe('task rules', () => {
    it('fails continue-task sent before task-started', async () => {
      await start();
      s().inject({ kind: 'delay-task-started', ms: 1e12 });
      const c = await connect(cosyUrl());
      c.send(runTask('t'));
      c.send(continueTask('t', 'too early'));
      await expectTaskFailed(c, /continue-task/);
      assert.equal(s().stats.tasks.started, 0);
    });

    it('fails an instruction with another task_id', async () => {
      await start();
      const c = await connect(cosyUrl());
      await started(c, 't');
      c.send(continueTask('other', 'hello'));
      const e = await expectTaskFailed(c, /does not match/);
      assert.equal(e.header.task_id, 't');
    });

    it('fails empty text, and more than 20 000 characters in one continue-task', async () => {
      await start();
      let c = await connect(cosyUrl());
      await started(c, 't');
      c.send(continueTask('t', ''));
      await expectTaskFailed(c, 'Please ensure input text is valid.', 'InvalidParameter');
      c = await connect(cosyUrl());
      await started(c, 'u');
      c.send(continueTask('u', '字'.repeat(10_001))); // 20 002 by the counting rule
      await expectTaskFailed(c, /20000/);
    });

    it('fails past 200 000 characters per task (counted cumulatively)', async () => {
      await start();
      const c = await connect(cosyUrl());
      await started(c, 't');
      for (let i = 0; i < 10; i++) c.send(continueTask('t', 'a'.repeat(20_000))); // no terminator: buffered, no audio
      c.send(continueTask('t', 'a'));
      await expectTaskFailed(c, /200000/);
    });

    it('accepts exactly one continue-task with enable_ssml and does not bill tags', async () => {
      await start();
      let c = await connect(cosyUrl());
      await started(c, 't', { ...POEM_PARAMS, enable_ssml: true, word_timestamp_enabled: false });
      c.send(continueTask('t', '<speak>你好</speak>'));
      c.send(finishTask('t'));
      const r = await untilFinished(c);
      assert.equal(r.events[r.events.length - 1]?.payload.usage?.characters, 4);
      assert.ok(r.audio.equals(expectedAudio({ text: '你好', voice: 'longanyang', sampleRate: 22050 })));
      c = await connect(cosyUrl());
      await started(c, 'u', { ...POEM_PARAMS, enable_ssml: true });
      c.send(continueTask('u', '<speak>一</speak>'));
      c.send(continueTask('u', '<speak>二</speak>'));
      await expectTaskFailed(c, 'Text request limit violated, expected 1.');
    });

    it('fails a task that hears nothing for taskTimeoutMs with the 23 s message', async () => {
      await start({ cosyvoice: { taskTimeoutMs: 80 } });
      const c = await connect(cosyUrl());
      await started(c, 't');
      c.send(continueTask('t', 'waiting'));
      await expectTaskFailed(c, 'request timeout after 23 seconds.', 'InvalidParameter');
    });

    it('closes an idle connection after idleCloseMs, not while a task runs', async () => {
      await start({ cosyvoice: { idleCloseMs: 150 } });
      const c = await connect(cosyUrl());
      await started(c, 't');
      await new Promise((r) => setTimeout(r, 250));
      assert.ok(c.isOpen, 'a running task is not idle');
      c.send(finishTask('t'));
      await c.next(isCosy('task-finished'));
      const t0 = Date.now();
      await c.closed;
      assert.ok(Date.now() - t0 >= 100);
      await waitFor(() => s().stats.openSockets === 0, 'the server side to see the close');
    });

    it('rejects run-task while a task runs (default), or replaces the task when configured', async () => {
      await start();
      let c = await connect(cosyUrl());
      await started(c, 't');
      c.send(runTask('u'));
      const e = await expectTaskFailed(c, "Invalid action('run-task')! Please follow the protocol!");
      assert.equal(e.header.task_id, 'u');
      await s().close();

      await start({ cosyvoice: { runTaskWhileRunning: 'replace' } });
      c = await connect(cosyUrl());
      await started(c, 't');
      c.send(continueTask('t', 'dropped'));
      await started(c, 'u');
      c.send(continueTask('u', 'kept.'));
      c.send(finishTask('u'));
      const r = await untilFinished(c);
      assert.ok(r.events.every((x) => x.header.task_id === 'u'));
      assert.ok(r.audio.equals(expectedAudio({ text: 'kept.', voice: 'longanyang', sampleRate: 22050 })));
    });

    it('throttles run-task beyond rateLimitPerSecond per key', async () => {
      await start({ cosyvoice: { rateLimitPerSecond: 1 } });
      const a = await connect(cosyUrl());
      await started(a, 't');
      const b = await connect(cosyUrl());
      b.send(runTask('u'));
      await expectTaskFailed(b, 'Requests rate limit exceeded, please try again later.', 'Throttling.RateQuota');
    });

    it('can put the last words into task-finished (docs disagree)', async () => {
      await start({ cosyvoice: { wordsIn: 'task-finished' } });
      const c = await connect(cosyUrl());
      await started(c, 't');
      c.send(continueTask('t', 'Hi there'));
      c.send(finishTask('t'));
      const r = await untilFinished(c);
      const end = r.events.find((e) => e.payload.output?.type === 'sentence-end');
      assert.deepEqual(end?.payload.output?.sentence?.words, []);
      const fin = r.events[r.events.length - 1];
      assert.deepEqual(fin?.payload.output?.sentence?.words.map((w) => w.text), ['Hi', 'there']);
    });
  });

  describe('custom voices', () => {
    it('DEPLOYING gives a task without audio; OK synthesizes; another target_model gets 418', async () => {
      await start();
      const v = s().voices.add({ service: 'voice-enrollment', targetModel: 'cosyvoice-v3-flash', name: 'me', status: 'DEPLOYING' });
      const c = await connect(cosyUrl());
      await started(c, 't', { ...POEM_PARAMS, voice: v.id });
      c.send(continueTask('t', 'Hello.'));
      c.send(finishTask('t'));
      const silent = await untilFinished(c);
      assert.equal(silent.binaries.length, 0);
      assert.deepEqual(silent.order, ['task-finished']);

      s().voices.setStatus(v.id, 'OK');
      await started(c, 'u', { ...POEM_PARAMS, voice: v.id });
      c.send(continueTask('u', 'Hello.'));
      c.send(finishTask('u'));
      const r = await untilFinished(c);
      assert.ok(r.audio.equals(expectedAudio({ text: 'Hello.', voice: v.id, sampleRate: 22050 })));

      c.send(runTask('w', { ...POEM_PARAMS, voice: v.id }, 'cosyvoice-v3-plus'));
      await expectTaskFailed(c, '[tts:]Engine return error code: 418');
    });
  });
});

describe('simulator: Qwen-TTS-Realtime', () => {
  it('reproduces the server_commit transcript of qwen-realtime.md §9', async () => {
    await start();
    const c = await connect(qwenUrl('qwen3-tts-flash-realtime'));
    const created = qev(await c.next());
    assert.equal(created.type, 'session.created');
    assert.match(created.event_id, /^event_[A-Za-z0-9]{21}$/);
    const sessionId = String(created.session?.id);
    assert.match(sessionId, /^sess_/);
    assert.deepEqual({ ...created.session, id: 'x' }, {
      object: 'realtime.session',
      mode: 'server_commit',
      model: 'qwen3-tts-flash-realtime',
      voice: 'Cherry',
      response_format: 'pcm',
      sample_rate: 24000,
      id: 'x',
    });
    c.send({ event_id: 'event_0f3c', type: 'session.update', session: { voice: 'Cherry', mode: 'server_commit', response_format: 'pcm', sample_rate: 24000, language_type: 'English' } });
    const updated = qev(await c.next());
    assert.deepEqual(updated.session, {
      id: sessionId,
      object: 'realtime.session',
      model: 'qwen3-tts-flash-realtime',
      voice: 'Cherry',
      language_type: 'English',
      mode: 'server_commit',
      response_format: 'pcm',
      sample_rate: 24000,
    });
    const texts = ['Right? I love supermarkets like this. ', 'Especially during Chinese New Year, ', 'I go shopping at supermarkets.'];
    for (const text of texts) c.send({ event_id: `event_${text.length}`, type: 'input_text_buffer.append', text });
    c.send({ event_id: 'event_fin', type: 'session.finish' });
    const closed = await c.closed;
    assert.equal(closed.code, 1000);

    const events = c.frames.slice(2).map(qev);
    assert.equal(events[events.length - 1]?.type, 'session.finished');
    const responses: QwenEvent[][] = [];
    for (const e of events.slice(0, -1)) {
      if (e.type === 'response.created') responses.push([]);
      responses[responses.length - 1]?.push(e);
    }
    // One response per sentence; the §9 wording of the sentences decides the count.
    assert.deepEqual(
      responses.map((r) => r.find((e) => e.type === 'response.done')?.response?.usage?.characters),
      [6, 31, 67],
    );
    for (const r of responses) {
      assert.deepEqual(collapseDeltas(r.map((e) => e.type)), RESPONSE_SEQUENCE);
      const respId = r[0]?.response?.id ?? '';
      const itemId = r[1]?.item?.id ?? '';
      assert.match(respId, /^resp_[A-Za-z0-9]{21}$/);
      assert.match(itemId, /^item_/);
      for (const e of r.slice(1, -1)) {
        if (e.type !== 'response.output_item.added' && e.type !== 'response.output_item.done') assert.equal(e.item_id, itemId);
        assert.equal(e.response_id, respId);
      }
      assert.equal(r[r.length - 1]?.response?.id, respId);
      assert.equal(r[r.length - 1]?.response?.status, 'completed');
    }
    const deltas = events.filter((e) => e.type === 'response.audio.delta').map((e) => Buffer.from(e.delta ?? '', 'base64'));
    assert.equal(deltas[0]?.length, 4800, '100 ms PCM16 @ 24 kHz');
    assert.ok(Buffer.concat(deltas).equals(expectedAudio({ text: texts.join(''), voice: 'Cherry', sampleRate: 24000, service: 'qwen' })));
    assert.equal(s().stats.responses.created, 3);
    assert.equal(s().stats.responses.done, 3);
    assert.equal(s().stats.sessionUpdates, 1);
    assert.equal(new Set(events.map((e) => e.event_id)).size, events.length, 'server event ids are unique');
  });

  it('reproduces the commit transcript of qwen-realtime.md §10', async () => {
    await start();
    const c = await qwenSession('qwen3-tts-instruct-flash-realtime', {
      voice: 'Cherry',
      mode: 'commit',
      response_format: 'pcm',
      sample_rate: 24000,
      instructions: 'Speak quickly with a rising intonation.',
      optimize_instructions: true,
    });
    const updated = qev(c.frames[1] as RawFrame);
    assert.equal(updated.session?.mode, 'commit');
    assert.equal(updated.session?.instructions, 'Speak quickly with a rising intonation.');

    for (const [i, text] of ['This is the first sentence.', 'This is the second sentence.'].entries()) {
      const before = c.frames.length;
      c.send({ event_id: `event_a${i}`, type: 'input_text_buffer.append', text });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(c.frames.length, before, 'nothing is synthesized (or acknowledged) before commit');
      c.send({ event_id: `event_c${i}`, type: 'input_text_buffer.commit' });
      const committed = qev(await c.next(isQwen('input_text_buffer.committed')));
      assert.match(String(committed.item_id), /^item_/);
      const r = await qwenResponse(c);
      assert.deepEqual(collapseDeltas(r.types), RESPONSE_SEQUENCE);
      assert.equal(r.done.response?.usage?.characters, text.length);
      assert.ok(r.audio.equals(expectedAudio({ text, voice: 'Cherry', sampleRate: 24000, service: 'qwen' })));
    }
    c.send({ event_id: 'event_a6', type: 'input_text_buffer.append', text: 'Never mind.' });
    c.send({ event_id: 'event_a7', type: 'input_text_buffer.clear' });
    await c.next(isQwen('input_text_buffer.cleared'));
    c.send({ event_id: 'event_a8', type: 'session.finish' });
    await c.next(isQwen('session.finished'));
    assert.equal((await c.closed).code, 1000);
    assert.ok(!c.frames.some((f) => qev(f).type === 'error'));
    assert.equal(s().stats.responses.done, 2);
  });

  it('commit mode: one response per commit with the committed text; empty commit is an error; uncommitted text can be synthesized at finish', async () => {
    await start({ qwen: { uncommittedOnFinish: 'synthesize' } });
    const c = await qwenSession('qwen3-tts-flash-realtime', { mode: 'commit', voice: 'Ethan', sample_rate: 16000 });
    c.send({ event_id: 'e1', type: 'input_text_buffer.commit' });
    const err = qev(await c.next(isQwen('error')));
    assert.match(err.error?.message ?? '', /empty/);
    const text = 'Two sentences. In one commit.';
    c.send({ event_id: 'e2', type: 'input_text_buffer.append', text });
    c.send({ event_id: 'e3', type: 'input_text_buffer.commit' });
    const r = await qwenResponse(c);
    assert.ok(r.audio.equals(expectedAudio({ text, voice: 'Ethan', sampleRate: 16000, service: 'qwen', qwenMode: 'commit' })));
    c.send({ event_id: 'e4', type: 'input_text_buffer.append', text: 'Tail.' });
    c.send({ event_id: 'e5', type: 'session.finish' });
    const tail = await qwenResponse(c);
    assert.ok(tail.audio.equals(expectedAudio({ text: 'Tail.', voice: 'Ethan', sampleRate: 16000, service: 'qwen' })));
    await c.next(isQwen('session.finished'));
  });

  it('requires ?model= at the handshake; an unknown model gets session.created, then a silent close', async () => {
    await start();
    const refused = await RawClient.refused(qwenUrl());
    assert.equal(refused.status, 400);
    const c = await connect(qwenUrl('qwen3-tts-flash')); // a non-realtime name
    const created = qev(await c.next());
    assert.equal(created.type, 'session.created');
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    assert.equal(c.frames.length, 1);
  });

  describe('session.update validation', () => {
    const cases: Array<{ model: string; session: Params; message: RegExp }> = [
      { model: 'qwen-tts-realtime', session: { voice: 'Cherry', response_format: 'wav' }, message: /response_format/ },
      { model: 'qwen-tts-realtime', session: { voice: 'Cherry', sample_rate: 16000 }, message: /sample_rate/ },
      { model: 'qwen-tts-realtime', session: { voice: 'Cherry', speech_rate: 1.2 }, message: /speech_rate/ },
      { model: 'qwen-tts-realtime', session: { voice: 'Dylan' }, message: /The requested voice 'Dylan' is not supported\./ },
      { model: 'qwen3-tts-flash-realtime', session: { voice: 'Cherry', sample_rate: 44100 }, message: /sample_rate/ },
      { model: 'qwen3-tts-flash-realtime', session: { voice: 'Cherry', instructions: 'Be happy.' }, message: /instructions/ },
      { model: 'qwen3-tts-flash-realtime', session: { voice: 'Cherry', volume: 101 }, message: /volume/ },
      { model: 'qwen3-tts-vc-realtime-2026-01-15', session: { voice: 'Cherry' }, message: /The requested voice 'Cherry' is not supported\./ },
    ];
    for (const tc of cases) {
      it(`${tc.model} rejects ${JSON.stringify(tc.session)} and keeps the session`, async () => {
        if (!sim) await start();
        const c = await qwenSession(tc.model);
        c.send({ event_id: 'e', type: 'session.update', session: tc.session });
        const e = qev(await c.next());
        assert.equal(e.type, 'error');
        assert.equal(e.error?.code, 'invalid_value');
        assert.match(e.error?.message ?? '', tc.message);
        assert.ok(c.isOpen);
      });
    }

    it('accepts the documented extras (empty instructions, enable_tn, unknown keys) and the configured extra rates', async () => {
      await start({ qwen: { extraSampleRates: [44100] } });
      const c = await qwenSession('qwen3-tts-flash-realtime');
      c.send({ event_id: 'e', type: 'session.update', session: { voice: 'Eldric Sage', instructions: '', enable_tn: true, whatever: 1, sample_rate: 44100 } });
      const e = qev(await c.next());
      assert.equal(e.type, 'session.updated');
      assert.equal(e.session?.sample_rate, 44100);
    });

    it('rejects a session.update once a response has started', async () => {
      await start();
      const c = await qwenSession('qwen3-tts-flash-realtime', { voice: 'Cherry' });
      c.send({ event_id: 'a', type: 'input_text_buffer.append', text: 'Hello.' });
      await c.next(isQwen('response.done'));
      c.send({ event_id: 'b', type: 'session.update', session: { voice: 'Ethan' } });
      const e = qev(await c.next(isQwen('error')));
      assert.deepEqual(e.error, { code: 'invalid_value', message: 'Session update error: session already started or finished or failed.' });
    });
  });

  it('response.cancel ends the active response as cancelled; without one it is an error', async () => {
    await start({ realTimeFactor: 1 });
    const c = await qwenSession('qwen3-tts-flash-realtime', { voice: 'Cherry' });
    c.send({ event_id: 'x', type: 'response.cancel' });
    const err = qev(await c.next(isQwen('error')));
    assert.equal(err.error?.code, 'response_cancel_not_active');
    c.send({ event_id: 'a', type: 'input_text_buffer.append', text: 'A rather long sentence that takes a while to speak.' });
    await c.next(isQwen('response.audio.delta'));
    c.send({ event_id: 'b', type: 'response.cancel' });
    const done = qev(await c.next(isQwen('response.done')));
    assert.equal(done.response?.status, 'cancelled');
    const deltas = c.frames.filter((f) => qev(f).type === 'response.audio.delta').length;
    assert.ok(deltas < 30, `stopped early (${deltas} deltas)`);
  });

  it('bills qwen-tts-realtime in tokens (50 audio tokens per second)', async () => {
    await start();
    const c = await qwenSession('qwen-tts-realtime-latest', { voice: 'Chelsie' });
    c.send({ event_id: 'a', type: 'input_text_buffer.append', text: '你好。' });
    const r = await qwenResponse(c);
    const usage = r.done.response?.usage ?? {};
    assert.equal(usage.characters, undefined);
    assert.equal(usage.output_tokens, 50, '0.18 s of audio still bills the minimum 50');
    assert.equal(usage.total_tokens, (usage.input_tokens ?? 0) + 50);
  });

  it('custom voices work only with their exact target model', async () => {
    await start();
    const v = s().voices.add({ service: 'qwen-voice-enrollment', targetModel: 'qwen3-tts-vc-realtime-2026-01-15', name: 'me' });
    const ok = await qwenSession('qwen3-tts-vc-realtime-2026-01-15', { voice: v.id });
    ok.send({ event_id: 'a', type: 'input_text_buffer.append', text: 'Mine.' });
    const r = await qwenResponse(ok);
    assert.ok(r.audio.equals(expectedAudio({ text: 'Mine.', voice: v.id, sampleRate: 24000, service: 'qwen' })));
    const other = await qwenSession('qwen3-tts-vc-realtime-2025-11-27');
    other.send({ event_id: 'b', type: 'session.update', session: { voice: v.id } });
    assert.match(qev(await other.next()).error?.message ?? '', /is not supported/);
  });
});

describe('simulator: handshake, faults and lifecycle', () => {
  it('rejects missing or unknown keys with 401 InvalidApiKey; the scheme is case-insensitive; demo mode takes any key', async () => {
    await start();
    const attempts: Array<Record<string, string>> = [{}, { Authorization: 'Bearer sk-wrong' }];
    for (const headers of attempts) {
      const r = await RawClient.refused(cosyUrl(), headers);
      assert.equal(r.status, 401);
      const body = JSON.parse(r.body ?? '{}') as Record<string, unknown>;
      assert.equal(body.code, 'InvalidApiKey');
      assert.equal(body.message, 'Invalid API-key provided.');
      assert.ok(body.request_id);
    }
    assert.equal(s().stats.handshakesRejected, 2);
    const lower = await connect(`${cosyUrl()}/`, { authorization: `bearer ${KEY}` });
    assert.ok(lower.isOpen, 'trailing slash and lowercase bearer are accepted');
    await s().close();
    await start({ acceptAnyKey: true });
    const any = await connect(qwenUrl('qwen3-tts-flash-realtime'), { Authorization: 'Bearer anything' });
    assert.equal(qev(await any.next()).type, 'session.created');
  });

  it('applies handshake faults: reject-auth 403, http-error 503, refuse-connection, delay-handshake', async () => {
    await start();
    const sim = s();
    sim.inject({ kind: 'reject-auth', status: 403 });
    sim.inject({ kind: 'http-error', status: 503, code: 'ServiceUnavailable' });
    assert.equal((await RawClient.refused(cosyUrl())).status, 503, 'faults are consumed in the order of the handshake steps');
    assert.equal((await RawClient.refused(cosyUrl())).status, 403);
    sim.inject({ kind: 'refuse-connection', service: 'qwen' });
    const refused = await RawClient.refused(qwenUrl('qwen3-tts-flash-realtime'));
    assert.match(refused.error?.message ?? '', /socket hang up|ECONNRESET/);
    assert.equal(sim.stats.connectionsRefused, 1);
    sim.inject({ kind: 'delay-handshake', ms: 150 });
    const t0 = Date.now();
    await connect(cosyUrl());
    assert.ok(Date.now() - t0 >= 140);
    assert.equal(sim.stats.connections.cosyvoice, 1);
  });

  it('drop-after-frames cuts the socket right after the Nth audio frame', async () => {
    await start();
    s().inject({ kind: 'drop-after-frames', frames: 3, service: 'cosyvoice' });
    const c = await connect(cosyUrl());
    await started(c, 't');
    c.send(continueTask('t', 'A sentence long enough for many frames of audio.'));
    c.send(finishTask('t'));
    const closed = await c.closed;
    assert.equal(closed.code, 1006);
    assert.equal(c.frames.filter((f) => f.binary).length, 3);
  });

  it('malformed-frame replaces the next event', async () => {
    await start();
    s().inject({ kind: 'malformed-frame', what: 'truncated', service: 'qwen' });
    s().inject({ kind: 'malformed-frame', what: 'no-header', service: 'cosyvoice' });
    const q = await connect(qwenUrl('qwen3-tts-flash-realtime'));
    const f = await q.next();
    assert.equal(f.json, undefined);
    assert.match(f.text ?? '', /^\{"event_id"/);
    const c = await connect(cosyUrl());
    c.send(runTask('t'));
    const g = await c.next();
    assert.deepEqual(g.json, { payload: {} });
  });

  it('empty-audio finishes a task without frames; fail-task can strike at the first text', async () => {
    await start();
    s().inject({ kind: 'empty-audio' });
    const c = await connect(cosyUrl());
    await started(c, 't');
    c.send(continueTask('t', 'Silence.'));
    c.send(finishTask('t'));
    const silent = await untilFinished(c);
    assert.deepEqual(silent.order, ['task-finished']);
    assert.equal(silent.events[0]?.payload.usage?.characters, 0);

    s().inject({ kind: 'fail-task', code: 'InternalError', message: 'boom', after: 'first-text' });
    await started(c, 'u');
    c.send(continueTask('u', 'x'));
    await expectTaskFailed(c, 'boom', 'InternalError');
    assert.equal(s().stats.tasks.started, 2);
  });

  it('qwen-error fault: non-fatal keeps the session, fatal closes with 1000', async () => {
    await start();
    s().inject({ kind: 'qwen-error', code: 'InternalError', message: 'oops', on: 'append' });
    s().inject({ kind: 'qwen-error', code: 'InternalError', message: 'fatal oops', on: 'commit', fatal: true });
    const c = await qwenSession('qwen3-tts-flash-realtime', { voice: 'Cherry', mode: 'commit' });
    c.send({ event_id: 'a', type: 'input_text_buffer.append', text: 'x' });
    assert.equal(qev(await c.next()).error?.message, 'oops');
    c.send({ event_id: 'b', type: 'input_text_buffer.append', text: 'y' });
    c.send({ event_id: 'c', type: 'input_text_buffer.commit' });
    assert.equal(qev(await c.next()).error?.message, 'fatal oops');
    assert.equal((await c.closed).code, 1000);
  });

  it('idle-close closes an idle CosyVoice connection at once', async () => {
    await start();
    const c = await connect(cosyUrl());
    s().inject({ kind: 'idle-close' });
    assert.equal((await c.closed).code, 1000);
    const d = await connect(cosyUrl());
    await started(d, 't');
    assert.ok(d.isOpen, 'the fault was used up');
  });

  it('stopListening refuses new connections but keeps open ones; resumeListening reuses the port; dropAll cuts everything', async () => {
    await start();
    const port = s().port;
    const c = await connect(cosyUrl());
    await s().stopListening();
    const r = await RawClient.refused(cosyUrl());
    assert.match(r.error?.message ?? '', /ECONNREFUSED/);
    await started(c, 't');
    await s().resumeListening();
    assert.equal(s().port, port);
    const d = await connect(qwenUrl('qwen3-tts-flash-realtime'));
    s().dropAll();
    assert.equal((await c.closed).code, 1006);
    assert.equal((await d.closed).code, 1006);
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(s().stats.openSockets, 0);
  });

  it('close() leaves no sockets, servers or timers behind', async () => {
    const handles = (): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) if (/TCP|Timeout|Immediate/.test(r)) counts[r] = (counts[r] ?? 0) + 1;
      return counts;
    };
    await new Promise((r) => setTimeout(r, 50)); // let earlier tests' client sockets finish closing
    const before = handles();
    await start({ cosyvoice: { idleCloseMs: 60_000, taskTimeoutMs: 23_000 }, qwen: { idleTimeoutMs: 60_000 } });
    // Something armed in every kind of timer: idle close, 23 s gap, Qwen idle, delayed start, delayed handshake.
    const idle = await connect(cosyUrl());
    const running = await connect(cosyUrl());
    await started(running, 'r');
    const qwen = await qwenSession('qwen3-tts-flash-realtime');
    s().inject({ kind: 'delay-task-started', ms: 50_000 });
    s().inject({ kind: 'delay-handshake', ms: 50_000, service: 'qwen' });
    const c = await connect(cosyUrl());
    c.send(runTask('t'));
    const pending = RawClient.refused(qwenUrl('qwen3-tts-flash-realtime')); // stuck in the delayed handshake
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(s().stats.openSockets, 4);
    await s().close();
    await Promise.all([c.closed, idle.closed, running.closed, qwen.closed, pending]);
    assert.equal(s().stats.openSockets, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(handles(), before);
  });
});

describe('simulator: voice customization HTTP', () => {
  it('CosyVoice clone: create (DEPLOYING) → query (OK) → list → delete → gone', async () => {
    await start({ customization: { deployMs: 0 } });
    const url = customizationUrl();
    const created = await postJson(url, {
      model: 'voice-enrollment',
      input: { action: 'create_voice', target_model: 'cosyvoice-v3-flash', prefix: 'myvoice', url: 'https://example.com/sample.wav', language_hints: ['zh'] },
      parameters: {},
    });
    assert.equal(created.status, 200);
    const voiceId = (created.body.output as { voice_id: string }).voice_id;
    assert.match(voiceId, /^cosyvoice-v3-flash-myvoice-[0-9a-f]{32}$/);
    assert.deepEqual(created.body.usage, { count: 1 });
    assert.ok(created.body.request_id);

    const q = await postJson(url, { model: 'voice-enrollment', input: { action: 'query_voice', voice_id: voiceId } });
    const out = q.body.output as Record<string, unknown>;
    assert.equal(out.status, 'OK');
    assert.equal(out.target_model, 'cosyvoice-v3-flash');
    assert.equal(out.resource_link, 'https://example.com/sample.wav');
    assert.match(String(out.gmt_create), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    const list = await postJson(url, { model: 'voice-enrollment', input: { action: 'list_voice', prefix: 'myvoice', page_index: 0, page_size: 10 } });
    assert.deepEqual((list.body.output as { voice_list: Array<{ voice_id: string; status: string }> }).voice_list.map((v) => [v.voice_id, v.status]), [[voiceId, 'OK']]);

    const del = await postJson(url, { model: 'voice-enrollment', input: { action: 'delete_voice', voice_id: voiceId } });
    assert.deepEqual(del.body.output, {});
    const gone = await postJson(url, { model: 'voice-enrollment', input: { action: 'query_voice', voice_id: voiceId } });
    assert.equal(gone.status, 400);
    assert.equal(gone.body.code, 'BadRequest.ResourceNotExist');
    assert.equal(s().stats.httpRequests, 5);
  });

  it('a clone stays DEPLOYING for deployMs, and synthesis with it is silent until then', async () => {
    await start({ customization: { deployMs: 60_000 } });
    const created = await postJson(customizationUrl(), {
      model: 'voice-enrollment',
      input: { action: 'create_voice', target_model: 'cosyvoice-v2', prefix: 'slow', url: 'https://example.com/a.mp3' },
    });
    const id = (created.body.output as { voice_id: string }).voice_id;
    assert.equal(s().voices.get(id)?.status, 'DEPLOYING');
    const c = await connect(cosyUrl());
    await started(c, 't', { ...POEM_PARAMS, voice: id }, 'cosyvoice-v2');
    c.send(continueTask('t', 'hello'));
    c.send(finishTask('t'));
    assert.equal((await untilFinished(c)).binaries.length, 0);
  });

  it('CosyVoice design returns a preview spoken by the new voice; update_voice is refused for it', async () => {
    await start();
    const r = await postJson(customizationUrl(), {
      model: 'voice-enrollment',
      input: { action: 'create_voice', target_model: 'cosyvoice-v3.5-plus', prefix: 'announcer', voice_prompt: '沉稳的中年男性播音员。', preview_text: '各位听众朋友，大家好。', language_hints: ['zh'] },
      parameters: { sample_rate: 16000, response_format: 'wav' },
    });
    assert.equal(r.status, 200);
    const out = r.body.output as { voice_id: string; target_model: string; preview_audio: { data: string; sample_rate: number; response_format: string } };
    assert.match(out.voice_id, /^cosyvoice-v3\.5-plus-vd-announcer-[0-9a-f]{32}$/);
    assert.equal(out.preview_audio.sample_rate, 16000);
    const expected = encodeAudio(sentencePcm('各位听众朋友，大家好。', out.voice_id, 16000), 'wav', 16000, true);
    assert.ok(Buffer.from(out.preview_audio.data, 'base64').equals(expected));
    const upd = await postJson(customizationUrl(), { model: 'voice-enrollment', input: { action: 'update_voice', voice_id: out.voice_id, url: 'https://example.com/x.wav' } });
    assert.equal(upd.status, 400);
    assert.equal(upd.body.code, 'InvalidParameter');
  });

  it('validates: auth, unknown model, wrong action, bad prefix, configured download failures, oss:// without the resolve header', async () => {
    await start({ customization: { urlFailures: { 'https://example.com/silent.wav': 'silent' } } });
    const url = customizationUrl();
    const clone = (extra: Params): Params => ({ model: 'voice-enrollment', input: { action: 'create_voice', target_model: 'cosyvoice-v3-flash', prefix: 'ok', url: 'https://example.com/a.wav', ...extra } });
    const noAuth = await postJson(url, clone({}), {});
    assert.deepEqual([noAuth.status, noAuth.body.code], [401, 'InvalidApiKey']);
    const badModel = await postJson(url, { model: 'voice-enrolment', input: { action: 'list_voice' } });
    assert.deepEqual([badModel.status, badModel.body.message], [400, 'Model not exist.']);
    const crossed = await postJson(url, { model: 'qwen-voice-enrollment', input: { action: 'create_voice' } });
    assert.deepEqual([crossed.status, crossed.body.message], [400, 'Model not exist.']);
    const badPrefix = await postJson(url, clone({ prefix: 'has-dash' }));
    assert.deepEqual([badPrefix.status, badPrefix.body.code], [400, 'InvalidParameter']);
    const silent = await postJson(url, clone({ url: 'https://example.com/silent.wav' }));
    assert.deepEqual([silent.status, silent.body.code], [430, 'Audio.AudioSilentError']);
    const oss = await postJson(url, clone({ url: 'oss://dashscope-instant/x/a.wav' }));
    assert.deepEqual([oss.status, oss.body.code], [400, 'invalid_parameter_error']);
    // With the header an oss:// URL must name a real upload (see "temporary file upload" below).
    const uploaded = await uploadSample(wavSample({ sampleRate: 16000, seconds: 10 }), 'voice-enrollment');
    const ossOk = await postJson(url, clone({ url: uploaded }), { Authorization: `Bearer ${KEY}`, 'X-DashScope-OssResourceResolve': 'enable' });
    assert.equal(ossOk.status, 200);
  });

  it('Qwen clone: data-URI WAV checks, list with paging fields, delete of an unknown voice', async () => {
    await start();
    const url = customizationUrl();
    // A recorded file (unlike a stream) carries its real lengths in the header.
    const sample = (rate: number, seconds: number): string => {
      const bytes = rate * 2 * seconds;
      const header = wavHeader(rate);
      header.writeUInt32LE(36 + bytes, 4);
      header.writeUInt32LE(bytes, 40);
      return `data:audio/wav;base64,${Buffer.concat([header, Buffer.alloc(bytes)]).toString('base64')}`;
    };
    const create = (data: string) =>
      postJson(url, { model: 'qwen-voice-enrollment', input: { action: 'create', target_model: 'qwen3-tts-vc-realtime-2026-01-15', preferred_name: 'guanyu', audio: { data } } });
    const low = await create(sample(16000, 5));
    assert.deepEqual([low.status, low.body.code], [400, 'Audio.AudioRateError']);
    const short = await create(sample(24000, 1));
    assert.equal(short.body.code, 'Audio.PreprocessError');
    const ok = await create(sample(24000, 5));
    assert.equal(ok.status, 200);
    const voice = (ok.body.output as { voice: string; target_model: string }).voice;
    assert.match(voice, /^qwen-tts-vc-guanyu-voice-\d{17}-[0-9a-f]{4}$/);
    const list = await postJson(url, { model: 'qwen-voice-enrollment', input: { action: 'list', page_size: 10, page_index: 0 } });
    const lo = list.body.output as { total_count: number; page_size: number; voice_list: Array<{ voice: string; target_model: string }> };
    assert.equal(lo.total_count, 1);
    assert.equal(lo.voice_list[0]?.voice, voice);
    assert.deepEqual(list.body.usage, { count: 0 });
    const del = await postJson(url, { model: 'qwen-voice-enrollment', input: { action: 'delete', voice: 'nope' } });
    assert.deepEqual([del.status, del.body.code, del.body.message], [400, 'BadRequest.VoiceNotFound', "Voice 'nope' not found."]);
  });

  it('Qwen design: create with preview, query, minimum preview length, unknown voice', async () => {
    await start();
    const url = customizationUrl();
    const base = { action: 'create', target_model: 'qwen3-tts-vd-realtime-2026-01-15', voice_prompt: 'A calm announcer.', preferred_name: 'announcer', language: 'en' };
    const tooShort = await postJson(url, { model: 'qwen-voice-design', input: { ...base, preview_text: 'Too short.' } });
    assert.deepEqual([tooShort.status, tooShort.body.message], [400, 'preview_text should not be shorter than 15 characters']);
    const r = await postJson(url, { model: 'qwen-voice-design', input: { ...base, preview_text: 'Dear listeners, hello everyone.' }, parameters: { sample_rate: 24000, response_format: 'pcm' } });
    const out = r.body.output as { voice: string; preview_audio: { data: string } };
    assert.ok(Buffer.from(out.preview_audio.data, 'base64').equals(sentencePcm('Dear listeners, hello everyone.', out.voice, 24000)));
    const q = await postJson(url, { model: 'qwen-voice-design', input: { action: 'query', voice: out.voice } });
    assert.equal((q.body.output as { voice_prompt: string }).voice_prompt, 'A calm announcer.');
    assert.deepEqual(q.body.usage, {});
    const missing = await postJson(url, { model: 'qwen-voice-design', input: { action: 'query', voice: 'x' } });
    assert.deepEqual([missing.status, missing.body.code, missing.body.message], [400, 'VoiceNotFound', 'Voice not found: x']);
    // The designed voice is usable on its realtime model.
    const c = await qwenSession('qwen3-tts-vd-realtime-2026-01-15', { voice: out.voice });
    assert.ok(c.isOpen);
  });
});

// ---------------------------------------------------------------- temporary upload helpers

interface PolicyData {
  policy: string;
  signature: string;
  upload_dir: string;
  upload_host: string;
  expire_in_seconds: number;
  max_file_size_mb: number;
  capacity_limit_mb: number;
  oss_access_key_id: string;
  x_oss_object_acl: string;
  x_oss_forbid_overwrite: string;
}

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function rawRequest(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { ...headers, 'Content-Length': String(body.length) } : headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const policyUrl = (model: string, action = 'getPolicy'): string => `${s().baseUrl}/api/v1/uploads?action=${action}&model=${encodeURIComponent(model)}`;

async function getPolicy(model: string, key = KEY): Promise<PolicyData> {
  const r = await rawRequest(policyUrl(model), 'GET', { Authorization: `Bearer ${key}` });
  assert.equal(r.status, 200, r.text);
  return (JSON.parse(r.text) as { data: PolicyData }).data;
}

type FormField = [name: string, value: string] | [name: 'file', value: Buffer, filename: string];

/** Writes a multipart body by hand, so tests control quoting, part headers and order. */
function multipart(fields: FormField[], style: 'python' | 'csharp' = 'python'): { body: Buffer; contentType: string } {
  const boundary = 'b0undary7MA4YWxk';
  const chunks: Buffer[] = [];
  for (const [name, value, filename] of fields) {
    const quoted = style === 'csharp' ? name : `"${name}"`;
    let head = `--${boundary}\r\nContent-Disposition: form-data; name=${quoted}`;
    if (filename !== undefined) head += `; filename="${filename}"`;
    if (style === 'csharp') head += `\r\nContent-Type: ${filename !== undefined ? 'audio/wav' : 'text/plain; charset=utf-8'}`;
    chunks.push(Buffer.from(`${head}\r\n\r\n`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The SDKs' field order (file-upload.md §2.1), optionally changed by `patch`. */
function sdkFields(p: PolicyData, file: Buffer, name = 'sample.wav', patch: (f: FormField[]) => FormField[] = (f) => f): FormField[] {
  return patch([
    ['OSSAccessKeyId', p.oss_access_key_id],
    ['Signature', p.signature],
    ['policy', p.policy],
    ['key', `${p.upload_dir}/${name}`],
    ['x-oss-object-acl', p.x_oss_object_acl],
    ['x-oss-forbid-overwrite', p.x_oss_forbid_overwrite],
    ['success_action_status', '200'],
    ['x-oss-content-type', 'audio/wav'],
    ['file', file, name],
  ]);
}

async function postForm(p: PolicyData, fields: FormField[], style?: 'python' | 'csharp'): Promise<RawReply> {
  const form = multipart(fields, style);
  return rawRequest(p.upload_host, 'POST', { 'Content-Type': form.contentType }, form.body);
}

/** The whole flow by hand; resolves with the oss:// URL. */
async function uploadSample(file: Buffer, model: string, key = KEY): Promise<string> {
  const p = await getPolicy(model, key);
  const r = await postForm(p, sdkFields(p, file));
  assert.equal(r.status, 200, r.text);
  return `oss://${p.upload_dir}/sample.wav`;
}

const ossCode = (r: RawReply): string | undefined => /<Code>([^<]*)<\/Code>/.exec(r.text)?.[1];
const ossMessage = (r: RawReply): string | undefined => /<Message>([^<]*)<\/Message>/.exec(r.text)?.[1];

describe('simulator: temporary file upload', () => {
  it('getPolicy answers under data with all ten fields, numbers as numbers, a fresh directory each time', async () => {
    await start();
    const r = await rawRequest(policyUrl('voice-enrollment'), 'GET', { Authorization: `bearer ${KEY}` });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as { request_id: string; data: PolicyData; output?: unknown };
    assert.equal(body.output, undefined, 'no top-level output (the Java SDK would prefer it to data)');
    const d = body.data;
    assert.deepEqual(Object.keys(d).sort(), [
      'capacity_limit_mb', 'expire_in_seconds', 'max_file_size_mb', 'oss_access_key_id', 'policy', 'signature',
      'upload_dir', 'upload_host', 'x_oss_forbid_overwrite', 'x_oss_object_acl',
    ]);
    assert.deepEqual([typeof d.expire_in_seconds, typeof d.max_file_size_mb, typeof d.capacity_limit_mb], ['number', 'number', 'number']);
    assert.deepEqual([d.expire_in_seconds, d.max_file_size_mb, d.x_oss_forbid_overwrite, d.x_oss_object_acl], [300, 10, 'true', 'private']);
    const today = new Date().toISOString().slice(0, 10);
    assert.match(d.upload_dir, new RegExp(`^dashscope-instant/[0-9a-f]{32}/${today}/${body.request_id}$`));
    assert.equal(d.upload_host, `${s().baseUrl}/__oss__`);
    const policy = JSON.parse(Buffer.from(d.policy, 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] };
    assert.deepEqual(policy.conditions[0], ['content-length-range', 0, 10 * 1024 * 1024]);
    assert.deepEqual(policy.conditions[1], ['starts-with', '$key', d.upload_dir]);
    assert.match(d.signature, /^[A-Za-z0-9+/]{27}=$/, '28-character base64, like an HMAC-SHA1');
    const again = await getPolicy('qwen-vl-plus');
    assert.notEqual(again.upload_dir, d.upload_dir);
    assert.equal(again.max_file_size_mb, 1024, 'other models get the general limit');
  });

  it('getPolicy refuses a missing key, a wrong action, a missing model; throttles per account and model when configured', async () => {
    await start({ uploads: { policyRatePerSecond: 1 } });
    const noKey = await rawRequest(policyUrl('voice-enrollment'), 'GET', {});
    assert.deepEqual([noKey.status, (JSON.parse(noKey.text) as { code: string }).code], [401, 'InvalidApiKey']);
    const badAction = await rawRequest(policyUrl('voice-enrollment', 'getpolicy'), 'GET', { Authorization: `Bearer ${KEY}` });
    assert.equal(badAction.status, 400);
    const noModel = await rawRequest(`${s().baseUrl}/api/v1/uploads?action=getPolicy`, 'GET', { Authorization: `Bearer ${KEY}` });
    assert.equal(noModel.status, 400);
    await getPolicy('voice-enrollment');
    const throttled = await rawRequest(policyUrl('voice-enrollment'), 'GET', { Authorization: `Bearer ${KEY}` });
    assert.deepEqual([throttled.status, (JSON.parse(throttled.text) as { code: string }).code], [429, 'Throttling.RateQuota']);
    await getPolicy('qwen-voice-enrollment'); // another model has its own budget
  });

  it('stores a form upload: 200 and no body with success_action_status=200, 204 without; tolerant of C#-style parts', async () => {
    await start();
    const file = wavSample({ seconds: 6 });
    const p = await getPolicy('voice-enrollment');
    const ok = await postForm(p, sdkFields(p, file));
    assert.deepEqual([ok.status, ok.text], [200, '']);
    const stored = s().uploads.objects()[0];
    assert.equal(stored?.key, `${p.upload_dir}/sample.wav`);
    assert.ok(stored?.bytes.equals(file));
    assert.equal(stored?.model, 'voice-enrollment');
    assert.equal(stored?.contentType, 'audio/wav');

    const p2 = await getPolicy('voice-enrollment');
    const noStatus = await postForm(p2, sdkFields(p2, file, 'b.wav', (f) => f.filter(([n]) => n !== 'success_action_status')), 'csharp');
    assert.deepEqual([noStatus.status, noStatus.text], [204, '']);
    assert.equal(s().uploads.objects().length, 2);
    const read = await rawRequest(p.upload_host, 'GET', {});
    assert.equal(read.status, 405, 'the bucket cannot be read back');
  });

  it('refuses forms that break the policy, with OSS XML errors', async () => {
    await start({ uploads: { maxFileSizeMb: { 'voice-enrollment': 0.001 } } });
    const p = await getPolicy('voice-enrollment');
    const small = Buffer.alloc(500);
    const expect = async (fields: FormField[], status: number, code: string, message?: RegExp): Promise<void> => {
      const r = await postForm(p, fields);
      assert.equal(r.status, status, r.text);
      assert.equal(ossCode(r), code);
      assert.equal(r.headers['content-type'], 'application/xml');
      if (message) assert.match(ossMessage(r) ?? '', message);
    };
    await expect(sdkFields(p, small, 'a.wav', (f) => [f[8] as FormField, ...f.slice(0, 8)]), 400, 'InvalidArgument', /last/);
    await expect(sdkFields(p, small, 'a.wav', (f) => f.filter(([n]) => n !== 'Signature')), 400, 'InvalidArgument');
    await expect(sdkFields(p, small, 'a.wav', (f) => f.map((x) => (x[0] === 'Signature' ? ['Signature', 'AAAA'] : x))), 403, 'AccessDenied', /signature/);
    await expect(sdkFields(p, small, 'a.wav', (f) => f.map((x) => (x[0] === 'key' ? ['key', 'dashscope-instant/elsewhere/a.wav'] : x))), 403, 'AccessDenied', /starts-with/);
    await expect(sdkFields(p, Buffer.alloc(2000)), 400, 'EntityTooLarge');
    const first = await postForm(p, sdkFields(p, small));
    assert.equal(first.status, 200);
    await expect(sdkFields(p, small), 409, 'FileAlreadyExists');
  });

  it('refuses an upload whose credential has expired', async () => {
    await start({ uploads: { policyExpireSeconds: 0 } });
    const p = await getPolicy('voice-enrollment');
    const r = await postForm(p, sdkFields(p, wavSample()));
    assert.deepEqual([r.status, ossCode(r), ossMessage(r)], [403, 'AccessDenied', 'Invalid according to Policy: Policy expired.']);
  });

  it('resolves oss:// in create_voice only with the header, for the uploading account and model, within 48 h', async () => {
    let now = Date.now();
    await start({ apiKeys: [KEY, 'sk-other-account'], uploads: { now: () => now } });
    const url = customizationUrl();
    const resolve = { Authorization: `Bearer ${KEY}`, 'X-DashScope-OssResourceResolve': 'enable' };
    const create = (sample: string, headers: Record<string, string> = resolve) =>
      postJson(url, { model: 'voice-enrollment', input: { action: 'create_voice', target_model: 'cosyvoice-v3-flash', prefix: 'oss', url: sample } }, headers);
    const sample = await uploadSample(wavSample({ sampleRate: 16000, seconds: 12 }), 'voice-enrollment');

    const noHeader = await create(sample, { Authorization: `Bearer ${KEY}` });
    assert.deepEqual([noHeader.status, noHeader.body.code], [400, 'invalid_parameter_error']);
    const ok = await create(sample);
    assert.equal(ok.status, 200);
    const id = (ok.body.output as { voice_id: string }).voice_id;
    assert.equal(s().voices.get(id)?.url, sample);

    const unknown = await create(`oss://dashscope-instant/x/${Date.now()}/nothing.wav`);
    assert.deepEqual([unknown.status, unknown.body.code], [400, 'InvalidParameter']);
    const otherModel = await create(await uploadSample(wavSample(), 'qwen-voice-enrollment'));
    assert.match(String(otherModel.body.message), /uploaded for model 'qwen-voice-enrollment'/);
    const foreign = await create(await uploadSample(wavSample(), 'voice-enrollment', 'sk-other-account'));
    assert.match(String(foreign.body.message), /another account/);
    now += 48 * 3600_000 + 1000;
    const expired = await create(sample);
    assert.match(String(expired.body.message), /expired/);
  });

  it('checks uploaded bytes like a downloaded sample: CosyVoice 430s, Qwen 400s', async () => {
    await start();
    const url = customizationUrl();
    const headers = { Authorization: `Bearer ${KEY}`, 'X-DashScope-OssResourceResolve': 'enable' };
    const cosy = async (file: Buffer) =>
      postJson(url, { model: 'voice-enrollment', input: { action: 'create_voice', target_model: 'cosyvoice-v2', prefix: 'x', url: await uploadSample(file, 'voice-enrollment') } }, headers);
    const lowRate = await cosy(wavSample({ sampleRate: 8000 }));
    assert.deepEqual([lowRate.status, lowRate.body.code], [430, 'Audio.AudioRateError']);
    const short = await cosy(wavSample({ sampleRate: 16000, seconds: 2 }));
    assert.deepEqual([short.status, short.body.code], [430, 'Audio.AudioSilentError']);
    const text = await cosy(Buffer.from('not audio at all'));
    assert.deepEqual([text.status, text.body.code], [430, 'Audio.DecoderError']);
    const qwen = await postJson(
      url,
      {
        model: 'qwen-voice-enrollment',
        input: { action: 'create', target_model: 'qwen3-tts-vc-realtime-2026-01-15', preferred_name: 'q', audio: { data: await uploadSample(wavSample({ sampleRate: 16000 }), 'qwen-voice-enrollment') } },
      },
      headers,
    );
    assert.deepEqual([qwen.status, qwen.body.code], [400, 'Audio.AudioRateError']);
  });
});
