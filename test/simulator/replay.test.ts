import assert from 'node:assert/strict';
import { COSYVOICE_LIMITS, CosyVoiceConnection, cosyVoiceMessages, type CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import { qwenRealtimeUrl, resolveEndpoints, type Endpoints } from '../../src/dashscope/endpoints';
import { DashScopeError, isAuthFailure } from '../../src/dashscope/errors';
import { QwenRealtimeSession, type QwenSessionSettings } from '../../src/dashscope/qwen-realtime';
import { openSocket, parseJsonFrame } from '../../src/dashscope/socket';
import { requestUploadPolicy } from '../../src/dashscope/temporary-upload';
import type { WireTap } from '../../src/dashscope/wire-tap';
import { containerOf, TranscriptRecorder } from '../../src/live-check/transcript';
import { parseTranscript, type TranscriptLine } from '../../src/live-check/transcript-format';
import { DashScopeSimulator, type SimulatorOptions } from './index';

const KEY = 'sk-test-key';

/** What a client saw, in order: event names, audio lengths and container kinds. */
type Seen = string[];

/** The client steps a test records and replays: they get the endpoints and an optional tap. */
type Steps = (endpoints: Endpoints, tap: WireTap | undefined) => Promise<Seen>;

interface Recording {
  transcript: TranscriptLine[];
  seen: Seen;
}

function endpointsOf(sim: DashScopeSimulator): Endpoints {
  return resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl });
}

/** Runs `steps` against a simulator in `variant`, recording; the transcript goes through parseTranscript as a user's file would. */
async function record(variant: SimulatorOptions, steps: Steps): Promise<Recording> {
  const sim = await DashScopeSimulator.start(variant);
  const lines: string[] = [];
  const recorder = new TranscriptRecorder((l) => lines.push(l), { secrets: [KEY] });
  recorder.meta({ tool: 'replay.test' });
  try {
    const seen = await steps(endpointsOf(sim), recorder);
    await settle();
    return { transcript: parseTranscript(lines.join('\n')), seen };
  } finally {
    await sim.close();
  }
}

/** Runs `steps` against a fresh simulator replaying `transcript`; returns what the client saw and the simulator's replay errors. */
async function replay(transcript: TranscriptLine[], steps: Steps, timeScale = 1): Promise<{ seen: Seen; sim: DashScopeSimulator; ms: number }> {
  const sim = await DashScopeSimulator.start({ replay: { transcript, timeScale } });
  const started = performance.now();
  try {
    const seen = await steps(endpointsOf(sim), undefined);
    const ms = performance.now() - started;
    await settle();
    return { seen, sim, ms };
  } finally {
    await sim.close();
  }
}

/** Lets the last close frames cross. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 30));
}

function audio(chunk: Buffer): string {
  return `audio ${chunk.length} ${containerOf(chunk) ?? 'raw'}`;
}

const WAV_TASK: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'wav', sampleRate: 16000 };

/** One CosyVoice connection, two tasks of two sentences each (wav, then mp3), then the client closes. */
const cosyVoiceTwoTasks: Steps = async (endpoints, tap) => {
  const seen: Seen = [];
  const ws = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap });
  const c = new CosyVoiceConnection(ws, COSYVOICE_LIMITS);
  const tasks: [CosyVoiceTaskParams, string[]][] = [
    [WAV_TASK, ['第一句。', '第二句。']],
    [{ ...WAV_TASK, format: 'mp3' }, ['第三句。', '第四句！']],
  ];
  for (const [params, texts] of tasks) {
    await new Promise<void>((resolve, reject) => {
      const task = c.runTask(params, {
        onStarted: () => seen.push('started'),
        onSentenceBegin: (first) => seen.push(`sentence-begin${first ? ' first' : ''}`),
        onAudio: (chunk) => seen.push(audio(chunk)),
        onSentenceEnd: (s) => seen.push(`sentence-end ${s.index}`),
        onFinished: (r) => {
          seen.push(`finished ${r.characters} ${r.audioBytes}`);
          resolve();
        },
        onFailed: reject,
      });
      for (const t of texts) task.sendText(t);
      task.finish();
    });
  }
  const closed = new Promise<void>((r) => c.onClose(() => r()));
  c.close(1000);
  await closed;
  return seen;
};

