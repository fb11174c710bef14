import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { CosyVoiceConnection, type CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import { qwenRealtimeUrl, resolveEndpoints, type Endpoints } from '../../src/dashscope/endpoints';
import { DashScopeError, isAuthFailure } from '../../src/dashscope/errors';
import { requestJson } from '../../src/dashscope/http-json';
import { QwenRealtimeSession } from '../../src/dashscope/qwen-realtime';
import { openSocket } from '../../src/dashscope/socket';
import { requestUploadPolicy } from '../../src/dashscope/temporary-upload';
import { containerOf, TranscriptRecorder } from '../../src/live-check/transcript';
import { parseTranscript, type AudioLine, type FrameLine, type TranscriptLine } from '../../src/live-check/transcript-format';
import { DashScopeSimulator } from '../simulator';

const KEY = 'sk-test-key';

function sha16(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

/** A recorder writing into an array, and the array parsed. */
function recorder(secrets: string[] = [KEY]): { rec: TranscriptRecorder; raw: string[]; lines: () => TranscriptLine[] } {
  const raw: string[] = [];
  const rec = new TranscriptRecorder((l) => raw.push(l), { secrets });
  return { rec, raw, lines: () => parseTranscript(raw.join('\n')) };
}

function noSecret(raw: string[], secret: string): void {
  const text = raw.join('\n');
  assert.ok(!text.includes(secret), `the transcript contains ${secret}`);
}

const PCM: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'wav', sampleRate: 16000 };

describe('live-check transcript (wire tap)', () => {
  let sim: DashScopeSimulator;
  let endpoints: Endpoints;

  beforeEach(async () => {
    sim = await DashScopeSimulator.start();
    endpoints = resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('records a CosyVoice session frame by frame, in wire order, each frame heard before the client handles it', async () => {
    const { rec, raw, lines } = recorder();
    rec.meta({ tool: 'test', version: '0.0.0', region: 'custom' });
    rec.mark('cosyvoice-wav', 'start');
    const ws = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap: rec });
    const c = new CosyVoiceConnection(ws);
    const chunks: Buffer[] = [];
    /** For each chunk the client got: how many lines were written by then. */
    const writtenWhenHeard: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const task = c.runTask(PCM, {
        onAudio: (chunk) => {
          chunks.push(chunk);
          writtenWhenHeard.push(raw.length);
        },
        onFinished: () => resolve(),
        onFailed: reject,
      });
      task.sendText('床前明月光，');
      task.sendText('疑是地上霜。');
      task.finish();
    });
    const closed = new Promise<void>((r) => c.onClose(() => r()));
    c.close(1000);
    await closed;
    rec.mark('cosyvoice-wav', 'end');
    const all = lines();

    assert.deepEqual(all[0] && { kind: all[0].kind, t: all[0].t, tool: (all[0] as { tool?: string }).tool }, { kind: 'meta', t: 0, tool: 'test' });
    assert.equal(typeof (all[0] as { started?: unknown }).started, 'string');
    const times = all.map((l) => l.t);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 't never goes back');
    assert.ok(times.every((t) => Math.round(t * 10) === t * 10), 'one decimal');

    const kinds = all.map((l) => l.kind);
    assert.deepEqual(kinds.slice(0, 4), ['meta', 'probe', 'open', 'opened']);
    assert.deepEqual(kinds.slice(-3), ['closing', 'closed', 'probe']);
    assert.deepEqual(all[2], { t: all[2]?.t, kind: 'open', conn: 1, service: 'cosyvoice', url: endpoints.cosyvoiceWs });

    // Each direction matches what the simulator saw, frame for frame.
    const wire = all.filter((l): l is FrameLine | AudioLine => l.kind === 'out' || l.kind === 'in' || l.kind === 'audio');
    assert.ok(wire.every((l) => l.conn === 1));
    const entries = sim.transcripts[0]?.entries ?? [];
    const simOut = entries.filter((e) => e.dir === 'C').map((e) => (e.json as { header: { action: string } }).header.action);
    const simIn = entries.filter((e) => e.dir === 'S').map((e) => (e.binary ? `audio ${e.bytes}` : (e.json as { header: { event: string } }).header.event));
    assert.deepEqual(
      wire.filter((l) => l.kind === 'out').map((l) => (l as FrameLine).type),
      simOut,
    );
    assert.deepEqual(simOut, ['run-task', 'continue-task', 'continue-task', 'finish-task']);
    assert.deepEqual(
      wire.filter((l) => l.kind !== 'out').map((l) => (l.kind === 'audio' ? `audio ${l.bytes}` : l.type)),
      simIn,
    );
    // The whole frame is kept (task id and text included).
    const runTask = wire.find((l) => l.kind === 'out') as FrameLine;
    assert.equal((runTask.frame as { payload: { parameters: { format: string } } }).payload.parameters.format, 'wav');
    // Causal order across directions: task-started before the first continue-task.
    const order = wire.map((l) => (l.kind === 'audio' ? 'audio' : l.type));
    assert.ok(order.indexOf('task-started') < order.indexOf('continue-task'));

    // Audio: the length, the hash of exactly the bytes the client got, the container; never the bytes.
    const audio = wire.filter((l): l is AudioLine => l.kind === 'audio');
    assert.deepEqual(
      audio.map((a) => [a.bytes, a.sha256, a.container]),
      chunks.map((c) => [c.length, sha16(c), containerOf(c)]),
    );
    assert.equal(audio[0]?.container, 'riff');
    assert.ok(audio.slice(1).every((a) => a.container === null));
    assert.ok(raw.every((l) => l.length < 2000), 'no line carries audio');
    // The tap heard every frame before the client did: its audio line was already written.
    for (const [i, written] of writtenWhenHeard.entries()) {
      const line = raw.findIndex((l) => l.includes(`"sha256":"${sha16(chunks[i] as Buffer)}"`));
      assert.ok(line >= 0 && line < written, `chunk ${i}: line ${line}, ${written} written when the client got it`);
    }
    noSecret(raw, KEY);
  });

  it('records a Qwen session with each audio delta replaced by its length, hash and container', async () => {
    const { rec, raw, lines } = recorder();
    const model = 'qwen3-tts-flash-realtime';
    const s = await QwenRealtimeSession.open(qwenRealtimeUrl(endpoints, model), model, { apiKey: KEY }, { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 }, {
      connectTimeoutMs: 2000,
      setupTimeoutMs: 2000,
      tap: rec,
    });
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      s.listener = { onAudio: (c) => chunks.push(c), onResponseDone: () => resolve() };
      s.append('Hello there.');
      s.commit();
    });
    s.close();
    await new Promise<void>((r) => s.onClose(() => r()));
    const all = lines();
    const open = all[0];
    assert.ok(open?.kind === 'open' && open.service === 'qwen' && open.url.endsWith(`/api-ws/v1/realtime?model=${model}`));
    const frames = all.filter((l): l is FrameLine => l.kind === 'in' || l.kind === 'out');
    const simTypes = (sim.transcripts[0]?.entries ?? []).map((e) => `${e.dir === 'C' ? 'out' : 'in'} ${(e.json as { type: string }).type}`);
    assert.deepEqual(
      [...frames.filter((l) => l.kind === 'out'), ...frames.filter((l) => l.kind === 'in')].map((l) => `${l.kind} ${l.type}`).sort(),
      [...simTypes].sort(),
    );
    assert.equal(frames[0]?.type, 'session.created');
    const deltas = frames.filter((l) => l.type === 'response.audio.delta').map((l) => (l.frame as { delta: unknown }).delta);
    assert.deepEqual(
      deltas,
      chunks.map((c) => ({ audio: true, bytes: c.length, sha256: sha16(c), container: null })),
    );
    assert.ok(chunks.length > 0);
    assert.ok(!raw.some((l) => l.includes(chunks[0]?.toString('base64').slice(0, 40) ?? '?')), 'no base64 audio');
    assert.deepEqual(
      all.slice(-2).map((l) => l.kind),
      ['closing', 'closed'],
    );
  });

  it('never writes the key, even where the service quotes it, nor a Bearer value', async () => {
    const { rec, raw, lines } = recorder();
    sim.inject({ kind: 'fail-task', code: 'InvalidParameter', message: `key ${KEY} is not allowed here`, after: 'run-task' });
    const ws = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap: rec });
    const c = new CosyVoiceConnection(ws);
    const failed = await new Promise<DashScopeError>((resolve) => {
      const task = c.runTask(PCM, { onAudio: () => undefined, onFinished: () => undefined, onFailed: resolve });
      task.sendText('你好。');
    });
    assert.ok(failed.message.includes(KEY), 'the fault did quote the key'); // so the transcript had it to redact
    c.terminate();
    sim.inject({ kind: 'http-error', status: 500, code: 'InternalError', message: `Bearer ${KEY} rejected`, service: 'qwen' });
    await assert.rejects(
      QwenRealtimeSession.open(qwenRealtimeUrl(endpoints, 'qwen3-tts-flash-realtime'), 'qwen3-tts-flash-realtime', { apiKey: KEY }, { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 }, { connectTimeoutMs: 2000, setupTimeoutMs: 2000, tap: rec }),
    );
    // A server that echoes the request's Authorization header.
    const echo = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ output: { seen: req.headers.authorization, proxy: 'Bearer eyJhbGciOi.x', note: 'another sk-0123456789abcdef0123456789abcdef' } }));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    try {
      const port = (echo.address() as AddressInfo).port;
      await requestJson({ method: 'POST', url: `http://127.0.0.1:${port}/api/v1/x`, credentials: { apiKey: KEY }, body: { key: KEY }, what: 'echo', tap: rec });
    } finally {
      echo.close();
    }
    await new Promise((r) => setTimeout(r, 20));
    noSecret(raw, KEY);
    noSecret(raw, 'sk-0123456789abcdef');
    noSecret(raw, 'eyJhbGciOi');
    const all = lines();
    const taskFailed = all.find((l): l is FrameLine => l.kind === 'in' && l.type === 'task-failed');
    assert.equal((taskFailed?.frame as { header: { error_message: string } }).header.error_message, 'key [redacted key] is not allowed here');
    const refused = all.find((l) => l.kind === 'refused');
    assert.deepEqual(refused && refused.kind === 'refused' && [refused.status, (refused.body as { message: string }).message], [500, 'Bearer [redacted key] rejected']);
    const request = all.find((l) => l.kind === 'http');
    assert.deepEqual(request && request.kind === 'http' && request.body, { key: '[redacted key]' });
    const reply = all.find((l) => l.kind === 'http-reply');
    assert.deepEqual(reply && reply.kind === 'http-reply' && reply.body, { output: { seen: 'Bearer [redacted key]', proxy: 'Bearer [redacted]', note: 'another [redacted key]' } });
  });

  it('redacts the upload policy credentials and any signed URL', async () => {
    const { rec, raw, lines } = recorder();
    const policy = await requestUploadPolicy({ endpoints, credentials: { apiKey: KEY } }, 'voice-enrollment', { tap: rec });
    const signed =
      'https://dashscope-instant.oss-cn-beijing.aliyuncs.com/dir/a.wav?Expires=1700000000&OSSAccessKeyId=LTAIabc&Signature=xyz%3D&x-oss-security-token=TOKVALUE1';
    const amz = 'https://bucket.s3.amazonaws.com/a?X-Amz-Signature=abc&X-Amz-Credential=def';
    rec.http('GET', signed, undefined).replied(200, JSON.stringify({ output: { url: amz, text: `see ${signed} now` }, security_token: 'TOKVALUE2', oss_access_key_id: 'LTAI2' }));
    const all = lines();
    const reply = all.find((l) => l.kind === 'http-reply' && l.conn === 1);
    const data = reply && reply.kind === 'http-reply' ? (reply.body as { data: Record<string, unknown> }).data : {};
    assert.equal(data.policy, '[redacted]');
    assert.equal(data.signature, '[redacted]');
    assert.equal(data.oss_access_key_id, '[redacted]');
    assert.equal(data.upload_dir, policy.uploadDir, 'what is not a credential is kept');
    for (const secret of [policy.policy, policy.signature, policy.accessKeyId, 'Signature=', 'xyz', 'LTAI', 'TOKVALUE', 'X-Amz']) noSecret(raw, secret);
    const second = all.filter((l) => 'conn' in l && l.conn === 2);
    assert.deepEqual(second[0] && second[0].kind === 'http' && second[0].url, 'https://dashscope-instant.oss-cn-beijing.aliyuncs.com/dir/a.wav?[redacted]');
    assert.deepEqual(second[1] && second[1].kind === 'http-reply' && second[1].body, {
      output: { url: 'https://bucket.s3.amazonaws.com/a?[redacted]', text: 'see https://dashscope-instant.oss-cn-beijing.aliyuncs.com/dir/a.wav?[redacted] now' },
      security_token: '[redacted]',
      oss_access_key_id: '[redacted]',
    });
  });

  it('records a refused handshake (bad key) and a refused TCP connection, and the client still throws its typed errors', async () => {
    const { rec, raw, lines } = recorder([KEY, 'sk-wrong-key']);
    await assert.rejects(openSocket(endpoints.cosyvoiceWs, { apiKey: 'sk-wrong-key' }, { connectTimeoutMs: 2000, tap: rec }), isAuthFailure);
    await sim.stopListening();
    await assert.rejects(openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap: rec }), (e: DashScopeError) => e.code === 'NetworkError');
    const all = lines();
    assert.deepEqual(
      all.map((l) => [l.kind, 'conn' in l ? l.conn : undefined]),
      [
        ['open', 1],
        ['refused', 1],
        ['open', 2],
        ['failed', 2],
      ],
    );
    const refused = all[1];
    assert.ok(refused?.kind === 'refused');
    assert.equal(refused.status, 401);
    assert.equal((refused.body as { code: string }).code, 'InvalidApiKey');
    const failed = all[3];
    assert.ok(failed?.kind === 'failed' && /ECONNREFUSED/.test(failed.message), JSON.stringify(failed));
    noSecret(raw, 'sk-wrong-key');
  });

  it('records a close the service began without a closing line', async () => {
    await sim.close();
    sim = await DashScopeSimulator.start({ cosyvoice: { idleCloseMs: 50 } });
    endpoints = resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl });
    const { rec, lines } = recorder();
    const ws = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap: rec });
    const c = new CosyVoiceConnection(ws);
    await new Promise<void>((r) => c.onClose(() => r()));
    const all = lines();
    assert.deepEqual(
      all.map((l) => l.kind),
      ['open', 'opened', 'closed'],
    );
    const closed = all[2];
    assert.ok(closed?.kind === 'closed' && closed.code >= 1000 && typeof closed.reason === 'string');
  });

  it('without a tap, openSocket leaves the socket exactly as the client sets it up', async () => {
    const plain = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000 }, (ws) => ({ ws, c: new CosyVoiceConnection(ws) }));
    assert.equal(plain.ws.listenerCount('message'), 1);
    assert.equal(plain.ws.listenerCount('close'), 1);
    assert.equal(plain.ws.listenerCount('error'), 1);
    assert.equal(plain.ws.listenerCount('open'), 0);
    assert.equal(plain.ws.send, WebSocket.prototype.send);
    assert.equal(plain.ws.close, WebSocket.prototype.close);
    assert.equal(plain.ws.terminate, WebSocket.prototype.terminate);
    plain.c.terminate();

    const { rec } = recorder();
    const tapped = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap: rec }, (ws) => ({ ws, c: new CosyVoiceConnection(ws) }));
    assert.equal(tapped.ws.listenerCount('message'), 2);
    assert.notEqual(tapped.ws.send, WebSocket.prototype.send);
    tapped.c.terminate();
  });

  describe('parseTranscript', () => {
    it('round-trips what the recorder wrote', async () => {
      const { rec, raw, lines } = recorder();
      rec.meta({ tool: 'test', yes: true, n: 3 });
      await requestUploadPolicy({ endpoints, credentials: { apiKey: KEY } }, 'voice-enrollment', { tap: rec });
      const ws = await openSocket(endpoints.cosyvoiceWs, { apiKey: KEY }, { connectTimeoutMs: 2000, tap: rec });
      ws.close();
      await new Promise((r) => ws.once('close', r));
      assert.deepEqual(lines(), raw.map((l) => JSON.parse(l) as unknown));
      assert.deepEqual(
        lines().map((l) => l.kind),
        ['meta', 'http', 'http-reply', 'open', 'opened', 'closing', 'closed'],
      );
    });

    it('names the first broken line', () => {
      const good = ['{"t":0,"kind":"meta","tool":"x"}', '{"t":1,"kind":"open","conn":1,"service":"qwen","url":"wss://h/api-ws/v1/realtime"}'];
      const cases: [string[], RegExp][] = [
        [[...good, '{"t":2,"kind":"in","conn":1'], /^transcript line 3: not JSON/],
        [[...good, '', '{"t":2,"kind":"shout","conn":1}'], /^transcript line 4: unknown kind "shout"/],
        [[...good, '{"t":2,"kind":"in","conn":2,"type":"x","frame":{}}'], /^transcript line 3: in: no open line for conn 2/],
        [[...good, '{"t":2,"kind":"audio","conn":1,"bytes":10,"sha256":"xyz","container":null}'], /^transcript line 3: audio: "sha256" must be 16 hex digits/],
        [[...good, '{"kind":"opened","conn":1}'], /^transcript line 3: "t" must be/],
        [[good[1] as string, good[0] as string], /^transcript line 2: meta: only the first line/],
        [[...good, '[1,2]'], /^transcript line 3: not a JSON object/],
      ];
      for (const [text, message] of cases) assert.throws(() => parseTranscript(text.join('\n')), { name: 'TranscriptError', message });
      assert.equal(parseTranscript(good.join('\n') + '\n').length, 2);
    });
  });
});
