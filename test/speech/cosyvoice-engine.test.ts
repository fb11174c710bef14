import assert from 'node:assert/strict';
import { ConnectionManager } from '../../src/connection/connection-manager';
import type { CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import { CosyVoiceEngine } from '../../src/speech/cosyvoice-engine';
import { SpeechQueue } from '../../src/speech/speech-queue';
import { Utterance } from '../../src/speech/utterance';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { RecordingOutput } from '../support/recording-output';

const params: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 16000 };

describe('CosyVoice engine (speech layer)', () => {
  let sim: DashScopeSimulator;
  let manager: ConnectionManager;

  async function setup(simOptions: SimulatorOptions = {}, idleFinishMs = 20_000): Promise<void> {
    sim = await DashScopeSimulator.start(simOptions);
    manager = new ConnectionManager({
      endpoints: resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }),
      credentials: { apiKey: 'sk-test-key' },
      keepWarm: false,
      cosyvoiceLimits: { idleFinishMs },
    });
  }

  afterEach(async () => {
    await manager.close();
    await sim.close();
  });

  function utterance(output: RecordingOutput, settings = params): Utterance<CosyVoiceTaskParams> {
    return new Utterance(settings, { topic: 't' }, output);
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
