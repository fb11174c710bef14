import assert from 'node:assert/strict';
import { COSYVOICE_LIMITS, CosyVoiceConnection, type CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import { isThrottling } from '../../src/dashscope/errors';
import { openSocket } from '../../src/dashscope/socket';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import type { TranscriptEntry } from '../simulator/transcript';
import { runTask, waitFor } from '../support/collect';

type Instruction = { header: { action: string }; payload: { input: { text?: string } } };

/** The client's instructions on one connection, in order. */
function sentBy(entries: TranscriptEntry[]): (Instruction & { at: number })[] {
  return entries.filter((e) => e.dir === 'C').map((e) => ({ ...(e.json as Instruction), at: e.at }));
}

const KEY = 'sk-test-key';

describe('CosyVoice task client', () => {
  let sim: DashScopeSimulator;
  const connections: CosyVoiceConnection[] = [];

  async function start(options: SimulatorOptions = {}): Promise<void> {
    sim = await DashScopeSimulator.start(options);
  }

  async function connect(limits = COSYVOICE_LIMITS): Promise<CosyVoiceConnection> {
    const url = resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }).cosyvoiceWs;
    const ws = await openSocket(url, { apiKey: KEY }, { connectTimeoutMs: 2000 });
    const c = new CosyVoiceConnection(ws, limits);
    connections.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of connections.splice(0)) c.terminate();
    await sim?.close();
  });

  const poem: CosyVoiceTaskParams = {
    model: 'cosyvoice-v3-flash',
    voice: 'longanyang',
    format: 'pcm',
    sampleRate: 22050,
    volume: 50,
    rate: 1.0,
    pitch: 1.0,
    wordTimestamps: true,
  };

  it('reproduces the one-task transcript of cosyvoice.md §9', async () => {
    await start();
    const c = await connect();
    const { task, outcome } = runTask((p, h) => c.runTask(p, h), poem, ['床前明月光，疑是', '地上霜。']);
    const out = await outcome;
    assert.equal(out.error, undefined);

    const t = sim.transcripts[0];
    assert.ok(t);
    assert.equal(t.headers.authorization, `Bearer ${KEY}`);
    const sent = t.entries.filter((e) => e.dir === 'C').map((e) => e.json);
    assert.deepEqual(sent, [
      {
        header: { action: 'run-task', task_id: task.id, streaming: 'duplex' },
        payload: {
          task_group: 'audio',
          task: 'tts',
          function: 'SpeechSynthesizer',
          model: 'cosyvoice-v3-flash',
          parameters: {
            text_type: 'PlainText',
            voice: 'longanyang',
            format: 'pcm',
            sample_rate: 22050,
            volume: 50,
            rate: 1.0,
            pitch: 1.0,
            word_timestamp_enabled: true,
          },
          input: {},
        },
      },
      { header: { action: 'continue-task', task_id: task.id, streaming: 'duplex' }, payload: { input: { text: '床前明月光，疑是' } } },
      { header: { action: 'continue-task', task_id: task.id, streaming: 'duplex' }, payload: { input: { text: '地上霜。' } } },
      { header: { action: 'finish-task', task_id: task.id, streaming: 'duplex' }, payload: { input: {} } },
    ]);
    assert.match(task.id, /^[0-9a-f]{32}$/);

    // The server's side of the transcript, in order: started, per sentence begin/(synthesis+binary)*/end, finished.
    const shape = t.entries
      .filter((e) => e.dir === 'S')
      .map((e) => {
        if (e.binary) return '#';
        const j = e.json as { header: { event: string }; payload: { output?: { type?: string } } };
        return j.header.event === 'result-generated' ? (j.payload.output?.type as string) : j.header.event;
      })
      .join(' ')
      .replace(/(sentence-synthesis #\s?)+/g, 'S+ ');
    assert.equal(shape.trim(), 'task-started sentence-begin S+ sentence-end sentence-begin S+ sentence-end task-finished');

    assert.deepEqual(
      out.sentences.map((s) => s.text),
      ['床前明月光，', '疑是地上霜。'],
    );
    assert.ok(out.sentences[0]?.words.length, 'word timestamps were requested and must be delivered');
    assert.equal(out.result?.characters, 22);
    assert.ok(out.result?.requestId, 'task-finished carries request_uuid');
    assert.ok(out.audio.equals(expectedAudio({ text: '床前明月光，疑是地上霜。', voice: 'longanyang', sampleRate: 22050 })));
    assert.equal(out.result?.audioBytes, out.audio.length);
    assert.ok(c.reusable, 'the socket stays open and reusable after task-finished');
  });

  it('runs five tasks one after another on one socket, each with a fresh task id', async () => {
    await start();
    const c = await connect();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const text = `Utterance number ${i}.`;
      const { task, outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, [text]);
      const out = await outcome;
      assert.equal(out.error, undefined);
      assert.ok(out.audio.equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 22050 })), `audio of task ${i}`);
      ids.add(task.id);
    }
    assert.equal(ids.size, 5);
    assert.equal(sim.stats.connections.cosyvoice, 1);
    assert.equal(sim.stats.tasks.finished, 5);
  });

  it('refuses a second task while one runs', async () => {
    await start();
    const c = await connect();
    runTask((p, h) => c.runTask(p, h), poem, ['hello.'], false);
    assert.throws(() => c.runTask(poem, { onAudio: () => undefined, onFinished: () => undefined, onFailed: () => undefined }), /busy/);
  });

  it('splits text over 20 000 characters across continue-task messages', async () => {
    await start();
    const c = await connect();
    const text = 'This is a fairly long sentence for the splitter. '.repeat(900); // ~44 000 chars
    const { outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, [text]);
    const out = await outcome;
    assert.equal(out.error, undefined);
    const texts = sim.transcripts[0]?.entries
      .filter((e) => e.dir === 'C')
      .map((e) => (e.json as { payload: { input: { text?: string } } }).payload.input.text)
      .filter((x): x is string => typeof x === 'string');
    assert.ok(texts && texts.length === 3, `expected 3 continue-task messages, got ${texts?.length}`);
    assert.equal(texts.join(''), text);
    for (const piece of texts) assert.ok(piece.length <= 20_000);
    assert.ok(out.audio.equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 22050 })));
  });

  it('sends SSML in exactly one continue-task and refuses a second', async () => {
    await start();
    const c = await connect();
    const { task, outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, enableSsml: true, wordTimestamps: false }, ['<speak>你好。</speak>'], false);
    assert.throws(() => task.sendText('<speak>again</speak>'), /exactly one/);
    task.finish();
    const out = await outcome;
    assert.equal(out.error, undefined);
  });

  describe('error paths', () => {
    it('task-failed (bad voice, 418) carries the service code; the server closes the socket', async () => {
      await start();
      const c = await connect();
      const { outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, voice: 'longxiaochun_v2' }, ['hello.']);
      const out = await outcome;
      assert.equal(out.error?.code, 'InvalidParameter');
      assert.match(out.error?.message ?? '', /418/);
      assert.equal(out.error?.retryable, false);
      assert.ok(out.error?.taskId);
      await waitFor(() => !c.isOpen, 2000, 'server close after task-failed');
      assert.equal(c.reusable, false);
    });

    it('an injected failure code is reported as is, with retryable set for throttling', async () => {
      await start();
      sim.inject({ kind: 'fail-task', code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' });
      const c = await connect();
      const out = await runTask((p, h) => c.runTask(p, h), poem, ['hello.']).outcome;
      assert.equal(out.error?.code, 'Throttling.RateQuota');
      assert.equal(out.error?.retryable, true);
    });

    it('a socket dropped mid-task fails the task as retryable and reports how much audio came', async () => {
      await start();
      sim.inject({ kind: 'drop-after-frames', frames: 2 });
      const c = await connect();
      const out = await runTask((p, h) => c.runTask(p, h), poem, ['A sentence that is long enough to need several frames of audio.']).outcome;
      assert.equal(out.error?.code, 'ConnectionClosed');
      assert.equal(out.error?.retryable, true);
      assert.equal(out.chunks, 2);
      assert.equal(c.isOpen, false);
    });

    it('gives up on a task-started that never comes and discards the socket', async () => {
      await start();
      sim.inject({ kind: 'delay-task-started', ms: 60_000 });
      const c = await connect({ ...COSYVOICE_LIMITS, startTimeoutMs: 150 });
      const out = await runTask((p, h) => c.runTask(p, h), poem, ['hello.']).outcome;
      assert.equal(out.error?.code, 'StartTimeout');
      await waitFor(() => !c.isOpen, 2000, 'client to close the socket');
    });

    it('treats a malformed frame as a protocol error and closes the socket', async () => {
      await start();
      sim.inject({ kind: 'malformed-frame', what: 'not-json' });
      const c = await connect();
      const out = await runTask((p, h) => c.runTask(p, h), poem, ['hello.']).outcome;
      assert.equal(out.error?.code, 'ProtocolError');
      await waitFor(() => !c.isOpen, 2000, 'socket close');
    });

    it('never lets a quiet task run into the 23 s server timeout', async () => {
      await start({ cosyvoice: { taskTimeoutMs: 400 } });
      const c = await connect({ ...COSYVOICE_LIMITS, idleFinishMs: 150 });
      let idleFinished = false;
      const { task, outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, ['Text that stops arriving'], false);
      task.onIdleFinish = () => {
        idleFinished = true;
      };
      const out = await outcome;
      assert.equal(out.error, undefined, 'the task must finish, not fail with the server timeout');
      assert.ok(idleFinished);
      assert.ok(out.audio.equals(expectedAudio({ text: 'Text that stops arriving', voice: 'longanyang', sampleRate: 22050 })));
      assert.ok(c.reusable);
    });

    it('the idle finish counts only what the client sent: a task kept open while the service still streams audio is finished in time, whole', async () => {
      // Scaled down: the service fails a task 300 ms after the last instruction, the client finishes
      // after 120 ms without sending, and the audio (≈ 2.7 s at a real-time factor of 0.25) streams ≈ 700 ms.
      await start({ firstAudioLatencyMs: 20, realTimeFactor: 0.25, cosyvoice: { taskTimeoutMs: 300 } });
      const c = await connect({ ...COSYVOICE_LIMITS, idleFinishMs: 120 });
      // Terminated clauses: the service reads them aloud without waiting for finish-task.
      const text = 'The service reads this aloud for a good while, and this part too!';
      const { task, outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, [text], false);
      let idleFinished = false;
      task.onIdleFinish = () => {
        idleFinished = true;
      };
      const out = await outcome;
      assert.equal(out.error, undefined, 'the service timed the task out: server events kept it open');
      assert.ok(idleFinished);
      assert.ok(out.audio.equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 22050 })), 'all of the audio');
      const entries = sim.transcripts[0]?.entries ?? [];
      const finishAt = sentBy(entries).find((m) => m.header.action === 'finish-task')?.at ?? Infinity;
      const lastAudioAt = Math.max(...entries.filter((e) => e.dir === 'S' && e.binary).map((e) => e.at));
      assert.ok(finishAt < lastAudioAt, 'finish-task went out while the audio was still streaming');
      assert.equal(sim.stats.tasks.failed, 0);
    });

    it('ignores events and audio of another task id in the middle of its own', async () => {
      await start();
      sim.inject({ kind: 'stray-task-events' });
      const c = await connect();
      const text = 'Only my own audio, please. Nothing from strangers.';
      const { task, outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, [text]);
      const out = await outcome;
      assert.equal(out.error, undefined, 'a stray task-failed must not fail this task');
      assert.equal(out.result?.taskId, task.id);
      assert.ok(out.audio.equals(expectedAudio({ text, voice: 'longanyang', sampleRate: 22050 })), 'exactly its own audio, without the stray frame');
      const strays = (sim.transcripts[0]?.entries ?? []).filter((e) => e.dir === 'S' && !e.binary && (e.json as { header: { task_id: string } }).header.task_id !== task.id);
      assert.equal(strays.length, 5, 'the stray events were sent (the fault fired)');
      assert.ok(c.reusable);
    });

    it('never sends whitespace alone: it goes out with the next text, and trailing whitespace is dropped', async () => {
      await start({ cosyvoice: { blankContinueTask: 'fail' } });
      const c = await connect();
      const { outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, ['Hello', ' ', '\n ', 'world.', '  ']);
      const out = await outcome;
      assert.equal(out.error, undefined, 'a blank continue-task failed the task');
      const texts = sentBy(sim.transcripts[0]?.entries ?? []).filter((m) => m.header.action === 'continue-task').map((m) => m.payload.input.text);
      assert.deepEqual(texts, ['Hello', ' \n world.']);
      assert.ok(out.audio.equals(expectedAudio({ text: 'Hello \n world.', voice: 'longanyang', sampleRate: 22050 })));
    });

    it('whitespace held before task-started goes out with the next text too', async () => {
      await start({ cosyvoice: { blankContinueTask: 'fail' } });
      sim.inject({ kind: 'delay-task-started', ms: 50 });
      const c = await connect();
      const { outcome } = runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, ['  ', 'Late start.']);
      const out = await outcome;
      assert.equal(out.error, undefined);
      const texts = sentBy(sim.transcripts[0]?.entries ?? []).filter((m) => m.header.action === 'continue-task').map((m) => m.payload.input.text);
      assert.deepEqual(texts, ['  Late start.']);
    });

    it('a rate limit answered by closing the connection (1013) is a Throttling failure, carrying the reason', async () => {
      await start({ cosyvoice: { rateLimitPerSecond: 1, throttleAnswer: 'close' } });
      const c = await connect();
      const first = await runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, ['One.']).outcome;
      assert.equal(first.error, undefined);
      const second = await runTask((p, h) => c.runTask(p, h), { ...poem, wordTimestamps: false }, ['Two.']).outcome;
      assert.ok(second.error, 'the second start within the second was refused');
      assert.equal(isThrottling(second.error), true, `${second.error.code}: ${second.error.message}`);
      assert.equal(second.error.retryable, true);
      assert.match(second.error.message, /1013.*Throttling\.RateQuota/);
      assert.equal(c.isOpen, false);
    });

    it('a refused handshake (401) is an auth failure, never retryable, and the key is not in the message', async () => {
      await start();
      sim.inject({ kind: 'reject-auth' });
      const url = resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }).cosyvoiceWs;
      const err = await openSocket(url, { apiKey: KEY }, { connectTimeoutMs: 2000 }).then(
        () => assert.fail('should not open'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof Error);
      const e = err as import('../../src/dashscope/errors').DashScopeError;
      assert.equal(e.status, 401);
      assert.equal(e.isAuthFailure, true);
      assert.equal(e.retryable, false);
      assert.match(e.message, /invalid API key/);
      assert.ok(!e.message.includes(KEY));
    });
  });
});
