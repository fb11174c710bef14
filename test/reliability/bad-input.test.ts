/**
 * Issue 9, bad input matrix: every kind of message or setting a user can get wrong, sent through
 * the real cosyvoice-stream and qwen-realtime nodes (built files, real Node-RED runtime, the
 * simulator as the service). Each row gets a specific error (a catch node sees msg.error.code and
 * a message naming the field) or a documented behaviour, and a good utterance sent right behind
 * the bad one still plays, byte for byte.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { DashScopeSimulator, expectedAudio, type SimulatorOptions } from '../simulator';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, freshServerEachTest, helper } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];

type ServiceName = 'cosyvoice' | 'qwen';
interface OutMsg {
  payload: Buffer;
  error?: { message: string; code?: string };
}
type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type Spy = { args: unknown[][] };

const SERVICES: Record<ServiceName, { type: string; props: Record<string, unknown>; voice: string }> = {
  cosyvoice: { type: 'cosyvoice-stream', props: { model: 'cosyvoice-v3-flash' }, voice: 'longanyang' },
  qwen: { type: 'qwen-realtime', props: { model: 'qwen3-tts-flash-realtime', mode: 'server_commit' }, voice: 'Cherry' },
};

const GOOD = 'All clear, the next message still plays.';

/** A message row: sent to a node whose own voice is blank, so message overrides apply. */
interface MessageRow {
  name: string;
  msg: Record<string, unknown>;
  /** The catch node's msg.error: code and a message naming the field. */
  error?: { code: string; message: RegExp };
  /** Documented: a warning, nothing sent to the service. */
  warn?: RegExp;
  /** Documented: spoken as it is (the text reaches the service unchanged). */
  spoken?: string;
}

const PAYLOAD_ROWS: MessageRow[] = [
  { name: 'a number payload', msg: { payload: 42 }, error: { code: 'InvalidInput', message: /msg\.payload must be a string.*got number/ } },
  { name: 'an object payload', msg: { payload: { text: 'hi' } }, error: { code: 'InvalidInput', message: /msg\.payload must be a string.*got object/ } },
  { name: 'a Buffer payload', msg: { payload: Buffer.from('hello') }, error: { code: 'InvalidInput', message: /msg\.payload must be a string.*got a Buffer/ } },
  { name: 'a null payload', msg: { payload: null }, error: { code: 'InvalidInput', message: /msg\.payload must be a string.*got null/ } },
  { name: 'an array payload', msg: { payload: ['a', 'b'] }, error: { code: 'InvalidInput', message: /msg\.payload must be a string.*got an array/ } },
  { name: 'a boolean payload', msg: { payload: true }, error: { code: 'InvalidInput', message: /msg\.payload must be a string.*got boolean/ } },
  { name: 'no payload at all', msg: {}, error: { code: 'InvalidInput', message: /msg\.payload must be a string.*got undefined/ } },
  { name: 'empty text', msg: { payload: '' }, warn: /empty text/ },
  { name: 'whitespace-only text', msg: { payload: ' \n\t\u00a0 ' }, warn: /empty text/ },
  { name: 'emoji', msg: { payload: 'Party time 🎉🎂 now.' }, spoken: 'Party time 🎉🎂 now.' },
  { name: 'control characters', msg: { payload: 'Bell\u0007 and nul\u0000 and escape\u001b.' }, spoken: 'Bell\u0007 and nul\u0000 and escape\u001b.' },
  { name: 'a lone surrogate', msg: { payload: 'Broken \ud800 pair.' }, spoken: 'Broken \ud800 pair.' },
];

