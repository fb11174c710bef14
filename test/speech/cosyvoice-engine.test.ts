import assert from 'node:assert/strict';
import { ConnectionManager, type ManagerOptions } from '../../src/connection/connection-manager';
import type { CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import { CosyVoiceEngine } from '../../src/speech/cosyvoice-engine';
import { SpeechQueue } from '../../src/speech/speech-queue';
import { Utterance } from '../../src/speech/utterance';
import { DashScopeSimulator, type CosyVoiceOptions, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { waitFor } from '../support/collect';
import { RecordingOutput } from '../support/recording-output';

const params: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 16000 };

describe('CosyVoice engine (speech layer)', () => {
  let sim: DashScopeSimulator;
  let manager: ConnectionManager;

  async function setup(simOptions: SimulatorOptions = {}, idleFinishMs = 20_000, managerOptions: Partial<ManagerOptions> = {}): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    manager = new ConnectionManager({
      endpoints: resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }),
      credentials: { apiKey: 'sk-test-key' },
      keepWarm: false,
      cosyvoiceLimits: { idleFinishMs },
      ...managerOptions,
    });
  }

  /** Says `text` as one utterance (everything at once) and waits until it is over. */
  async function speakWhole(engine: CosyVoiceEngine, settings: CosyVoiceTaskParams, text: string): Promise<RecordingOutput> {
    const out = new RecordingOutput();
    const u = utterance(out, settings);
    u.append(text);
    u.end();
    new SpeechQueue(engine).submit(u);
    await out.whenComplete();
    return out;
  }

  afterEach(async () => {
    await manager.close();
    await sim.close();
  });

  function utterance(output: RecordingOutput, settings = params): Utterance<CosyVoiceTaskParams> {
    return new Utterance(settings, output);
  }

  it('splits text past the per-task limit over several tasks, in order, with no gap', async () => {
    await setup();
    const engine = new CosyVoiceEngine(manager, 60); // a 60-character task limit stands in for 200 000
    const queue = new SpeechQueue(engine);
    const out = new RecordingOutput();
    const u = utterance(out);
    const text = 'One sentence here. Another one follows. And a third to pass the limit. Finally, the end.';
    u.append(text);
    u.end();
    queue.submit(u);
    await out.whenComplete();
    assert.equal(out.error, undefined);
    assert.ok(out.bytes.equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 16000 })));
    const summary = out.events[0]?.payload as { taskIds: string[]; characters: number };
    assert.ok(summary.taskIds.length >= 2, `expected several tasks, got ${summary.taskIds.length}`);
    assert.equal(summary.characters, text.length);
    assert.equal(sim.stats.connections.cosyvoice, 1, 'the tasks follow one another on one socket');
    const parts = out.audioMessages.map((m) => (m.parts as { index: number }).index);
    assert.deepEqual(parts, parts.map((_, i) => i), 'one sequence of parts across the tasks');
  });

  // Two clauses of 22 billed characters each: a 24-character task limit cuts right after the first
  // terminator, so the frames are the same as in one task and the bytes can be predicted exactly.
  const POEM = '床前明月光，疑是地上霜。举头望明月，低头思故乡。';
  const MARKS = { wav: 'RIFF', mp3: 'ID3' } as const;

  for (const containerHeaders of ['per-task', 'per-sentence'] as NonNullable<CosyVoiceOptions['containerHeaders']>[]) {
    for (const format of ['wav', 'mp3'] as const) {
      it(`${format} over two tasks (service headers ${containerHeaders}): exactly one header, at the start`, async () => {
        await setup({ cosyvoice: { containerHeaders } });
        const settings = { ...params, format };
        const out = await speakWhole(new CosyVoiceEngine(manager, 24), settings, POEM);
        assert.equal(out.error, undefined);
        assert.equal((out.events[0]?.payload as { taskIds: string[] }).taskIds.length, 2, 'the utterance took two tasks');
        const bytes = out.bytes;
        assert.equal(bytes.indexOf(MARKS[format]), 0, 'the stream starts with its header');
        assert.equal(bytes.indexOf(MARKS[format], 1), -1, `no second ${MARKS[format]} header inside the stream`);
        assert.ok(bytes.equals(expectedAudio({ text: POEM, voice: 'longanyang', sampleRate: 16000, format })));
      });
    }
  }

  it('a task armed ahead (keepWarm) that continues a paused stream drops its header too', async () => {
    await setup({ cosyvoice: { taskTimeoutMs: 500 } }, 100, { keepWarm: true, taskStartsPerSecond: 0 });
    manager.register({ id: 'node' });
    const settings: CosyVoiceTaskParams = { ...params, format: 'wav' };
    const out = new RecordingOutput();
    const u = utterance(out, settings);
    new SpeechQueue(new CosyVoiceEngine(manager)).submit(u);
    u.append('床前明月光，疑是地上霜。');
    await new Promise((r) => setTimeout(r, 300)); // the client finishes the quiet task after 100 ms
    manager.armCosyVoice(settings);
    await waitFor(() => manager.stats().armedReady, 2000, 'a task armed for the same settings');
    u.append('举头望明月，低头思故乡。');
    u.end();
    await out.whenComplete();
    assert.equal(out.error, undefined);
    assert.equal(manager.stats().armedUsed, 1, 'the second task was the armed one');
    assert.equal(out.bytes.indexOf('RIFF', 1), -1, 'no second RIFF header');
    assert.ok(out.bytes.equals(expectedAudio({ text: POEM, voice: 'longanyang', sampleRate: 16000, format: 'wav' })));
  });

  for (const throttleAnswer of ['task-failed', 'close'] as const) {
    it(`a rate limit answered with ${throttleAnswer} is tried again after a pause, and spoken`, async () => {
      // The service allows one start a second; the client (tuned to no limit of its own) starts two at once.
      await setup({ cosyvoice: { rateLimitPerSecond: 1, throttleAnswer } }, 20_000, {
        taskStartsPerSecond: 0,
        throttleBackoff: { baseMs: 600, maxMs: 1200, maxAttempts: 4 },
      });
      const engine = new CosyVoiceEngine(manager);
      const [a, b] = await Promise.all([speakWhole(engine, params, 'First in line.'), speakWhole(engine, params, 'Second, a little later.')]);
      assert.equal(a.error, undefined);
      assert.equal(b.error, undefined, `${(b.error as { code?: string } | undefined)?.code}: ${b.error?.message}`);
      assert.ok(a.bytes.equals(expectedAudio({ text: 'First in line.', voice: 'longanyang', sampleRate: 16000 })));
      assert.ok(b.bytes.equals(expectedAudio({ text: 'Second, a little later.', voice: 'longanyang', sampleRate: 16000 })));
      assert.ok(sim.stats.tasks.failed >= 1, 'the service did refuse a start');
    });
  }

  it('a stream that pauses past the idle limit is finished in time and resumes in a new task, losing nothing', async () => {
    await setup({ cosyvoice: { taskTimeoutMs: 500 } }, 150);
    const queue = new SpeechQueue(new CosyVoiceEngine(manager));
    const out = new RecordingOutput();
    const u = utterance(out);
    queue.submit(u);
    u.append('The answer begins, ');
    await new Promise((r) => setTimeout(r, 700)); // longer than the service's (shortened) 23 s limit
    u.append('and after a long pause it continues.');
    u.end();
    await out.whenComplete();
    assert.equal(out.error, undefined, 'the service timeout never hit');
    assert.equal(sim.stats.tasks.failed, 0);
    const summary = out.events[0]?.payload as { taskIds: string[] };
    assert.equal(summary.taskIds.length, 2);
    const text = 'The answer begins, and after a long pause it continues.';
    assert.ok(out.bytes.equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 16000 })));
  });

  it('a task that finishes with no audio (custom voice still deploying) is an error, not silence', async () => {
    await setup();
    sim.inject({ kind: 'empty-audio' });
    const queue = new SpeechQueue(new CosyVoiceEngine(manager));
    const out = new RecordingOutput();
    const u = utterance(out);
    u.append('Is anyone there?');
    u.end();
    queue.submit(u);
    await out.whenComplete();
    assert.equal((out.error as { code?: string } | undefined)?.code, 'NoAudio');
    assert.match(out.error?.message ?? '', /deploying/);
    assert.equal(out.audioMessages.length, 0);
  });

  it('retries once, on a fresh socket, a task that failed before any of its audio was heard', async () => {
    await setup();
    sim.inject({ kind: 'drop-after-frames', frames: 0 });
    const queue = new SpeechQueue(new CosyVoiceEngine(manager));
    const out = new RecordingOutput();
    const u = utterance(out);
    u.append('Second time lucky.');
    u.end();
    queue.submit(u);
    await out.whenComplete();
    assert.equal(out.error, undefined);
    assert.ok(out.bytes.equals(expectedAudio({ text: 'Second time lucky.', voice: 'longanyang', sampleRate: 16000 })));
    assert.equal(sim.stats.connections.cosyvoice, 2);
  });

  it('a socket lost after audio was heard is reported, and the queue behind it still plays', async () => {
    await setup();
    sim.inject({ kind: 'drop-after-frames', frames: 2 });
    const queue = new SpeechQueue(new CosyVoiceEngine(manager));
    const first = new RecordingOutput();
    const second = new RecordingOutput();
    const a = utterance(first);
    a.append('This one is cut off in the middle of a long sentence that needs many frames.');
    a.end();
    const b = utterance(second);
    b.append('This one plays.');
    b.end();
    queue.submit(a);
    queue.submit(b);
    await second.whenComplete();
    assert.equal((first.error as { code?: string } | undefined)?.code, 'ConnectionClosed');
    const marker = first.audioMessages[first.audioMessages.length - 1];
    assert.equal(marker?.partial, true, 'the cut utterance is closed with a marked end');
    assert.equal(second.error, undefined);
    assert.ok(second.bytes.equals(expectedAudio({ text: 'This one plays.', voice: 'longanyang', sampleRate: 16000 })));
  });
});
