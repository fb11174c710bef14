import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import type { CustomVoice } from '../../src/dashscope/customization';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio, sentencePcm } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { editorDefinition } from '../support/editor-definition';
import { builtNode, collect, coreNode, freshServerEachTest, helper, nextMessages, type TestFlows } from '../support/node-red';

const KEY = 'sk-test-key';
const nodes = [
  builtNode('tts-config'),
  builtNode('voice-design'),
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
  customVoice?: CustomVoice;
  error?: { message: string; code?: string };
}

interface PreviewMsg {
  payload: Buffer;
  voice?: string;
  model?: string;
  topic?: string;
  audio?: { format: string; sampleRate: number; channels: number; bitDepth?: number };
  parts?: { id: string; index: number; count?: number; type: string };
}

type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type StatusSpy = { getCalls(): { thisValue: unknown; args: { fill?: string; text?: string }[] }[] };
type TextSpy = { getCalls(): { thisValue: unknown; args: unknown[] }[] };

const SPOKEN = 'Good evening, here is the news.';
const PREVIEW_EN = 'Dear listeners, hello everyone, welcome to the evening news.';

describe('voice-design node', () => {
  let sim: DashScopeSimulator;

  /** design → voice / (change → synthesis → join → joined); design preview → previews and (join → previewJoined). */
  async function start(design: Record<string, unknown> = {}, simOptions: SimulatorOptions = {}, synth: Record<string, unknown> = {}): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    const qwen = design.family === 'qwen';
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      {
        id: 'design',
        type: 'voice-design',
        z: 'tab',
        config: 'cfg',
        family: 'cosyvoice',
        targetModel: qwen ? 'qwen3-tts-vd-realtime-2026-01-15' : 'cosyvoice-v3-flash',
        voicePrompt: 'A composed middle-aged male announcer with a deep, warm voice.',
        previewText: PREVIEW_EN,
        voiceName: 'announcer',
        language: '',
        sampleRate: 24000,
        format: 'wav',
        action: 'create',
        pollInterval: '0.02',
        pollTimeout: '5',
        wires: [['voice', 'say'], ['previews', 'previewJoiner']],
        ...design,
      },
      { id: 'voice', type: 'helper', z: 'tab' },
      { id: 'previews', type: 'helper', z: 'tab' },
      { id: 'previewJoiner', type: 'join', z: 'tab', mode: 'auto', wires: [['previewJoined']] },
      { id: 'previewJoined', type: 'helper', z: 'tab' },
      { id: 'say', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: SPOKEN, tot: 'str' }], wires: [['speak']] },
      qwen
        ? { id: 'speak', type: 'qwen-realtime', z: 'tab', config: 'cfg', model: 'qwen3-tts-vd-realtime-2026-01-15', voice: '', mode: 'commit', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['joiner'], []], ...synth }
        : { id: 'speak', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: '', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['joiner'], []], ...synth },
      { id: 'joiner', type: 'join', z: 'tab', mode: 'auto', wires: [['joined']] },
      { id: 'joined', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
  }

  freshServerEachTest({ ownSettings: true, after: () => sim?.close() });

  const design = (): Receiver => helper.getNode('design') as Receiver;
  const node = (id: string): Node => helper.getNode(id);
  const statuses = (): { fill?: string; text?: string }[] =>
    (design() as unknown as { status: StatusSpy }).status
      .getCalls()
      .filter((c) => c.thisValue === design())
      .map((c) => c.args[0] ?? {});

  it('CosyVoice: the preview comes out at once as PCM chunks, the voice once it is OK, and it speaks', async () => {
    await start({}, { customization: { deployMs: 120 } });
    const previews = collect<PreviewMsg>(node('previews'));
    const wholePreview = nextMessages<PreviewMsg>(node('previewJoined'), 1);
    const voice = nextMessages<VoiceMsg>(node('voice'), 1);
    const joined = nextMessages<PreviewMsg>(node('joined'), 1);
    design().receive({ topic: 'studio' });

    const [whole] = await wholePreview;
    const [msg] = await voice;
    const id = msg?.payload as string;
    assert.match(id, /^cosyvoice-v3-flash-vd-announcer-[0-9a-f]{32}$/);
    assert.deepEqual([msg?.voice, msg?.model, msg?.topic, msg?.customVoice?.status, msg?.customVoice?.kind], [id, 'cosyvoice-v3-flash', 'studio', 'OK', 'design']);

    // The same contract as the synthesis nodes' audio: chunk(s), then an empty end marker with count.
    assert.equal(previews.length, 2);
    assert.deepEqual(previews[0]?.audio, { format: 'pcm', sampleRate: 24000, channels: 1, bitDepth: 16 });
    assert.deepEqual(previews[1]?.parts, { id: previews[0]?.parts?.id, index: 1, type: 'buffer', count: 2 });
    assert.equal(previews[1]?.payload.length, 0);
    assert.deepEqual([previews[0]?.voice, previews[0]?.topic], [id, 'studio']);
    assert.ok(whole?.payload.equals(sentencePcm(PREVIEW_EN, id, 24000)), 'the WAV header is stripped: pure PCM of the preview text');
    assert.equal(sim.voices.get(id)?.language, 'en', 'the language was taken from the preview text');

    const [audio] = await joined;
    assert.ok(audio?.payload.equals(expectedAudio({ text: SPOKEN, voice: id, sampleRate: 24000 })));
    const texts = statuses().map((s) => s.text);
    assert.ok(texts.includes('designing voice'), texts.join(' | '));
    assert.ok(texts.some((t) => /^deploying/.test(t ?? '')), texts.join(' | '));
  });

  it('Qwen: the prompt from msg.payload, a 16 kHz PCM preview, and qwen-realtime with the -vd- model speaks', async () => {
    await start({ family: 'qwen', voicePrompt: '', format: 'pcm', sampleRate: 16000, voiceName: 'news_voice' });
    const previews = collect<PreviewMsg>(node('previews'));
    const voice = nextMessages<VoiceMsg>(node('voice'), 1);
    const joined = nextMessages<PreviewMsg>(node('joined'), 1);
    design().receive({ payload: 'A bright young female voice, quick and cheerful.' });
    const [msg] = await voice;
    const id = msg?.voice as string;
    assert.match(id, /^qwen-tts-vd-news_voice-voice-/);
    assert.equal(msg?.model, 'qwen3-tts-vd-realtime-2026-01-15');
    assert.equal(sim.voices.get(id)?.voicePrompt, 'A bright young female voice, quick and cheerful.');
    assert.deepEqual(previews[0]?.audio, { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16 });
    assert.ok(previews[0]?.payload.equals(sentencePcm(PREVIEW_EN, id, 16000)));
    assert.equal(sim.stats.httpRequests, 1, 'usable at once: no status queries');
    const [audio] = await joined;
    assert.ok(audio?.payload.equals(expectedAudio({ text: SPOKEN, voice: id, sampleRate: 24000, service: 'qwen', qwenMode: 'commit' })));
  });

  it('an mp3 preview is passed on as mp3', async () => {
    await start({ format: 'mp3' });
    const previews = nextMessages<PreviewMsg>(node('previews'), 2);
    design().receive({});
    const [first] = await previews;
    assert.deepEqual(first?.audio, { format: 'mp3', sampleRate: 24000, channels: 1 });
    assert.equal(first?.payload.toString('latin1', 0, 3), 'ID3');
  });

  it('checks the prompt and preview rules before the (billed) call', async () => {
    await start({ family: 'qwen', voicePrompt: '', previewText: '' });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ payload: 'x'.repeat(2049), previewText: PREVIEW_EN }, /2049 characters; the limit is 2048/],
      [{ payload: 'やさしい女性の声', previewText: PREVIEW_EN }, /Chinese or English .*kana/],
      [{ payload: 'A calm voice', previewText: 'Too short.' }, /at least 15/],
      [{ payload: 'A calm voice', previewText: PREVIEW_EN, language: 'zh' }, /language "zh", but it has no Chinese characters/],
      [{ payload: 'A calm voice' }, /preview text is empty/],
      [{ payload: 42, previewText: PREVIEW_EN }, /description .* is empty/],
    ];
    const caught = nextMessages<VoiceMsg>(node('caught'), cases.length);
    for (const [msg] of cases) design().receive(msg);
    const errs = await caught;
    cases.forEach(([, message], i) => {
      assert.equal(errs[i]?.error?.code, 'InvalidDesign', `case ${i}`);
      assert.match(errs[i]?.error?.message ?? '', message);
    });
    assert.equal(sim.stats.httpRequests, 0, 'nothing reached the simulator');
  });

  it('CosyVoice limits differ: 500 characters of description, zh or en only', async () => {
    await start({ voicePrompt: '' });
    const caught = nextMessages<VoiceMsg>(node('caught'), 2);
    design().receive({ payload: '很'.repeat(501) });
    design().receive({ payload: 'calm', language: 'fr' });
    const errs = await caught;
    assert.match(errs[0]?.error?.message ?? '', /501 characters; the limit is 500/);
    assert.match(errs[1]?.error?.message ?? '', /"fr" is not offered; use one of zh, en/);
    assert.equal(sim.stats.httpRequests, 0);
  });

  it("uses the node's own prompt over msg.payload, and says so", async () => {
    await start();
    const voice = nextMessages<VoiceMsg>(node('voice'), 1);
    const warned = new Promise<string>((resolve) => design().once('call:warn', (call: { args: unknown[] }) => resolve(String(call.args[0]))));
    design().receive({ payload: 'Some other description' });
    assert.match(await warned, /msg\.payload was not used/);
    const [msg] = await voice;
    assert.equal(sim.voices.get(msg?.voice as string)?.voicePrompt, 'A composed middle-aged male announcer with a deep, warm voice.');
  });

  for (const family of ['cosyvoice', 'qwen'] as const) {
    it(`${family}: list (designs only), query and delete by msg.action (Action "from msg.action")`, async () => {
      await start({ family, action: 'msg', wires: [['voice'], []] });
      const created = nextMessages<VoiceMsg>(node('voice'), 1);
      design().receive({ action: 'create' });
      const id = (await created)[0]?.voice as string;
      if (family === 'cosyvoice') sim.voices.add({ service: 'voice-enrollment', kind: 'clone', targetModel: 'cosyvoice-v3-flash', status: 'OK' });
      const answers = nextMessages<VoiceMsg>(node('voice'), 3);
      design().receive({ action: 'list' });
      design().receive({ action: 'query', payload: id });
      design().receive({ action: 'delete', voice: id });
      const [list, query, del] = await answers;
      assert.deepEqual((list?.payload as CustomVoice[]).map((v) => [v.voice, v.kind]), [[id, 'design']]);
      const q = query?.payload as CustomVoice;
      assert.deepEqual([q.voice, q.kind, q.previewText, query?.model], [id, 'design', PREVIEW_EN, family === 'qwen' ? 'qwen3-tts-vd-realtime-2026-01-15' : 'cosyvoice-v3-flash']);
      assert.deepEqual(del?.payload, { voice: id, deleted: true });
      assert.equal(sim.voices.get(id), undefined);
    });
  }

  describe('msg.action only when the Action is "from msg.action"', () => {
    const warnings = (): string[] =>
      (design() as unknown as { warn: TextSpy }).warn
        .getCalls()
        .filter((c) => c.thisValue === design())
        .map((c) => String(c.args[0]));
    const QWEN_TARGET = 'qwen3-tts-vd-realtime-2026-01-15';

    it('a node set to create ignores msg.action "delete" and "list" (warning once) and designs; nothing is listed or deleted', async () => {
      await start({ family: 'qwen', wires: [['voice'], []] });
      const kept = sim.voices.add({ service: 'qwen-voice-design', targetModel: QWEN_TARGET, name: 'keep' });
      const made = nextMessages<VoiceMsg & { action?: string }>(node('voice'), 2);
      design().receive({ action: 'delete', voice: kept.id });
      design().receive({ action: 'list' });
      const msgs = await made;
      assert.deepEqual(msgs.map((m) => [/^qwen-tts-vd-announcer-/.test(m.voice ?? ''), m.action]), [[true, 'create'], [true, 'create']], 'designed; msg.action says what was done');
      assert.ok(sim.voices.get(kept.id), 'the voice msg.action named is still there');
      assert.equal(sim.voices.count('qwen-voice-design'), 3);
      assert.equal(sim.stats.httpRequests, 2, 'two designs, no list, no delete');
      assert.equal(warnings().length, 1, warnings().join(' | '));
      assert.match(warnings()[0] ?? '', /msg\.action "delete" was ignored: this node always does "create"\. To let messages choose the action, set the node's Action to "from msg\.action"/);
    });

    it('Action "from msg.action": msg.action "list" lists; none or an unknown one is an error to catch, and the next message works', async () => {
      await start({ family: 'qwen', action: 'msg', wires: [['voice'], []] });
      assert.notEqual(statuses()[0]?.fill, 'red', '"msg" is a valid Action at deploy');
      const kept = sim.voices.add({ service: 'qwen-voice-design', targetModel: QWEN_TARGET, name: 'keep' });
      const caught = nextMessages<VoiceMsg>(node('caught'), 2);
      design().receive({});
      design().receive({ action: 'update', voice: kept.id });
      const errs = await caught;
      assert.deepEqual(errs.map((e) => e.error?.code), ['InvalidInput', 'InvalidInput']);
      assert.match(errs[0]?.error?.message ?? '', /takes its action from the message: set msg\.action to one of create, list, query, delete/);
      assert.match(errs[1]?.error?.message ?? '', /msg\.action must be one of create, list, query, delete \(got "update"\)/);
      assert.equal(sim.stats.httpRequests, 0);
      const listed = nextMessages<VoiceMsg>(node('voice'), 1);
      design().receive({ action: 'list' });
      assert.deepEqual(((await listed)[0]?.payload as CustomVoice[]).map((v) => v.voice), [kept.id]);
      assert.deepEqual(warnings(), []);
    });
  });

  it('does not design anything on deploy, and refuses a model design does not serve', async () => {
    await start({ targetModel: 'cosyvoice-v2' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(sim.stats.httpRequests, 0);
    assert.match(statuses()[0]?.text ?? '', /^CosyVoice voice design cannot make voices for/);
    assert.equal(statuses()[0]?.fill, 'red');
    const caught = nextMessages<VoiceMsg>(node('caught'), 1);
    design().receive({});
    const [err] = await caught;
    assert.equal(err?.error?.code, 'InvalidSetting');
    assert.match(err?.error?.message ?? '', /cannot make voices for "cosyvoice-v2"; it serves cosyvoice-v3\.5-plus, cosyvoice-v3\.5-flash, cosyvoice-v3-plus, cosyvoice-v3-flash/);
    assert.equal(sim.stats.httpRequests, 0);
  });

  it('a message Node-RED cannot clone for the second wire: the job goes on (the voice id still goes out), then SendFailed to catch, and the next message works', async () => {
    await start({ family: 'qwen' });
    const caught = collect<VoiceMsg>(node('caught'));
    const voices = collect<VoiceMsg>(node('voice'));
    // Output 2 goes to two wires: Node-RED clones the preview for the second inside send(), and this cannot be cloned.
    const trap = {
      get boom(): never {
        throw new Error('cannot clone this');
      },
    };
    design().receive({ topic: 'trap', trap });
    design().receive({ topic: 'fine' });
    await waitFor(() => voices.some((v) => v.topic === 'fine'), 5000, 'the next voice');
    await waitFor(() => caught.length === 1, 2000, 'the error');
    const made = voices.find((v) => v.topic === 'trap')?.voice;
    assert.ok(made && sim.voices.get(made), "the voice made for it still went out on output 1's first wire");
    assert.equal(caught[0]?.error?.code, 'SendFailed');
    assert.match(caught[0]?.error?.message ?? '', new RegExp(`${made}, but a message could not be passed on: cannot clone this`));
    assert.deepEqual(
      voices.map((v) => v.topic),
      ['trap', 'fine'],
    );
  });

  it('messages waiting beyond settings.js ttsLimits.queuedUtterances are refused with QueueFull; those taken all complete', async () => {
    helper.settings({ ttsLimits: { queuedUtterances: 2 } } as unknown as Parameters<typeof helper.settings>[0]);
    await start({}, { customization: { deployMs: 300 } });
    const caught = collect<VoiceMsg>(node('caught'));
    const voices = collect<VoiceMsg>(node('voice'));
    for (const topic of ['one', 'two', 'three']) design().receive({ topic });
    await waitFor(() => caught.length === 1, 2000, 'the refusal');
    assert.deepEqual([caught[0]?.topic, caught[0]?.error?.code], ['three', 'QueueFull']);
    assert.match(caught[0]?.error?.message ?? '', /2 messages are already waiting .*ttsLimits\.queuedUtterances/);
    await waitFor(() => voices.length === 2, 5000, 'the two voices');
    design().receive({ topic: 'four' });
    await waitFor(() => voices.length === 3, 5000, 'room again');
    assert.deepEqual(
      voices.map((v) => v.topic),
      ['one', 'two', 'four'],
    );
    assert.equal(caught.length, 1);
  });

  it('a full voice quota reaches catch with the service code and a plain explanation', async () => {
    await start({ family: 'qwen' }, { customization: { quota: 0 } });
    const caught = nextMessages<VoiceMsg>(node('caught'), 1);
    design().receive({});
    const [err] = await caught;
    assert.equal(err?.error?.code, 'Throttling.AllocationQuota');
    assert.match(err?.error?.message ?? '', /voice quota reached: .*Qwen voice design/);
    await waitFor(() => statuses().some((s) => s.fill === 'red'), 1000, 'red status');
  });

  it('the editor defines exactly the properties the runtime reads, validates them per family, and has help', () => {
    const { definition: d, help } = editorDefinition('voice-design');
    assert.deepEqual([d.category, d.color, d.icon, d.inputs, d.outputs], ['DashScope TTS', '#C7B3E5', 'dashscope-design.svg', 1, 2]);
    assert.deepEqual(Object.keys(d.defaults).sort(), [
      'action', 'config', 'family', 'format', 'language', 'name', 'pollInterval', 'pollTimeout', 'previewText', 'sampleRate', 'targetModel', 'voiceName', 'voicePrompt',
    ]);
    const valid = (prop: string, value: unknown, family: string): boolean => d.defaults[prop]?.validate?.call({ family }, value) ?? true;
    assert.ok(!valid('targetModel', 'cosyvoice-v2', 'cosyvoice'), 'design serves v3 and v3.5 only');
    assert.ok(valid('targetModel', 'cosyvoice-v3.5-flash', 'cosyvoice'));
    assert.ok(valid('voicePrompt', 'x'.repeat(2048), 'qwen'));
    assert.ok(!valid('voicePrompt', 'x'.repeat(501), 'cosyvoice'));
    assert.ok(!valid('previewText', 'Too short.', 'qwen'));
    assert.ok(valid('previewText', String(d.defaults.previewText?.value), 'qwen'), 'the default preview text suits both families');
    assert.ok(valid('previewText', String(d.defaults.previewText?.value), 'cosyvoice'));
    assert.ok(!valid('format', 'opus', 'cosyvoice'));
    assert.ok(valid('sampleRate', 8000, 'qwen'));
    assert.ok(!valid('sampleRate', 8000, 'cosyvoice'));
    assert.ok(!valid('language', 'fr', 'cosyvoice'));
    assert.ok(valid('action', 'msg', 'qwen'), '"from msg.action" is an Action');
    assert.ok(!valid('action', 'update', 'qwen'), 'designs have no update');
    assert.match(help, /<script type="text\/html" data-help-name="voice-design">[\s\S]*<h3>Inputs<\/h3>[\s\S]*<ol class="node-ports">[\s\S]*<h3>Details<\/h3>/);
  });
});