const OVERRIDE_ROWS: Record<ServiceName, MessageRow[]> = {
  cosyvoice: [
    { name: 'msg.voice a number', msg: { payload: 'x', voice: 5 }, error: { code: 'InvalidOverride', message: /msg\.voice must be a string/ } },
    { name: 'msg.rate "fast"', msg: { payload: 'x', rate: 'fast' }, error: { code: 'InvalidOverride', message: /msg\.rate must be a number from 0\.5 to 2 \(got "fast"\)/ } },
    { name: 'msg.rate out of range', msg: { payload: 'x', rate: 3 }, error: { code: 'InvalidOverride', message: /msg\.rate must be a number from 0\.5 to 2/ } },
    { name: 'msg.pitch an object', msg: { payload: 'x', pitch: { v: 1 } }, error: { code: 'InvalidOverride', message: /msg\.pitch must be a number/ } },
    { name: 'msg.volume not whole', msg: { payload: 'x', volume: 50.5 }, error: { code: 'InvalidOverride', message: /msg\.volume must be a whole number from 0 to 100/ } },
    { name: 'msg.volume negative', msg: { payload: 'x', volume: -1 }, error: { code: 'InvalidOverride', message: /msg\.volume must be a whole number/ } },
    { name: 'msg.instruction a number', msg: { payload: 'x', instruction: 7 }, error: { code: 'InvalidOverride', message: /msg\.instruction must be a string/ } },
    { name: 'msg.instruction too long', msg: { payload: 'x', instruction: 'a'.repeat(101) }, error: { code: 'InvalidSetting', message: /instruction is longer than 100/ } },
    { name: 'msg.voice of another model', msg: { payload: 'x', voice: 'longxiaochun_v2' }, error: { code: 'VoiceModelMismatch', message: /longxiaochun_v2.*not cosyvoice-v3-flash/ } },
    { name: 'msg.voice a custom voice of another model', msg: { payload: 'x', voice: 'cosyvoice-v2-mine-0123456789abcdef' }, error: { code: 'VoiceModelMismatch', message: /created for cosyvoice-v2/ } },
  ],
  qwen: [
    { name: 'msg.voice a number', msg: { payload: 'x', voice: 5 }, error: { code: 'InvalidOverride', message: /msg\.voice must be a string/ } },
    { name: 'msg.rate "fast"', msg: { payload: 'x', rate: 'fast' }, error: { code: 'InvalidOverride', message: /msg\.rate must be a number from 0\.5 to 2 \(got "fast"\)/ } },
    { name: 'msg.pitch out of range', msg: { payload: 'x', pitch: 0.1 }, error: { code: 'InvalidOverride', message: /msg\.pitch must be a number from 0\.5 to 2/ } },
    { name: 'msg.volume a string', msg: { payload: 'x', volume: 'loud' }, error: { code: 'InvalidOverride', message: /msg\.volume must be a whole number/ } },
    { name: 'msg.languageType a number', msg: { payload: 'x', languageType: 5 }, error: { code: 'InvalidOverride', message: /msg\.languageType must be a string/ } },
    { name: 'msg.languageType unknown', msg: { payload: 'x', languageType: 'Klingon' }, error: { code: 'InvalidSetting', message: /languageType must be one of/ } },
    { name: 'msg.instructions a number', msg: { payload: 'x', instructions: 5 }, error: { code: 'InvalidOverride', message: /msg\.instructions must be a string/ } },
    { name: 'msg.instructions on a model without them', msg: { payload: 'x', instructions: 'whisper' }, error: { code: 'InvalidSetting', message: /does not take instructions/ } },
    { name: 'msg.voice of another model', msg: { payload: 'x', voice: 'qwen3-tts-vc-realtime-2026-01-15-mine-0123456789abcdef' }, error: { code: 'invalid_value', message: /./ } },
  ],
};

/** A node-property row: the node is deployed with this setting; every message is refused before the service. */
interface ConfigRow {
  name: string;
  props: Record<string, unknown>;
  code: string;
  message: RegExp;
}

