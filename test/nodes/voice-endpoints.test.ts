import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavHeader } from '../../src/audio/resample';
import { DashScopeSimulator, expectedAudio } from '../simulator';
import { ROOT, until } from '../e2e/node-red-process';
import { builtNode, freshServerEachTest, helper, type TestFlows } from '../support/node-red';
import { waitFor } from '../support/collect';
import { ConnectionManager } from '../../src/connection/connection-manager';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import { synthesizePreview } from '../../src/nodes/tts-config/voice-endpoints';
import type { TtsConfigNode } from '../../src/nodes/tts-config/types';

const KEY = 'sk-test-key';
const ttsConfig = builtNode('tts-config');

/** supertest's binary answer: the WAV the editor's <audio> element plays. */
function binary(res: { on(ev: string, cb: (b?: Buffer) => void): void }, cb: (err: Error | null, body: Buffer) => void): void {
  const parts: Buffer[] = [];
  res.on('data', (b?: Buffer) => b && parts.push(b));
  res.on('end', () => cb(null, Buffer.concat(parts)));
}

describe('editor endpoints: custom voices and voice preview', () => {
  let sim: DashScopeSimulator;
  before(async () => {
    sim = await DashScopeSimulator.start();
  });
  after(async () => {
    await sim.close();
  });
  freshServerEachTest();

  const flow = (): TestFlows => [{ id: 'cfg', type: 'tts-config', name: 'sim', region: 'custom', endpoint: sim.baseUrl, workspace: '', keepWarm: false }];

  it('lists the account custom voices of a family, only those made for the chosen model', async () => {
    const mine = sim.voices.add({ service: 'voice-enrollment', targetModel: 'cosyvoice-v3-flash', kind: 'clone', name: 'mine', status: 'OK' });
    sim.voices.add({ service: 'voice-enrollment', targetModel: 'cosyvoice-v2', kind: 'clone', name: 'older', status: 'OK' });
    const qwen = sim.voices.add({ service: 'qwen-voice-design', targetModel: 'qwen3-tts-vd-realtime-2026-01-15', kind: 'design', name: 'narrator', status: 'OK' });
    await helper.load(ttsConfig, flow(), { cfg: { apiKey: KEY } });

    const cosy = await helper.request().post('/dashscope-tts/voices').send({ config: 'cfg', family: 'cosyvoice', model: 'cosyvoice-v3-flash' }).expect(200);
    assert.deepEqual((cosy.body as { voices: { voice: string }[] }).voices.map((v) => v.voice), [mine.id]);
    const q = await helper.request().post('/dashscope-tts/voices').send({ config: 'cfg', family: 'qwen' }).expect(200);
    const listed = (q.body as { voices: { voice: string; targetModel: string; kind: string }[] }).voices;
    assert.deepEqual(listed.map((v) => [v.voice, v.targetModel, v.kind]), [[qwen.id, 'qwen3-tts-vd-realtime-2026-01-15', 'design']]);
    assert.ok(!JSON.stringify([cosy.body, q.body]).includes(KEY), 'the key never reaches the editor');
  });

  it('needs a deployed tts-config, and is POST only', async () => {
    await helper.load(ttsConfig, flow(), { cfg: { apiKey: KEY } });
    const res = await helper.request().post('/dashscope-tts/voices').send({ config: 'not-deployed', family: 'cosyvoice' }).expect(404);
    assert.match((res.body as { error: string }).error, /deploy the tts-config/);
    await helper.request().post('/dashscope-tts/voices').send({ config: 'cfg', family: 'other' }).expect(400);
    await helper.request().get('/dashscope-tts/voices').expect(404);
    await helper.request().get('/dashscope-tts/preview').expect(404);
  });

  for (const c of [
    { model: 'cosyvoice-v3-flash', voice: 'longanyang', service: 'cosyvoice' as const },
    { model: 'qwen3-tts-flash-realtime', voice: 'Cherry', service: 'qwen' as const },
  ]) {
    it(`previews a ${c.service} voice as a WAV the browser can play, through the config's connection manager`, async () => {
      await helper.load(ttsConfig, flow(), { cfg: { apiKey: KEY } });
      const text = 'Hello, this is a preview.';
      const res = await helper.request().post('/dashscope-tts/preview').send({ config: 'cfg', model: c.model, voice: c.voice, text }).buffer(true).parse(binary).expect(200);
      assert.equal(res.headers['content-type'], 'audio/wav');
      const pcm = expectedAudio({ text, voice: c.voice, sampleRate: 24000, service: c.service, qwenMode: 'commit' });
      assert.ok((res.body as Buffer).equals(Buffer.concat([wavHeader(24000, pcm.length), pcm])), 'the header and the samples the service sent');
      const opened = sim.stats.connections[c.service];
      await helper.request().post('/dashscope-tts/preview').send({ config: 'cfg', model: c.model, voice: c.voice, text }).expect(200);
      if (c.service === 'cosyvoice') {
        // The socket went back to the config's manager, warm, instead of being closed.
        assert.equal(sim.stats.connections.cosyvoice, opened, 'the second preview reused the connection');
      } else {
        // Each preview is fenced with session.finish, so no response of it can leak into later use.
        const sessions = sim.transcripts.filter((t) => t.service === 'qwen');
        assert.equal(sessions.length, 2, 'one session per preview');
        for (const t of sessions) {
          const types = t.entries.map((e) => (e.json as { type?: string } | undefined)?.type);
          assert.ok(types.includes('session.finish') && types.includes('session.finished'), `ended with session.finish: ${types.join(' ')}`);
        }
      }
    });
  }

  it('refuses what it cannot preview before anything is billed', async () => {
    await helper.load(ttsConfig, flow(), { cfg: { apiKey: KEY } });
    const before = { ...sim.stats.connections };
    await helper.request().post('/dashscope-tts/preview').send({ config: 'cfg', model: 'gpt-4', voice: 'x' }).expect(400);
    await helper.request().post('/dashscope-tts/preview').send({ config: 'cfg', model: 'cosyvoice-v3-flash', voice: '' }).expect(400);
    await helper.request().post('/dashscope-tts/preview').send({ config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang', text: 'x'.repeat(201) }).expect(400);
    assert.deepEqual(sim.stats.connections, before, 'no connection was opened');
  });

  it('reports a voice the service does not know as an error, not as silence', async () => {
    await helper.load(ttsConfig, flow(), { cfg: { apiKey: KEY } });
    const res = await helper.request().post('/dashscope-tts/preview').send({ config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'cosyvoice-v3-flash-nosuch-0123456789abcdef' }).expect(502);
    assert.ok((res.body as { error: string }).error.length > 0);
  });
});

describe('voice preview that takes too long', () => {
  it('a Qwen preview given up at its timeout closes its session at once (it does not linger until the service ends it)', async () => {
    const slow = await DashScopeSimulator.start({ firstAudioLatencyMs: 5000 });
    const manager = new ConnectionManager({ endpoints: resolveEndpoints({ region: 'custom', endpoint: slow.baseUrl }), credentials: { apiKey: KEY }, keepWarm: false });
    try {
      const config = { manager } as unknown as TtsConfigNode;
      await assert.rejects(synthesizePreview(config, 'qwen', 'qwen3-tts-flash-realtime', 'Cherry', 'Hello, this is a preview.', 300), /took too long/);
      await waitFor(() => manager.stats().open === 0 && slow.stats.openSockets === 0, 1000, 'the session closed after the timeout');
      assert.equal(manager.stats().idle, 0, 'and not parked for reuse');
    } finally {
      await manager.close();
      await slow.close();
    }
  });
});

describe('editor endpoints in a Node-RED with adminAuth', function () {
  this.timeout(40_000);
  let child: ReturnType<typeof spawn> | undefined;
  let userDir = '';
  let base = '';
  before(async () => {
    // A known password, hashed as Node-RED's own settings.js documents it.
    const hash = (require('bcryptjs') as { hashSync(p: string, r: number): string }).hashSync('secret-pass', 8);
    userDir = mkdtempSync(join(tmpdir(), 'dashscope-auth-'));
    mkdirSync(join(userDir, 'node_modules'));
    symlinkSync(ROOT, join(userDir, 'node_modules', 'node-red-contrib-dashscope-tts'), 'dir');
    const port = 20000 + Math.floor(Math.random() * 20000);
    base = `http://127.0.0.1:${port}`;
    const adminAuth = { type: 'credentials', users: [{ username: 'admin', password: hash, permissions: '*' }, { username: 'viewer', password: hash, permissions: 'read' }] };
    child = spawn(
      process.execPath,
      [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port), '-D', 'uiHost=127.0.0.1', '-D', 'editorTheme.tours=false', '-D', 'editorTheme.palette.catalogues=[]', '-D', `adminAuth=${JSON.stringify(adminAuth)}`, '--no-telemetry'],
      { cwd: userDir, stdio: 'ignore' },
    );
    await until('Node-RED to answer', 30_000, () => fetch(`${base}/auth/login`).then((r) => r.ok, () => false));
  });
  after(() => {
    child?.kill('SIGTERM');
    rmSync(userDir, { recursive: true, force: true });
  });

  async function token(username: string, scope: string): Promise<string> {
    const res = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: 'secret-pass' }),
    });
    assert.equal(res.status, 200, `login as ${username}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const post = (path: string, bearer?: string): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ config: 'none', family: 'cosyvoice', model: 'cosyvoice-v3-flash', voice: 'longanyang' }),
    });

  it('answers 401 without a token or to a read-only user, and lets a user with write permission through', async () => {
    for (const path of ['/dashscope-tts/voices', '/dashscope-tts/preview']) {
      assert.equal((await post(path)).status, 401, `${path} without a token`);
      assert.equal((await post(path, await token('viewer', 'read'))).status, 401, `${path} for a read-only user`);
      // Past the guard: the request itself is judged (no such config node deployed).
      assert.equal((await post(path, await token('admin', '*'))).status, 404, `${path} for an admin`);
    }
  });
});
