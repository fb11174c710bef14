import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { qwenRealtimeUrl, resolveEndpoints } from '../../src/dashscope/endpoints';
import { DashScopeError } from '../../src/dashscope/errors';
import { QwenRealtimeSession, responseStatusError, type QwenSessionSettings } from '../../src/dashscope/qwen-realtime';
import { DashScopeSimulator } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { collectResponses, waitFor } from '../support/collect';

const KEY = 'sk-test-key';

interface WireEvent {
  type: string;
  event_id?: string;
  [k: string]: unknown;
}

describe('Qwen-TTS-Realtime session client', () => {
  let sim: DashScopeSimulator;
  const sessions: QwenRealtimeSession[] = [];

  beforeEach(async () => {
    sim = await DashScopeSimulator.start();
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.terminate();
    await sim.close();
  });

  async function open(model: string, settings: QwenSessionSettings): Promise<QwenRealtimeSession> {
    const url = qwenRealtimeUrl(resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }), model);
    const s = await QwenRealtimeSession.open(url, model, { apiKey: KEY }, settings);
    sessions.push(s);
    return s;
  }

  function clientEvents(i = 0): WireEvent[] {
    return (sim.transcripts[i]?.entries ?? []).filter((e) => e.dir === 'C').map((e) => e.json as WireEvent);
  }

  function serverTypes(i = 0): string[] {
    return (sim.transcripts[i]?.entries ?? []).filter((e) => e.dir === 'S').map((e) => (e.json as WireEvent).type);
  }

  const RESPONSE_EVENTS = [
    'response.created',
    'response.output_item.added',
    'response.content_part.added',
    'response.audio.delta+',
    'response.audio.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.done',
  ].join(' ');

  function collapse(types: string[]): string {
    return types.join(' ').replace(/(response\.audio\.delta ?)+/g, 'response.audio.delta+ ').replace(/\s+/g, ' ').trim();
  }

  it('reproduces the server_commit transcript of qwen-realtime.md §9', async () => {
    const settings: QwenSessionSettings = { voice: 'Cherry', mode: 'server_commit', responseFormat: 'pcm', sampleRate: 24000, languageType: 'English' };
    const s = await open('qwen3-tts-flash-realtime', settings);
    assert.match(s.sessionId, /^sess_/);
    const texts = ['Right? I love supermarkets like this. ', 'Especially during Chinese New Year, ', 'I go shopping at supermarkets.'];
    const chunks: Buffer[] = [];
    const done: number[] = [];
    let finished = false;
    const closed = new Promise<DashScopeError | undefined>((resolve) => {
      s.listener = {
        onAudio: (c) => chunks.push(c),
        onResponseDone: (r) => done.push(r.characters ?? -1),
        onSessionFinished: () => (finished = true),
        onClosed: resolve,
      };
    });
    for (const t of texts) s.append(t);
    s.finish();
    assert.equal(await closed, undefined, 'a close after session.finished is not an error');
    assert.ok(finished);

    const sent = clientEvents();
    assert.deepEqual(
      sent.map((e) => e.type),
      ['session.update', 'input_text_buffer.append', 'input_text_buffer.append', 'input_text_buffer.append', 'session.finish'],
    );
    assert.deepEqual(sent[0]?.session, { voice: 'Cherry', mode: 'server_commit', response_format: 'pcm', sample_rate: 24000, language_type: 'English' });
    for (const e of sent) assert.match(e.event_id ?? '', /^event_[0-9a-f]{32}$/);
    assert.equal(new Set(sent.map((e) => e.event_id)).size, sent.length, 'event ids are unique');
    assert.deepEqual(sent.slice(1, 4).map((e) => e.text), texts);

    const types = collapse(serverTypes());
    assert.ok(types.startsWith('session.created session.updated response.created'), types);
    assert.ok(types.endsWith('response.done session.finished'), types);
    const body = types.replace(/^session\.created session\.updated /, '').replace(/ session\.finished$/, '');
    const responses = body.split(/ (?=response\.created)/);
    assert.equal(responses.length, done.length);
    for (const r of responses) assert.equal(r, RESPONSE_EVENTS);
    await waitFor(() => sim.transcripts[0]?.closeCode !== undefined, 2000, 'server side of the close');
    assert.equal(sim.transcripts[0]?.closeCode, 1000);

    const all = texts.join('');
    assert.ok(Buffer.concat(chunks).equals(expectedAudio({ text: all, voice: 'Cherry', sampleRate: 24000, service: 'qwen' })));
    assert.equal(
      done.reduce((a, b) => a + b, 0),
      all.length,
      'characters billed over all responses equal the text length (ASCII counts 1)',
    );
  });

  it('reproduces the commit transcript of qwen-realtime.md §10', async () => {
    const settings: QwenSessionSettings = {
      voice: 'Cherry',
      mode: 'commit',
      responseFormat: 'pcm',
      sampleRate: 24000,
      instructions: 'Speak quickly with a rising intonation.',
      optimizeInstructions: true,
    };
    const s = await open('qwen3-tts-instruct-flash-realtime', settings);

    let committed = 0;
    s.append('This is the first sentence.');
    const first = collectResponses(s, 1);
    s.listener = { ...s.listener!, onCommitted: () => committed++ };
    s.commit();
    const r1 = await first;
    assert.equal(r1.responses[0]?.characters, 27);
    assert.equal(r1.responses[0]?.status, 'completed');
    assert.ok(r1.audio.equals(expectedAudio({ text: 'This is the first sentence.', voice: 'Cherry', sampleRate: 24000, service: 'qwen' })));
    assert.equal(r1.responses[0]?.audioBytes, r1.audio.length);

    s.append('This is the second sentence.');
    const second = collectResponses(s, 1);
    s.commit();
    const r2 = await second;
    assert.equal(r2.responses[0]?.characters, 28);
    assert.notEqual(r2.responses[0]?.responseId, r1.responses[0]?.responseId);

    let cleared = false;
    s.listener = { ...s.listener!, onCleared: () => (cleared = true) };
    s.append('Never mind.');
    s.clear();
    await waitFor(() => cleared, 2000, 'input_text_buffer.cleared');

    const closed = new Promise<DashScopeError | undefined>((resolve) => {
      s.listener = { ...s.listener!, onClosed: resolve };
    });
    s.finish();
    assert.equal(await closed, undefined);
    assert.equal(committed, 1);

    assert.deepEqual(
      clientEvents().map((e) => e.type),
      [
        'session.update',
        'input_text_buffer.append',
        'input_text_buffer.commit',
        'input_text_buffer.append',
        'input_text_buffer.commit',
        'input_text_buffer.append',
        'input_text_buffer.clear',
        'session.finish',
      ],
    );
    assert.deepEqual(clientEvents()[0]?.session, {
      voice: 'Cherry',
      mode: 'commit',
      response_format: 'pcm',
      sample_rate: 24000,
      instructions: 'Speak quickly with a rising intonation.',
      optimize_instructions: true,
    });
    const types = collapse(serverTypes());
    assert.equal(
      types,
      [
        'session.created session.updated',
        'input_text_buffer.committed',
        RESPONSE_EVENTS,
        'input_text_buffer.committed',
        RESPONSE_EVENTS,
        'input_text_buffer.cleared',
        'session.finished',
      ].join(' '),
    );
  });

  it('decodes base64 deltas exactly, also at 16 kHz', async () => {
    const s = await open('qwen3-tts-flash-realtime', { voice: 'Ethan', mode: 'commit', responseFormat: 'pcm', sampleRate: 16000 });
    const text = 'Odd lengths: one, two, three!';
    const r = collectResponses(s, 1);
    s.append(text);
    s.commit();
    const out = await r;
    assert.ok(out.audio.equals(expectedAudio({ text, voice: 'Ethan', sampleRate: 16000, service: 'qwen' })));
  });

  describe('error paths', () => {
    it('rejects open with the service error when session.update is invalid (voice of another model)', async () => {
      await assert.rejects(
        open('qwen3-tts-vc-realtime-2026-01-15', { voice: 'Cherry', mode: 'server_commit', responseFormat: 'pcm', sampleRate: 24000 }),
        (e: unknown) => e instanceof DashScopeError && e.code === 'invalid_value',
      );
    });

    it('an unknown model (created, then a silent close) fails the open instead of hanging', async () => {
      await assert.rejects(
        open('qwen-no-such-model', { voice: 'Cherry', mode: 'server_commit', responseFormat: 'pcm', sampleRate: 24000 }),
        (e: unknown) => e instanceof DashScopeError && e.code === 'ConnectionClosed',
      );
    });

    it('an error event during the session reaches the listener with its code', async () => {
      const s = await open('qwen3-tts-flash-realtime', { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 });
      const r = collectResponses(s, 1);
      s.commit(); // empty buffer → error event
      const out = await r;
      assert.equal(out.errors.length, 1);
      assert.ok(out.errors[0]?.code);
      assert.ok(s.isOpen, 'a validation error leaves the session usable');
    });

    it('a socket dropped mid-response is reported as ConnectionClosed', async () => {
      sim.inject({ kind: 'drop-after-frames', frames: 1, service: 'qwen' });
      const s = await open('qwen3-tts-flash-realtime', { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 });
      const r = collectResponses(s, 1);
      s.append('A sentence long enough for more than one delta of audio.');
      s.commit();
      const out = await r;
      assert.equal(out.closed?.code, 'ConnectionClosed');
      assert.equal(out.closed?.retryable, true);
      assert.equal(s.isOpen, false);
    });

    it('a response.done with another status than completed reaches the listener, and names itself as an error', async () => {
      sim.inject({ kind: 'response-status', status: 'incomplete', afterFrames: 1 });
      const s = await open('qwen3-tts-flash-realtime', { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 });
      const r = collectResponses(s, 1);
      s.append('A sentence long enough for more than one delta of audio.');
      s.commit();
      const out = await r;
      assert.equal(out.responses[0]?.status, 'incomplete');
      assert.equal(out.responses[0]?.audioBytes, out.audio.length);
      assert.ok(out.audio.length > 0 && out.audio.length < expectedAudio({ text: 'A sentence long enough for more than one delta of audio.', voice: 'Cherry', sampleRate: 24000, service: 'qwen' }).length);
      const codes = (['failed', 'incomplete', 'cancelled'] as const).map((status) => responseStatusError({ ...out.responses[0]!, status }));
      assert.deepEqual(
        codes.map((e) => e.code),
        ['ResponseFailed', 'ResponseIncomplete', 'ResponseCancelled'],
      );
      for (const e of codes) assert.match(e.message, /not fully spoken/);
    });

    it('an error while nobody listens (a parked session) makes the session unusable, though its socket is still open', async () => {
      sim.inject({ kind: 'qwen-error', code: 'session_expired', message: 'Session expired.', on: 'append' });
      const s = await open('qwen3-tts-flash-realtime', { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 });
      assert.ok(s.isOpen);
      s.append('x');
      await waitFor(() => !s.isOpen, 2000, 'the session marked unusable');
      assert.equal(sim.stats.openSockets, 1, 'the socket itself is still open');
    });

    it('a 401 at the handshake is an auth failure', async () => {
      sim.inject({ kind: 'reject-auth', status: 403 });
      await assert.rejects(
        open('qwen3-tts-flash-realtime', { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 }),
        (e: unknown) => e instanceof DashScopeError && e.isAuthFailure && e.status === 403,
      );
    });
  });

  describe('the end of a session after session.finish (a service that differs from the simulator)', () => {
    let server: WebSocketServer;
    let onFinish: (ws: WebSocket) => void;

    beforeEach(async () => {
      server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise((resolve) => server.once('listening', resolve));
      server.on('connection', (ws) => {
        ws.send(JSON.stringify({ type: 'session.created', session: { id: 'sess_custom' } }));
        ws.on('message', (data) => {
          const type = (JSON.parse(String(data)) as { type: string }).type;
          if (type === 'session.update') ws.send(JSON.stringify({ type: 'session.updated', session: {} }));
          if (type === 'session.finish') onFinish(ws);
        });
      });
    });
    afterEach(async () => {
      for (const c of server.clients) c.terminate();
      await new Promise((resolve) => server.close(resolve));
    });

    async function finishWith(behaviour: (ws: WebSocket) => void): Promise<DashScopeError | undefined> {
      onFinish = behaviour;
      const { port } = server.address() as AddressInfo;
      const s = await QwenRealtimeSession.open(`ws://127.0.0.1:${port}/api-ws/v1/realtime?model=m`, 'm', { apiKey: KEY }, { voice: 'Cherry', mode: 'server_commit', responseFormat: 'pcm', sampleRate: 24000 });
      sessions.push(s);
      const closed = new Promise<DashScopeError | undefined>((resolve) => {
        s.listener = { onAudio: () => undefined, onResponseDone: () => undefined, onError: () => undefined, onClosed: resolve };
      });
      s.finish();
      return closed;
    }

    it('a normal close (1000) without session.finished, no response streaming: the end, not an error', async () => {
      assert.equal(await finishWith((ws) => ws.close(1000)), undefined);
    });

    it('a normal close that follows an error event: an error', async () => {
      const err = await finishWith((ws) => {
        ws.send(JSON.stringify({ type: 'error', error: { code: 'session_expired', message: 'expired' } }));
        ws.close(1000);
      });
      assert.equal(err?.code, 'ConnectionClosed');
    });

    it('a normal close in the middle of a response: an error', async () => {
      const err = await finishWith((ws) => {
        ws.send(JSON.stringify({ type: 'response.created', response: { id: 'resp_1' } }));
        ws.close(1000);
      });
      assert.equal(err?.code, 'ConnectionClosed');
    });

    it('a dropped connection (no close frame): an error', async () => {
      const err = await finishWith((ws) => ws.terminate());
      assert.equal(err?.code, 'ConnectionClosed');
    });
  });
});