const CONFIG_ROWS: Record<ServiceName, ConfigRow[]> = {
  cosyvoice: [
    { name: 'unknown model', props: { model: 'cosyvoice-v9' }, code: 'InvalidSetting', message: /unknown CosyVoice model "cosyvoice-v9"/ },
    { name: 'a Qwen model', props: { model: 'qwen3-tts-flash-realtime' }, code: 'InvalidSetting', message: /unknown CosyVoice model/ },
    { name: 'model a number', props: { model: 3 }, code: 'InvalidSetting', message: /model must be text \(got number\)/ },
    { name: 'voice a number', props: { voice: 5 }, code: 'InvalidSetting', message: /voice must be text \(got number\)/ },
    { name: 'voice of another model', props: { voice: 'longxiaochun_v2' }, code: 'VoiceModelMismatch', message: /longxiaochun_v2/ },
    { name: 'unknown format', props: { format: 'flac' }, code: 'InvalidSetting', message: /format: cosyvoice-v3-flash cannot produce flac/ },
    { name: 'format an object', props: { format: { a: 1 } }, code: 'InvalidSetting', message: /format must be text/ },
    { name: 'opus on cosyvoice-v1', props: { model: 'cosyvoice-v1', voice: 'longxiaochun', format: 'opus' }, code: 'InvalidSetting', message: /format: cosyvoice-v1 cannot produce opus/ },
    { name: 'sampleRate not offered', props: { sampleRate: 11025 }, code: 'InvalidSetting', message: /sampleRate must be one of/ },
    { name: 'sampleRate text', props: { sampleRate: 'fast' }, code: 'InvalidSetting', message: /sampleRate must be a whole number/ },
    { name: 'volume above 100', props: { volume: 101 }, code: 'InvalidSetting', message: /(^|\s)volume must be a whole number from 0 to 100/ },
    { name: 'volume text', props: { volume: 'loud' }, code: 'InvalidSetting', message: /(^|\s)volume must be a whole number/ },
    { name: 'rate below 0.5', props: { rate: '0.4' }, code: 'InvalidSetting', message: /(^|\s)rate must be a number from 0\.5 to 2/ },
    { name: 'pitch above 2', props: { pitch: 2.5 }, code: 'InvalidSetting', message: /(^|\s)pitch must be a number from 0\.5 to 2/ },
    { name: 'bitRate out of range (opus)', props: { format: 'opus', bitRate: 5 }, code: 'InvalidSetting', message: /bitRate must be a whole number from 6 to 510/ },
    { name: 'seed out of range', props: { seed: 70000 }, code: 'InvalidSetting', message: /seed must be a whole number from 0 to 65535/ },
    { name: 'seed not whole', props: { seed: 1.5 }, code: 'InvalidSetting', message: /seed must be a whole number/ },
    { name: 'languageHints a number', props: { languageHints: 5 }, code: 'InvalidSetting', message: /languageHints must be text/ },
    { name: 'instruction on a model without', props: { model: 'cosyvoice-v2', voice: 'longxiaochun_v2', instruction: 'speak slowly' }, code: 'InvalidSetting', message: /cosyvoice-v2 does not take an instruction/ },
    { name: 'instruction too long', props: { instruction: '慢'.repeat(51) }, code: 'InvalidSetting', message: /instruction is longer than 100 characters/ },
    { name: 'instruction a number', props: { instruction: 5 }, code: 'InvalidSetting', message: /instruction must be text/ },
    { name: 'SSML on a model without', props: { model: 'cosyvoice-v1', voice: 'longxiaochun', ssml: true }, code: 'InvalidSetting', message: /cosyvoice-v1 does not take SSML/ },
  ],
  qwen: [
    { name: 'unknown model', props: { model: 'qwen9-tts' }, code: 'InvalidSetting', message: /unknown Qwen realtime model "qwen9-tts"/ },
    { name: 'a CosyVoice model', props: { model: 'cosyvoice-v3-flash' }, code: 'InvalidSetting', message: /unknown Qwen realtime model/ },
    { name: 'model a number', props: { model: 3 }, code: 'InvalidSetting', message: /model must be text/ },
    { name: 'voice a number', props: { voice: 5 }, code: 'InvalidSetting', message: /voice must be text/ },
    { name: 'system voice on a clone-only model', props: { model: 'qwen3-tts-vc-realtime-2026-01-15', voice: 'Cherry' }, code: 'VoiceModelMismatch', message: /does not take system voices such as "Cherry"/ },
    { name: 'unknown mode', props: { mode: 'push' }, code: 'InvalidSetting', message: /mode must be server_commit or commit \(got "push"\)/ },
    { name: 'mode a number', props: { mode: 1 }, code: 'InvalidSetting', message: /mode must be text/ },
    { name: 'unknown format', props: { format: 'flac' }, code: 'InvalidSetting', message: /format: qwen3-tts-flash-realtime cannot produce flac/ },
    { name: 'mp3 on qwen-tts-realtime', props: { model: 'qwen-tts-realtime', format: 'mp3' }, code: 'InvalidSetting', message: /format: qwen-tts-realtime cannot produce mp3/ },
    { name: 'sampleRate not offered', props: { sampleRate: 22050 }, code: 'InvalidSetting', message: /sampleRate must be one of 8000, 16000, 24000, 48000/ },
    { name: 'sampleRate negative', props: { sampleRate: -1 }, code: 'InvalidSetting', message: /sampleRate must be a whole number/ },
    { name: 'speechRate above 2', props: { speechRate: 3 }, code: 'InvalidSetting', message: /(^|\s)speechRate must be a number from 0\.5 to 2/ },
    { name: 'volume text', props: { volume: 'x' }, code: 'InvalidSetting', message: /(^|\s)volume must be a whole number/ },
    { name: 'pitchRate zero', props: { pitchRate: 0 }, code: 'InvalidSetting', message: /(^|\s)pitchRate must be a number from 0\.5 to 2/ },
    { name: 'bitRate out of range (opus)', props: { format: 'opus', bitRate: 600 }, code: 'InvalidSetting', message: /bitRate must be a whole number from 6 to 510/ },
    { name: 'languageType unknown', props: { languageType: 'Klingon' }, code: 'InvalidSetting', message: /languageType must be one of/ },
    { name: 'languageType a number', props: { languageType: 7 }, code: 'InvalidSetting', message: /languageType must be text/ },
    { name: 'instructions on a model without', props: { instructions: 'whisper' }, code: 'InvalidSetting', message: /does not take instructions/ },
    { name: 'instructions an object', props: { model: 'qwen3-tts-instruct-flash-realtime', instructions: {} }, code: 'InvalidSetting', message: /instructions must be text/ },
  ],
};