const COMMIT: QwenSessionSettings = { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 };
const QWEN_MODEL = 'qwen3-tts-flash-realtime';

/** A Qwen commit session: two sentences committed, then an empty commit, then the client closes. */
const qwenCommitSession: Steps = async (endpoints, tap) => {
  const seen: Seen = [];
  const s = await QwenRealtimeSession.open(qwenRealtimeUrl(endpoints, QWEN_MODEL), QWEN_MODEL, { apiKey: KEY }, COMMIT, {
    connectTimeoutMs: 2000,
    setupTimeoutMs: 2000,
    tap,
  });
  let committed = 0;
  let done = (): void => undefined;
  s.listener = {
    onCommitted: () => {
      seen.push('committed');
      committed++;
      if (committed === 2) done();
    },
    onResponseCreated: () => seen.push('response.created'),
    onAudio: (chunk) => seen.push(audio(chunk)),
    onResponseDone: (r) => {
      seen.push(`response.done ${r.status} ${r.characters ?? '-'} ${r.audioBytes}`);
      s.commit(); // an empty buffer now
    },
    onError: (e) => {
      seen.push(`error ${e.code}`);
      done();
    },
  };
  await new Promise<void>((resolve) => {
    done = resolve;
    s.append('Hello there. How are you?');
    s.commit();
  });
  const closed = new Promise<void>((r) => s.onClose(() => r()));
  s.close(1000);
  await closed;
  return seen;
};

