/** The custom-voice workflows of src/voices/ against the simulator, with no Node-RED in the way. */
import assert from 'node:assert/strict';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import type { DashScopeError } from '../../src/dashscope/errors';
import type { HttpAccess } from '../../src/dashscope/http-json';
import { createClone, updateClone, type CloneSettings } from '../../src/voices/clone';
import type { ActionContext } from '../../src/voices/context';
import { createDesign, type DesignSettings } from '../../src/voices/design';
import { deleteVoice, listFamilyVoices, listVoices, queryVoice } from '../../src/voices/manage';
import type { PlayableAudio } from '../../src/voices/preview-audio';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { trackSourceTimers } from '../support/handles';
import { oggSample, wavSample } from '../support/voice-samples';

const polling = { intervalMs: 20, timeoutMs: 5000 };

async function failure(p: Promise<unknown>): Promise<DashScopeError> {
  return p.then(
    () => assert.fail('expected a failure'),
    (e: DashScopeError) => e,
  );
}

describe('custom voices (src/voices)', () => {
  let sim: DashScopeSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  /** A context on a fresh simulator that records each progress text. */
  async function start(options: SimulatorOptions = {}, signal = new AbortController().signal): Promise<ActionContext & { steps: string[]; sim: DashScopeSimulator }> {
    const s = await DashScopeSimulator.start(options);
    sim = s;
    const e = resolveEndpoints({ region: 'custom', endpoint: s.baseUrl });
    const http: HttpAccess = { endpoints: { httpBase: e.httpBase, customization: e.customization }, credentials: { apiKey: 'sk-test-key' } };
    const steps: string[] = [];
    return { http, signal, progress: (step, detail) => steps.push(detail ? `${step} ${detail.seconds}` : step), steps, sim: s };
  }

  const cosyClone: CloneSettings = { family: 'cosyvoice', targetModel: 'cosyvoice-v3-flash', name: 'myvoice', languageHints: ['en'], polling };

  it('clones a CosyVoice voice from local bytes: checked, uploaded, created, waited for until OK', async () => {
    const ctx = await start({ customization: { deployMs: 80 } });
    const bytes = wavSample({ sampleRate: 16000, seconds: 12 });
    const result = await createClone(ctx, cosyClone, { kind: 'bytes', bytes, stem: 'my voice' });
    assert.match(result.voice.voice, /^cosyvoice-v3-flash-myvoice-[0-9a-f]{32}$/);
    assert.deepEqual([result.voice.status, result.voice.targetModel, result.voice.kind], ['OK', 'cosyvoice-v3-flash', 'clone']);
    assert.ok(result.requestId);
    const [uploaded] = ctx.sim.uploads.objects();
    assert.ok(uploaded?.bytes.equals(bytes), 'the sample went through the temporary upload');
    assert.match(ctx.sim.voices.get(result.voice.voice)?.url ?? '', /^oss:\/\/.*\/my_voice\.wav$/);
    assert.deepEqual(ctx.steps.slice(0, 4), ['checkingSample', 'uploadingSample', 'creatingVoice', 'deploying']);
    assert.ok(
      ctx.steps.slice(4).some((s) => /^deploying \d+$/.test(s)),
      `the wait shows on the way: ${ctx.steps.join(' | ')}`,
    );
  });

  it('clones a Qwen voice from local bytes as a data URI: usable at once, a fallback mode reported', async () => {
    const ctx = await start({ customization: { qwenCloneFallbackReason: 'no_valid_asr_segments' } });
    const settings: CloneSettings = { family: 'qwen', targetModel: 'qwen3-tts-vc-realtime-2026-01-15', name: 'guan_yu', language: 'en', text: 'Hello.', polling };
    const result = await createClone(ctx, settings, { kind: 'bytes', bytes: wavSample({ sampleRate: 24000, seconds: 8 }), stem: 'sample' });
    assert.deepEqual(
      [result.voice.family, result.voice.kind, result.voice.service, result.voice.status, result.voice.targetModel],
      ['qwen', 'clone', 'qwen-voice-enrollment', 'OK', 'qwen3-tts-vc-realtime-2026-01-15'],
    );
    assert.equal(result.fallbackReason, 'no_valid_asr_segments');
    assert.deepEqual(ctx.sim.uploads.objects(), [], 'no upload: Qwen takes the bytes in the request');
    assert.deepEqual(ctx.steps, ['checkingSample', 'creatingVoice'], 'no polling for a Qwen voice');
  });

  it('a sample that breaks a rule is refused before anything is sent', async () => {
    const ctx = await start();
    const err = await failure(createClone(ctx, cosyClone, { kind: 'bytes', bytes: oggSample(), stem: 'sample' }));
    assert.equal(err.code, 'InvalidSample');
    assert.match(err.message, /nothing was sent/);
    assert.deepEqual(ctx.sim.uploads.objects(), []);
    assert.deepEqual(await listVoices(ctx, 'cosyvoice', 'clone'), []);
    assert.deepEqual(ctx.steps, ['checkingSample', 'listingVoices']);
  });

  it('a URL sample is passed on for the service to fetch; an update gives a clone a new sample and waits again', async () => {
    const ctx = await start({ customization: { deployMs: 40 } });
    const created = await createClone(ctx, cosyClone, { kind: 'url', url: 'https://example.com/a.wav' });
    assert.equal(ctx.sim.voices.get(created.voice.voice)?.url, 'https://example.com/a.wav');
    assert.ok(!ctx.steps.includes('checkingSample'), 'a URL is checked by the service');
    ctx.steps.length = 0;
    const updated = await updateClone(ctx, polling, created.voice.voice, { kind: 'url', url: 'https://example.com/better.wav' });
    assert.equal(updated.status, 'OK');
    assert.equal(ctx.sim.voices.get(created.voice.voice)?.url, 'https://example.com/better.wav');
    assert.deepEqual(ctx.steps.slice(0, 1), ['updatingVoice']);
  });

  it('designs a CosyVoice voice: the playable preview comes first, then the voice once OK', async () => {
    const ctx = await start({ customization: { deployMs: 40 } });
    const settings: DesignSettings = {
      family: 'cosyvoice',
      targetModel: 'cosyvoice-v3.5-plus',
      name: 'host',
      voicePrompt: '温和的年轻女性主持人。',
      previewText: '欢迎收听今天的节目。',
      language: 'zh',
      sampleRate: 16000,
      format: 'wav',
      polling,
    };
    const previews: { preview: PlayableAudio; voice: string; model: string; before: number }[] = [];
    const result = await createDesign(ctx, settings, (preview, voice, model) => previews.push({ preview, voice, model, before: ctx.steps.length }));
    assert.equal(previews.length, 1);
    const [first] = previews;
    assert.deepEqual(first?.preview.audio, { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16 }, 'the WAV preview unwrapped to PCM');
    assert.ok((first?.preview.payload.length ?? 0) > 0);
    assert.equal(first?.voice, result.voice.voice);
    assert.equal(first?.model, 'cosyvoice-v3.5-plus');
    assert.equal(first?.before, 1, 'the preview went out right after the call, before the deployment wait');
    assert.deepEqual([result.voice.kind, result.voice.status, result.voice.targetModel], ['design', 'OK', 'cosyvoice-v3.5-plus']);
    assert.equal(ctx.steps[0], 'designingVoice');
  });

  it('designs a Qwen voice: usable at once, reported with its texts', async () => {
    const ctx = await start();
    const settings: DesignSettings = {
      family: 'qwen',
      targetModel: 'qwen3-tts-vd-realtime-2026-01-15',
      name: 'narrator',
      voicePrompt: 'A calm, warm female narrator.',
      previewText: 'Good evening, and welcome to the show.',
      language: 'en',
      sampleRate: 24000,
      format: 'pcm',
      polling,
    };
    let previews = 0;
    const result = await createDesign(ctx, settings, () => previews++);
    assert.equal(previews, 1);
    assert.deepEqual(
      [result.voice.service, result.voice.status, result.voice.language, result.voice.voicePrompt, result.voice.previewText],
      ['qwen-voice-design', 'OK', 'en', 'A calm, warm female narrator.', 'Good evening, and welcome to the show.'],
    );
    assert.deepEqual(ctx.steps, ['designingVoice']);
  });

  it('lists, queries and deletes voices of one kind; the editor list takes a whole family, by model', async () => {
    const ctx = await start();
    const s = ctx.sim;
    const clone = s.voices.add({ service: 'voice-enrollment', targetModel: 'cosyvoice-v3-flash', name: 'one', status: 'OK' });
    const design = s.voices.add({ service: 'voice-enrollment', kind: 'design', targetModel: 'cosyvoice-v3.5-plus', name: 'two', status: 'OK', voicePrompt: 'Calm.' });
    const qwenClone = s.voices.add({ service: 'qwen-voice-enrollment', targetModel: 'qwen3-tts-vc-realtime-2026-01-15', name: 'three' });
    const qwenDesign = s.voices.add({ service: 'qwen-voice-design', targetModel: 'qwen3-tts-vd-realtime-2026-01-15', name: 'four' });

    assert.deepEqual((await listVoices(ctx, 'cosyvoice', 'clone')).map((v) => v.voice), [clone.id], 'CosyVoice clones only, though designs share the service');
    assert.deepEqual((await listVoices(ctx, 'cosyvoice', 'design')).map((v) => v.voice), [design.id]);
    assert.deepEqual((await listVoices(ctx, 'qwen', 'design')).map((v) => v.voice), [qwenDesign.id]);
    const queried = await queryVoice(ctx, 'qwen', 'clone', qwenClone.id);
    assert.deepEqual([queried.voice, queried.status, queried.kind], [qwenClone.id, 'OK', 'clone']);

    const family = await listFamilyVoices(ctx.http, 'qwen');
    assert.deepEqual(family.map((v) => v.voice).sort(), [qwenClone.id, qwenDesign.id].sort());
    assert.deepEqual((await listFamilyVoices(ctx.http, 'cosyvoice', 'cosyvoice-v3.5-plus')).map((v) => v.voice), [design.id]);

    await deleteVoice(ctx, 'cosyvoice', 'clone', clone.id);
    assert.equal(s.voices.get(clone.id), undefined);
    assert.deepEqual(ctx.steps, ['listingVoices', 'listingVoices', 'listingVoices', 'queryingVoice', 'deletingVoice']);
  });

  it('closing (the signal) stops a deployment wait at once, with no timer left', async () => {
    const aborter = new AbortController();
    const ctx = await start({ customization: { deployMs: 60_000 } }, aborter.signal);
    const timers = trackSourceTimers();
    try {
      const pending = failure(createClone(ctx, { ...cosyClone, polling: { intervalMs: 10_000, timeoutMs: 60_000 } }, { kind: 'url', url: 'https://example.com/a.wav' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(ctx.steps.at(-1), 'deploying 0');
      aborter.abort();
      assert.equal((await pending).code, 'Closed');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(timers.live(), []);
    } finally {
      timers.stop();
    }
  });
});