describe('bad input matrix (issue 9)', function () {
  this.timeout(30_000);
  let sim: DashScopeSimulator;

  async function deploy(service: ServiceName, props: Record<string, unknown>, simOptions: SimulatorOptions = {}): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    const s = SERVICES[service];
    await helper.load(nodes, synthesisFlow(sim.baseUrl, { id: 'tts', type: s.type, ...s.props, ...props }), { cfg: { apiKey: KEY } });
  }

  freshServerEachTest({ after: () => sim?.close() });

  const tts = (): Receiver => helper.getNode('tts') as Receiver;
  const node = (id: string): Node => helper.getNode(id);
  const spyArgs = (name: 'warn' | 'error' | 'status'): unknown[][] => ((tts() as unknown as Record<string, Spy>)[name]?.args ?? []);
  const tasksStarted = (): number => sim.stats.tasks.started + sim.stats.connections.qwen;

  /** Sends `bad`, then a good utterance; resolves with what the catch node and the join saw. */
  async function badThenGood(service: ServiceName, bad: Record<string, unknown>, utterances = 1, goodSampleRate = 24000): Promise<{ caught: OutMsg[] }> {
    const caught = collect<OutMsg>(node('caught'));
    const joined = collect<OutMsg>(node('joined'));
    tts().receive(bad);
    tts().receive({ payload: GOOD, voice: SERVICES[service].voice });
    await waitFor(() => joined.length >= utterances, 10_000, 'the good utterance');
    // Give a late error from the bad row a moment to arrive, so it is counted.
    await new Promise((r) => setTimeout(r, 50));
    const expected = expectedAudio({ text: GOOD, voice: SERVICES[service].voice, sampleRate: goodSampleRate, service });
    const last = joined[joined.length - 1] as OutMsg;
    assert.ok(last.payload.equals(expected), `the utterance queued behind the bad one plays byte-exact (${last.payload.length} vs ${expected.length})`);
    return { caught };
  }

  for (const service of ['cosyvoice', 'qwen'] as const) {
    describe(`${SERVICES[service].type}: messages`, () => {
      for (const row of [...PAYLOAD_ROWS, ...OVERRIDE_ROWS[service]]) {
        it(`${row.name}: ${row.error ? `${row.error.code}` : row.warn ? 'a warning, nothing sent' : 'spoken as is'}; the next utterance plays`, async () => {
          await deploy(service, { voice: '' });
          const joined = collect<OutMsg>(node('joined'));
          const { caught } = await badThenGood(service, row.msg, row.spoken === undefined ? 1 : 2);
          if (row.error) {
            assert.equal(caught.length, 1, 'exactly one error reaches the catch node');
            assert.equal(caught[0]?.error?.code, row.error.code);
            assert.match(caught[0]?.error?.message ?? '', row.error.message);
            assert.equal(joined.length, 1, 'the bad message made no audio');
          } else if (row.warn) {
            assert.equal(caught.length, 0);
            assert.ok(spyArgs('warn').some((a) => row.warn?.test(String(a[0]))), 'a warning says why nothing was spoken');
            assert.equal(joined.length, 1, 'nothing was spoken for it');
            assert.equal(service === 'cosyvoice' ? sim.stats.tasks.started : 1, 1, 'only the good utterance reached the service');
          } else {
            assert.equal(caught.length, 0, `no error: ${caught[0]?.error?.message}`);
            assert.equal(joined.length, 2);
            const spoken = row.spoken as string;
            assert.ok(joined[0]?.payload.equals(expectedAudio({ text: spoken, voice: SERVICES[service].voice, sampleRate: 24000, service })), 'the text reached the service unchanged');
          }
        });
      }
    });

    describe(`${SERVICES[service].type}: node settings`, () => {
      for (const row of CONFIG_ROWS[service]) {
        it(`${row.name}: ${row.code} at deploy and for every message, before the service is called`, async () => {
          await deploy(service, { voice: SERVICES[service].voice, ...row.props });
          const deployError = spyArgs('error').map((a) => String(a[0]));
          assert.ok(deployError.some((m) => row.message.test(m)), `deploy says what is wrong: ${deployError.join(' | ')}`);
          const status = spyArgs('status').map((a) => a[0] as { fill?: string; text?: string });
          assert.equal(status[status.length - 1]?.fill, 'red');
          const caught = collect<OutMsg>(node('caught'));
          tts().receive({ payload: 'first' });
          tts().receive({ payload: 'second' });
          await waitFor(() => caught.length === 2, 5000, 'two errors');
          for (const c of caught) {
            assert.equal(c.error?.code, row.code);
            assert.match(c.error?.message ?? '', row.message);
          }
          assert.equal(tasksStarted(), 0, 'nothing reached the service');
        });
      }
    });
  }

  // A node on a model that has no system voices and no voice of its own is waiting for msg.voice
  // (the voice-design example): nothing is wrong at deploy; only a message without one is refused.
  const CUSTOM_ONLY = {
    cosyvoice: { model: 'cosyvoice-v3.5-flash', service: 'voice-enrollment', kind: 'clone', message: /cosyvoice-v3\.5-flash has no system voices: .*msg\.voice/ },
    qwen: { model: 'qwen3-tts-vd-realtime-2026-01-15', service: 'qwen-voice-design', kind: 'design', message: /qwen3-tts-vd-realtime-2026-01-15 speaks only custom voices: .*msg\.voice/ },
  } as const;
  for (const service of ['cosyvoice', 'qwen'] as const) {
    it(`${SERVICES[service].type}: no voice on a custom-voice-only model waits for msg.voice: no deploy error or warning; a message without one is VoiceRequired, one with it is spoken`, async () => {
      const only = CUSTOM_ONLY[service];
      await deploy(service, { model: only.model, voice: '' });
      const errors = spyArgs('error').map((a) => String(a[0]));
      const warnings = spyArgs('warn').map((a) => String(a[0]));
      assert.deepEqual(errors, [], 'no error at deploy');
      assert.deepEqual(warnings, [], 'no warning at deploy');
      const statuses = spyArgs('status').map((a) => a[0] as { fill?: string });
      assert.notEqual(statuses[statuses.length - 1]?.fill, 'red', 'the status is not an error');

      const caught = collect<OutMsg>(node('caught'));
      const joined = collect<OutMsg>(node('joined'));
      tts().receive({ payload: 'Who am I?' });
      await waitFor(() => caught.length === 1, 5000, 'the refusal');
      assert.equal(caught[0]?.error?.code, 'VoiceRequired');
      assert.match(caught[0]?.error?.message ?? '', only.message);
      assert.equal(tasksStarted(), 0, 'nothing reached the service');

      const voice = sim.voices.add({ service: only.service, targetModel: only.model, kind: only.kind, name: 'mine', status: 'OK' });
      tts().receive({ payload: GOOD, voice: voice.id });
      await waitFor(() => joined.length === 1 || caught.length > 1, 10_000, 'the utterance with msg.voice');
      assert.equal(caught.length, 1, `no second error: ${caught[1]?.error?.message}`);
      assert.ok(joined[0]?.payload.equals(expectedAudio({ text: GOOD, voice: voice.id, sampleRate: 24000, service })), 'spoken with the voice the message gave');
    });
  }

  for (const service of ['cosyvoice', 'qwen'] as const) {
    it(`${SERVICES[service].type}: waiting for msg.voice does not hide another bad setting: it is a deploy error`, async () => {
      await deploy(service, { model: CUSTOM_ONLY[service].model, voice: '', sampleRate: 12345 });
      const errors = spyArgs('error').map((a) => String(a[0]));
      assert.ok(errors.some((m) => /sampleRate must be one of/.test(m)), `deploy says what is wrong: ${errors.join(' | ')}`);
      const statuses = spyArgs('status').map((a) => a[0] as { fill?: string });
      assert.equal(statuses[statuses.length - 1]?.fill, 'red');
    });
  }

  it('cosyvoice-stream: SSML is not validated by the node (the service judges it): broken markup is sent as it is, and the next utterance plays', async () => {
    await deploy('cosyvoice', { voice: '', ssml: true });
    const broken = '<speak>Hello <break time="500ms"></speak';
    const { caught } = await badThenGood('cosyvoice', { payload: broken, voice: 'longanyang' }, 2);
    assert.equal(caught.length, 0);
    const sent = sim.transcripts.flatMap((t) => t.entries).filter((e) => e.dir === 'C').map((e) => e.json as { header?: { action?: string }; payload?: { input?: { text?: string }; parameters?: { enable_ssml?: boolean } } });
    assert.ok(sent.some((m) => m.header?.action === 'run-task' && m.payload?.parameters?.enable_ssml === true));
    assert.ok(sent.some((m) => m.header?.action === 'continue-task' && m.payload?.input?.text === broken), 'SSML is sent whole, never split inside a tag');
  });

  it('cosyvoice-stream: a custom voice still deploying is the service\'s error, with its code; the next utterance plays', async () => {
    await deploy('cosyvoice', { voice: '' }, { customization: { deployMs: 60_000 } });
    const voice = sim.voices.add({ service: 'voice-enrollment', targetModel: 'cosyvoice-v3-flash', kind: 'clone', name: 'fresh', status: 'DEPLOYING' });
    const { caught } = await badThenGood('cosyvoice', { payload: 'Not ready yet.', voice: voice.id });
    assert.equal(caught.length, 1);
    assert.equal(caught[0]?.error?.code, 'NoAudio');
    assert.match(caught[0]?.error?.message ?? '', new RegExp(`custom voice "${voice.id}" still deploying`));
  });

  it('qwen-realtime: a custom voice still deploying is the service\'s error, with its code; the next utterance plays', async () => {
    await deploy('qwen', { voice: '' }, { customization: { deployMs: 60_000 } });
    const voice = sim.voices.add({ service: 'qwen-voice-enrollment', targetModel: 'qwen3-tts-flash-realtime', kind: 'clone', name: 'fresh', status: 'DEPLOYING' });
    const { caught } = await badThenGood('qwen', { payload: 'Not ready yet.', voice: voice.id });
    assert.equal(caught.length, 1);
    assert.equal(caught[0]?.error?.code, 'invalid_value', "the service's own code");
    assert.ok(caught[0]?.error?.message.includes(voice.id), 'the message names the voice');
  });

  for (const service of ['cosyvoice', 'qwen'] as const) {
    it(`${SERVICES[service].type}, stream input: a non-string token mid-stream is refused alone; the stream around it is spoken whole`, async () => {
      await deploy(service, { voice: SERVICES[service].voice, input: 'stream' });
      const caught = collect<OutMsg>(node('caught'));
      const joined = collect<OutMsg>(node('joined'));
      tts().receive({ payload: 'The door ' });
      tts().receive({ payload: 42 });
      tts().receive({ payload: 'is open.' });
      tts().receive({ payload: null, complete: true });
      await waitFor(() => joined.length === 1, 10_000, 'the streamed utterance');
      assert.equal(caught.length, 1);
      assert.equal(caught[0]?.error?.code, 'InvalidInput');
      assert.match(caught[0]?.error?.message ?? '', /msg\.payload must be a string.*got number/);
      assert.ok(joined[0]?.payload.equals(expectedAudio({ text: 'The door is open.', voice: SERVICES[service].voice, sampleRate: 24000, service })));
    });
  }

  describe('long text (8 kHz, so the simulator\'s audio stays small: 60 ms of PCM per character)', () => {
    const longText = (chars: number): string => 'The weather stays fine. '.repeat(Math.ceil(chars / 24)).slice(0, chars);
    type Sent = { header?: { action?: string; task_id?: string }; payload?: { input?: { text?: string } } };
    const clientMessages = (): Sent[] => sim.transcripts.flatMap((t) => t.entries).filter((e) => e.dir === 'C' && e.json).map((e) => e.json as Sent);

    it('cosyvoice-stream, 25 000 characters: split over continue-task messages of at most 20 000, all spoken, byte count exact; the next utterance plays', async () => {
      await deploy('cosyvoice', { voice: '', sampleRate: 8000 });
      const text = longText(25_000);
      const joined = collect<OutMsg>(node('joined'));
      const caught = collect<OutMsg>(node('caught'));
      tts().receive({ payload: text, voice: 'longanyang' });
      tts().receive({ payload: GOOD, voice: 'longanyang' });
      await waitFor(() => joined.length === 2 || caught.length > 0, 20_000, 'both utterances');
      assert.equal(caught.length, 0);
      const pieces = clientMessages().filter((m) => m.header?.action === 'continue-task').map((m) => m.payload?.input?.text ?? '');
      assert.ok(pieces.length >= 3, `${pieces.length} continue-task messages`);
      assert.ok(pieces.every((p) => p.length <= 20_000));
      assert.equal(pieces.slice(0, -1).join(''), text, 'every character sent once, in order, in one task');
      assert.equal(sim.stats.tasks.started, 2, 'one task for the long text, one for the next utterance');
      assert.equal(joined[0]?.payload.length, expectedAudio({ text, voice: 'longanyang', sampleRate: 8000 }).length);
      assert.ok(joined[1]?.payload.equals(expectedAudio({ text: GOOD, voice: 'longanyang', sampleRate: 8000 })));
    });

    it('qwen-realtime, 25 000 characters (no documented limit: the node sends it as it is), all spoken, byte count exact; the next utterance plays', async () => {
      await deploy('qwen', { voice: '', sampleRate: 8000 });
      const text = longText(25_000);
      const joined = collect<OutMsg>(node('joined'));
      const caught = collect<OutMsg>(node('caught'));
      tts().receive({ payload: text, voice: 'Cherry' });
      tts().receive({ payload: GOOD, voice: 'Cherry' });
      await waitFor(() => joined.length === 2 || caught.length > 0, 20_000, 'both utterances');
      assert.equal(caught.length, 0);
      const appends = sim.transcripts.flatMap((t) => t.entries).filter((e) => e.dir === 'C').map((e) => e.json as { type?: string; text?: string }).filter((m) => m.type === 'input_text_buffer.append');
      assert.equal(appends[0]?.text, text, 'the whole text in one append');
      assert.equal(joined[0]?.payload.length, expectedAudio({ text, voice: 'Cherry', sampleRate: 8000, service: 'qwen' }).length);
      assert.ok(joined[1]?.payload.equals(expectedAudio({ text: GOOD, voice: 'Cherry', sampleRate: 8000, service: 'qwen' })));
    });
  });
});