describe('simulator replay of a live-check transcript', function () {
  this.timeout(20000);

  it('replays a CosyVoice two-task session (wav then mp3, containers per sentence): the client sees the same events, lengths and containers', async () => {
    const rec = await record({ cosyvoice: { containerHeaders: 'per-sentence' } }, cosyVoiceTwoTasks);
    // The variant shows: a container header at each sentence (RIFF in the wav task, ID3 in the mp3 one).
    assert.equal(rec.seen.filter((s) => s.endsWith(' riff')).length, 2);
    assert.equal(rec.seen.filter((s) => s.endsWith(' id3')).length, 2);
    assert.ok(rec.seen.some((s) => s.endsWith(' mp3')) && rec.seen.some((s) => s.endsWith(' raw')));
    const again = await replay(rec.transcript, cosyVoiceTwoTasks, 0.2);
    assert.equal(JSON.stringify(again.sim.replayErrors), '[]');
    assert.deepEqual(again.seen, rec.seen);
    assert.equal(again.sim.stats.connections.cosyvoice, 1);
  });

  it("maps each task's events to the live task that the recorded run-task started, even when two tasks overlap on a socket", async () => {
    // A second run-task while the first runs (cv-run-task-busy): the service's next event after it
    // may well be the first task's, so the mapping must come from the recorded run-task itself.
    const twoStarts: Steps = async (endpoints, tap) => {
      const ws = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap });
      const labels = new Map<string, string>();
      const seen: Seen = [];
      const done = new Promise<void>((resolve) => {
        ws.on('message', (data, isBinary) => {
          if (isBinary) return;
          const header = parseJsonFrame(data as Buffer)?.header as { event?: string; task_id?: string } | undefined;
          seen.push(`${header?.event} ${labels.get(header?.task_id ?? '') ?? 'unknown task'}`);
          if (header?.event === 'task-failed') resolve();
        });
      });
      const first = `first-${Math.random().toString(16).slice(2)}`;
      labels.set(first, 'first');
      ws.send(cosyVoiceMessages.runTask(first, WAV_TASK));
      ws.send(cosyVoiceMessages.continueTask(first, 'Hi.'));
      // Sent before any answer: the recording's next event after it is the first task's task-started.
      const second = `second-${Math.random().toString(16).slice(2)}`;
      labels.set(second, 'second');
      ws.send(cosyVoiceMessages.runTask(second, WAV_TASK));
      await done;
      ws.close();
      return seen;
    };
    const rec = await record({}, twoStarts);
    assert.deepEqual(rec.seen.slice(0, 2), ['task-started first', 'task-failed second'], 'the recording starts the first task and refuses the second');
    const again = await replay(rec.transcript, twoStarts, 0.2);
    assert.equal(JSON.stringify(again.sim.replayErrors), '[]');
    assert.deepEqual(again.seen, rec.seen);
  });

  it('replays a Qwen commit session where an empty commit is answered committed', async () => {
    const rec = await record({ qwen: { emptyCommit: 'committed' } }, qwenCommitSession);
    assert.equal(rec.seen.filter((s) => s === 'committed').length, 2);
    assert.ok(!rec.seen.some((s) => s.startsWith('error')));
    const again = await replay(rec.transcript, qwenCommitSession, 0.2);
    assert.equal(JSON.stringify(again.sim.replayErrors), '[]');
    assert.deepEqual(again.seen, rec.seen);
    assert.ok(again.seen.some((s) => /^audio \d+ raw$/.test(s)));
  });

  it('plays the recorded gaps times timeScale', async () => {
    const latency = 400;
    const firstAudio: Steps = async (endpoints, tap) => {
      const ws = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap });
      const c = new CosyVoiceConnection(ws);
      let sentAt = 0;
      const ms = await new Promise<number>((resolve, reject) => {
        let first = 0;
        const task = c.runTask({ ...WAV_TASK, format: 'pcm' }, {
          onAudio: () => (first ||= performance.now() - sentAt),
          onFinished: () => resolve(first),
          onFailed: reject,
        });
        sentAt = performance.now();
        task.sendText('One.');
        task.finish();
      });
      c.close();
      await new Promise<void>((r) => c.onClose(() => r()));
      return [String(ms)];
    };
    const rec = await record({ firstAudioLatencyMs: latency }, firstAudio);
    const recorded = Number(rec.seen[0]);
    assert.ok(recorded >= latency, `recorded first audio after ${recorded} ms`);
    const full = Number((await replay(rec.transcript, firstAudio, 1)).seen[0]);
    const tenth = Number((await replay(rec.transcript, firstAudio, 0.1)).seen[0]);
    assert.ok(full >= latency * 0.9 && full < recorded + 250, `timeScale 1: first audio after ${full} ms (recorded ${recorded})`);
    assert.ok(tenth < latency * 0.35, `timeScale 0.1: first audio after ${tenth} ms (recorded ${recorded})`);
  });

  it('closes 1011 and records a replay error when the client sends another type than the recording', async () => {
    const rec = await record({}, async (endpoints, tap) => {
      const s = await QwenRealtimeSession.open(qwenRealtimeUrl(endpoints, QWEN_MODEL), QWEN_MODEL, { apiKey: KEY }, COMMIT, { connectTimeoutMs: 2000, setupTimeoutMs: 2000, tap });
      await new Promise<void>((resolve) => {
        s.listener = { onAudio: () => undefined, onResponseDone: () => resolve() };
        s.append('Hello.');
        s.commit();
      });
      s.close();
      await new Promise<void>((r) => s.onClose(() => r()));
      return [];
    });
    const sim = await DashScopeSimulator.start({ replay: { transcript: rec.transcript, timeScale: 0.1 } });
    try {
      const s = await QwenRealtimeSession.open(qwenRealtimeUrl(endpointsOf(sim), QWEN_MODEL), QWEN_MODEL, { apiKey: KEY }, COMMIT, { connectTimeoutMs: 2000, setupTimeoutMs: 2000 });
      const closed = new Promise<DashScopeError | undefined>((resolve) => {
        s.listener = { onAudio: () => undefined, onResponseDone: () => undefined, onClosed: resolve };
      });
      s.append('Hello.');
      s.clear(); // the recording has a commit here
      const err = await closed;
      assert.equal(err?.closeCode, 1011);
      assert.equal(sim.replayErrors.length, 1);
      assert.deepEqual(
        { conn: sim.replayErrors[0]?.conn, service: sim.replayErrors[0]?.service, expected: sim.replayErrors[0]?.expected, got: sim.replayErrors[0]?.got },
        { conn: 1, service: 'qwen', expected: 'input_text_buffer.commit', got: 'input_text_buffer.clear' },
      );
    } finally {
      await sim.close();
    }
  });

  it('replays a refused handshake with its status and body, and a failed connection as a failure', async () => {
    const lines: string[] = [];
    const recorder = new TranscriptRecorder((l) => lines.push(l), { secrets: [KEY, 'sk-wrong-key'] });
    const live = await DashScopeSimulator.start();
    const endpoints = endpointsOf(live);
    await assert.rejects(openSocket(endpoints.cosyvoiceWs, { apiKey: 'sk-wrong-key' }, { connectTimeoutMs: 2000, tap: recorder }), isAuthFailure);
    live.inject({ kind: 'refuse-connection', service: 'cosyvoice' });
    await assert.rejects(openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap: recorder }), (e: DashScopeError) => e.code === 'NetworkError');
    await live.close();
    const transcript = parseTranscript(lines.join('\n'));
    assert.deepEqual(
      transcript.map((l) => l.kind),
      ['open', 'refused', 'open', 'failed'],
    );

    const sim = await DashScopeSimulator.start({ replay: { transcript } });
    try {
      // Any key: the replay answers as the service did, without checking it.
      const refused = await openSocket(endpointsOf(sim).cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000 }).then(
        () => undefined,
        (e: DashScopeError) => e,
      );
      assert.ok(refused && isAuthFailure(refused), `refused with ${String(refused)}`);
      assert.equal(refused.status, 401);
      assert.equal(refused.code, 'InvalidApiKey');
      const failed = await openSocket(endpointsOf(sim).cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000 }).then(
        () => undefined,
        (e: DashScopeError) => e,
      );
      assert.equal(failed?.code, 'NetworkError');
      // A third upgrade finds no recorded connection: an error, not a simulated session.
      await assert.rejects(openSocket(endpointsOf(sim).cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000 }), (e: DashScopeError) => e.status === 503);
      assert.deepEqual(
        sim.replayErrors.map((e) => [e.service, e.expected, e.got]),
        [['cosyvoice', 'end', 'open']],
      );
    } finally {
      await sim.close();
    }
  });

  it('replays the upload policy answer (redacted fields stay redacted) and a request that failed, and reports a request it has no answer for', async () => {
    const lines: string[] = [];
    const recorder = new TranscriptRecorder((l) => lines.push(l), { secrets: [KEY] });
    const live = await DashScopeSimulator.start();
    const recorded = await requestUploadPolicy({ endpoints: endpointsOf(live), credentials: { apiKey: KEY } }, 'voice-enrollment', { tap: recorder });
    await live.stopListening();
    live.dropAll(); // fetch would reuse its kept-alive connection
    await assert.rejects(requestUploadPolicy({ endpoints: endpointsOf(live), credentials: { apiKey: KEY } }, 'cosyvoice-v3-plus', { tap: recorder }));
    await live.close();
    const transcript = parseTranscript(lines.join('\n'));

    const sim = await DashScopeSimulator.start({ replay: { transcript } });
    try {
      const access = { endpoints: endpointsOf(sim), credentials: { apiKey: 'sk-any' } };
      const policy = await requestUploadPolicy(access, 'voice-enrollment');
      assert.equal(policy.uploadDir, recorded.uploadDir);
      assert.equal(policy.maxBytes, recorded.maxBytes);
      assert.equal(policy.policy, '[redacted]');
      assert.equal(policy.signature, '[redacted]');
      // A request that got no answer gets none again.
      await assert.rejects(requestUploadPolicy(access, 'cosyvoice-v3-plus'), (e: DashScopeError) => e.code === 'NetworkError');
      assert.equal(JSON.stringify(sim.replayErrors), '[]');
      // Used once: a second identical request has no recorded answer left, nor has another model.
      await assert.rejects(requestUploadPolicy(access, 'voice-enrollment'), (e: DashScopeError) => e.status === 404);
      await assert.rejects(requestUploadPolicy(access, 'qwen-voice-enrollment'), (e: DashScopeError) => e.status === 404);
      assert.deepEqual(
        sim.replayErrors.map((e) => [e.service, e.got]),
        [
          ['http', 'GET /api/v1/uploads?action=getPolicy&model=voice-enrollment'],
          ['http', 'GET /api/v1/uploads?action=getPolicy&model=qwen-voice-enrollment'],
        ],
      );
    } finally {
      await sim.close();
    }
  });
});
