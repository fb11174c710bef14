/**
 * Issue 9, security: the API key never leaves the runtime (logs, status, errors, messages, flows,
 * admin answers), the admin routes refuse callers without the right permission, and a plain-text
 * endpoint that is not on this machine is refused before any connection is made.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { Node } from 'node-red';
import { DashScopeSimulator, expectedAudio, type Fault } from '../simulator';
import { ROOT, until } from '../e2e/node-red-process';
import { waitFor } from '../support/collect';
import { builtNode, collect, coreNode, deployedFlows, helper, type TestFlows } from '../support/node-red';

const KEY = 'sk-SECRET-do-not-leak-7f3a9c1e5b';
/** A second, revoked key (the simulator refuses it): a refused key must not leak either. */
const REVOKED = 'sk-SECRET-do-not-leak-revoked-0d9e';
/** Any 10 characters in a row of either key count as a leak (a truncated status text, a half-masked echo). */
const FRAGMENTS = [...new Set([KEY, REVOKED].flatMap((k) => Array.from({ length: k.length - 9 }, (_, i) => k.slice(i, i + 10))))];

const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime'), coreNode('common/25-catch.js')];
type Receiver = Node & { receive(msg: Record<string, unknown>): void };
type Spy = { args: unknown[][] };

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  return inspect(value, { depth: 8, breakLength: Infinity, showHidden: false, maxArrayLength: 50, maxStringLength: 100_000 });
}

function assertNoKey(what: string, text: string): void {
  for (const f of FRAGMENTS) assert.ok(!text.includes(f), `${what} contains the API key (${f})`);
}

describe('security (issue 9): the API key never leaks', function () {
  this.timeout(30_000);
  let sim: DashScopeSimulator;
  beforeEach(async () => {
    sim = await DashScopeSimulator.start({ apiKeys: [KEY] });
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await sim.close();
  });

  it('not in logs, status, catch messages, outputs, flows, admin answers or stdout/stderr while a matrix of failures runs', async () => {
    const printed: string[] = [];
    const writes = { out: process.stdout.write, err: process.stderr.write };
    const tap = (orig: typeof process.stdout.write) =>
      function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
        printed.push(show(chunk));
        return (orig as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof process.stdout.write;
    process.stdout.write = tap(writes.out);
    process.stderr.write = tap(writes.err);
    try {
      const flow: TestFlows = [
        { id: 'tab', type: 'tab' },
        { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
        { id: 'revoked', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
        { id: 'cosy', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: '', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['out'], ['out']] },
        { id: 'qwen', type: 'qwen-realtime', z: 'tab', config: 'cfg', model: 'qwen3-tts-flash-realtime', voice: '', mode: 'server_commit', input: 'utterance', wires: [['out'], ['out']] },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
        { id: 'out', type: 'helper', z: 'tab' },
      ];
      await helper.load(nodes, flow, { cfg: { apiKey: KEY }, revoked: { apiKey: REVOKED } });
      const caught = collect<Record<string, unknown>>(helper.getNode('caught'));
      const out = collect<Record<string, unknown>>(helper.getNode('out'));
      const events = (): number => out.filter((m) => !Buffer.isBuffer(m.payload)).length;

      /** One failure: arm the fault, send the message, wait until it ended (error or finished utterance). */
      async function row(id: 'cosy' | 'qwen', msg: Record<string, unknown>, fault?: Fault): Promise<void> {
        if (fault) sim.inject(fault);
        const before = caught.length + events();
        (helper.getNode(id) as Receiver).receive(msg);
        await waitFor(() => caught.length + events() > before, 10_000, `an outcome for ${JSON.stringify(msg.payload)}`);
        sim.clearFaults();
      }
      const cosyVoice = { voice: 'longanyang' };
      const qwenVoice = { voice: 'Cherry' };
      await row('cosy', { payload: 42 });
      await row('qwen', { payload: { text: 'x' } });
      await row('cosy', { payload: 'hello', voice: 'nosuchvoice' });
      await row('qwen', { payload: 'hello', voice: 'nosuchvoice' });
      await row('cosy', { payload: 'hello', rate: 'fast', ...cosyVoice });
      await row('cosy', { payload: 'fails', ...cosyVoice }, { kind: 'fail-task', code: 'InternalError', message: 'boom' });
      await row('qwen', { payload: 'fails', ...qwenVoice }, { kind: 'qwen-error', code: 'internal_error', message: 'boom' } as Fault);
      await row('cosy', { payload: 'dropped. Right in the middle.', ...cosyVoice }, { kind: 'drop-after-frames', frames: 1 });
      await row('qwen', { payload: 'dropped. Right in the middle.', ...qwenVoice }, { kind: 'drop-after-frames', frames: 1 });
      await row('cosy', { payload: 'garbled', ...cosyVoice }, { kind: 'malformed-frame', what: 'not-json' });
      await row('cosy', { payload: 'a good one', ...cosyVoice });

      // The admin routes, answering and failing (the helper's admin app has no auth: the key must still not show).
      const admin: string[] = [];
      const ask = async (path: string, body: Record<string, unknown>, status: number): Promise<void> => {
        const res = await helper.request().post(path).send(body).buffer(true).expect(status);
        admin.push(`${res.status} ${JSON.stringify(res.headers)} ${res.text ?? show(res.body)}`);
      };
      await ask('/dashscope-tts/voices', { config: 'cfg', family: 'cosyvoice' }, 200);
      await ask('/dashscope-tts/voices', { config: 'revoked', family: 'qwen' }, 502);
      await ask('/dashscope-tts/preview', { config: 'revoked', model: 'qwen3-tts-flash-realtime', voice: 'Cherry' }, 502);
      await ask('/dashscope-tts/voices', { config: 'nope', family: 'qwen' }, 404);
      await ask('/dashscope-tts/voices', { config: 'cfg', family: 'other' }, 400);
      await ask('/dashscope-tts/preview', { config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'cosyvoice-v3-flash-nosuch-0123456789abcdef' }, 502);
      await ask('/dashscope-tts/preview', { config: 'cfg', model: 'gpt-4', voice: 'x' }, 400);
      const catalog = await helper.request().get('/dashscope-tts/catalog').expect(200);
      admin.push(catalog.text);

      // Last: the service refuses the key (the manager then stops trying).
      sim.inject({ kind: 'reject-auth', times: Infinity });
      sim.dropAll();
      await row('cosy', { payload: 'after the key was revoked', ...cosyVoice });
      await row('qwen', { payload: 'after the key was revoked', ...qwenVoice });
      await ask('/dashscope-tts/preview', { config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang' }, 502);

      // Everything the runtime printed and sent.
      const spies = ['cfg', 'revoked', 'cosy', 'qwen'].flatMap((id) => {
        const n = helper.getNode(id) as unknown as Record<string, Spy | undefined>;
        return ['status', 'warn', 'error', 'log', 'debug', 'trace'].flatMap((m) => (n[m]?.args ?? []).map((a) => `${id}.${m} ${a.map(show).join(' ')}`));
      });
      const logs = ((helper.log() as unknown as Spy | undefined)?.args ?? []).map((a) => a.map(show).join(' '));
      const corpus = {
        'helper.log()': logs.join('\n'),
        'node status/warn/error': spies.join('\n'),
        'catch messages (with stacks)': caught.map(show).join('\n'),
        'output messages': out.filter((m) => !Buffer.isBuffer(m.payload)).map(show).join('\n'),
        'deployed flows': JSON.stringify(deployedFlows()),
        'admin answers': admin.join('\n'),
        'stdout/stderr': printed.join(''),
      };
      // The capture is real: the failures above are all in it.
      assert.ok(caught.length >= 8, `${caught.length} failures reached catch`);
      assert.match(corpus['catch messages (with stacks)'], /InvalidApiKey/);
      assert.match(corpus['catch messages (with stacks)'], /stack/);
      assert.match(corpus['node status/warn/error'], /invalid API key/);
      assert.match(corpus['admin answers'], /InvalidApiKey/);
      assert.ok(spies.length > 10 && logs.length > 0);
      for (const [what, text] of Object.entries(corpus)) assertNoKey(what, text);
      // The key did go where it must: to the service, in the Authorization header only.
      const auth = sim.transcripts.map((t) => t.headers.authorization ?? '');
      assert.ok(auth.some((h) => h === `Bearer ${KEY}`));
      for (const t of sim.transcripts) assertNoKey(`the WebSocket URL ${t.url}`, t.url);
    } finally {
      process.stdout.write = writes.out;
      process.stderr.write = writes.err;
    }
  });

  describe('a plain-text endpoint that is not on this machine', () => {
    // 0.0.0.0 reaches this machine's listeners on Linux, but it is not a loopback name: the
    // simulator can stand in for a remote plain-text host and count any connection made to it.
    const remoteLooking = (): string => `http://0.0.0.0:${sim.port}`;
    const flow = (): TestFlows => [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: remoteLooking(), keepWarm: true },
      { id: 'cosy', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['out'], []] },
      { id: 'qwen', type: 'qwen-realtime', z: 'tab', config: 'cfg', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'server_commit', input: 'utterance', wires: [['out'], []] },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
      { id: 'out', type: 'helper', z: 'tab' },
    ];
    afterEach(() => {
      helper.settings({});
    });

    it('is refused: the nodes say so, every message fails with the reason, and no connection is ever made', async () => {
      await helper.load(nodes, flow(), { cfg: { apiKey: KEY } });
      const caught = collect<{ error?: { code?: string; message: string } }>(helper.getNode('caught'));
      for (const id of ['cosy', 'qwen']) (helper.getNode(id) as Receiver).receive({ payload: 'Door open.' });
      await waitFor(() => caught.length === 2, 5000, 'two refusals');
      for (const c of caught) {
        assert.equal(c.error?.code, 'ConfigError');
        assert.match(c.error?.message ?? '', /refusing to send the API key in clear text to 0\.0\.0\.0/);
      }
      const status = (helper.getNode('cosy') as unknown as { status: Spy }).status.args.map((a) => a[0] as { fill?: string; text?: string });
      assert.equal(status[status.length - 1]?.fill, 'red');
      assert.match(status[status.length - 1]?.text ?? '', /refusing to send the API key/);
      const voices = await helper.request().post('/dashscope-tts/voices').send({ config: 'cfg', family: 'cosyvoice' }).expect(502);
      assert.match((voices.body as { error: string }).error, /refusing to send the API key in clear text/);
      await helper.request().post('/dashscope-tts/preview').send({ config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang' }).expect(502);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(sim.stats.connections.cosyvoice + sim.stats.connections.qwen, 0, 'no WebSocket');
      assert.equal(sim.stats.httpRequests, 0, 'no HTTP request');
      assert.equal(sim.transcripts.length, 0);
    });

    it('is permitted by settings.js ttsConfigAllowInsecureEndpoint: true (and then plays)', async () => {
      helper.settings({ ttsConfigAllowInsecureEndpoint: true } as Parameters<typeof helper.settings>[0]);
      await helper.load(nodes, flow(), { cfg: { apiKey: KEY } });
      const out = collect<{ payload: Buffer; parts?: { count?: number } }>(helper.getNode('out'));
      (helper.getNode('cosy') as Receiver).receive({ payload: 'Door open.' });
      await waitFor(() => out.some((m) => m.parts?.count !== undefined), 5000, 'the utterance');
      const audio = Buffer.concat(out.map((m) => m.payload));
      assert.ok(audio.equals(expectedAudio({ text: 'Door open.', voice: 'longanyang', sampleRate: 24000 })));
      assert.ok(sim.stats.connections.cosyvoice >= 1);
    });
  });
});

describe('security (issue 9): a real Node-RED with adminAuth', function () {
  this.timeout(60_000);
  let sim: DashScopeSimulator;
  let child: ChildProcess | undefined;
  let userDir = '';
  let base = '';
  const printed: string[] = [];

  before(async () => {
    sim = await DashScopeSimulator.start({ apiKeys: [KEY] });
    const hash = (require('bcryptjs') as { hashSync(p: string, r: number): string }).hashSync('secret-pass', 8);
    userDir = mkdtempSync(join(tmpdir(), 'dashscope-security-'));
    mkdirSync(join(userDir, 'node_modules'));
    symlinkSync(ROOT, join(userDir, 'node_modules', 'node-red-contrib-dashscope-tts'), 'dir');
    const port = 20000 + Math.floor(Math.random() * 20000);
    base = `http://127.0.0.1:${port}`;
    const adminAuth = { type: 'credentials', users: [{ username: 'admin', password: hash, permissions: '*' }, { username: 'viewer', password: hash, permissions: 'read' }] };
    child = spawn(
      process.execPath,
      [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port), '-D', 'uiHost=127.0.0.1', '-D', 'editorTheme.tours=false', '-D', 'editorTheme.palette.catalogues=[]', '-D', 'logging.console.level=trace', '-D', `adminAuth=${JSON.stringify(adminAuth)}`, '--no-telemetry'],
      { cwd: userDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (b: Buffer) => printed.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => printed.push(b.toString()));
    await until('Node-RED to answer', 30_000, () => fetch(`${base}/auth/login`).then((r) => r.ok, () => false));
  });
  after(async () => {
    child?.kill('SIGTERM');
    rmSync(userDir, { recursive: true, force: true });
    await sim.close();
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
  const call = (method: 'GET' | 'POST', path: string, bearer?: string, body: unknown = {}): Promise<Response> =>
    fetch(`${base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) },
      body: method === 'POST' ? JSON.stringify(body) : undefined,
    });

  const ROUTES: { method: 'GET' | 'POST'; path: string; write: boolean }[] = [
    { method: 'GET', path: '/dashscope-tts/catalog', write: false },
    { method: 'GET', path: '/pcm-speaker/devices', write: false },
    { method: 'POST', path: '/dashscope-tts/voices', write: true },
    { method: 'POST', path: '/dashscope-tts/preview', write: true },
  ];

  it('every package admin route: 401 without a token; the write-guarded POST routes 401 for a read-only user', async () => {
    const viewer = await token('viewer', 'read');
    for (const r of ROUTES) {
      assert.equal((await call(r.method, r.path)).status, 401, `${r.method} ${r.path} without a token`);
      assert.equal((await call(r.method, r.path, 'not-a-real-token')).status, 401, `${r.method} ${r.path} with a forged token`);
      const asViewer = await call(r.method, r.path, viewer, { config: 'none', family: 'cosyvoice', model: 'cosyvoice-v3-flash', voice: 'longanyang' });
      assert.equal(asViewer.status, r.write ? 401 : 200, `${r.method} ${r.path} for a read-only user`);
    }
  });

  it('a deployed key never comes back: not in GET /flows, the credentials API, admin answers, the log, or flows_cred.json in clear', async () => {
    const admin = await token('admin', '*');
    const flows = [
      { id: 'tab', type: 'tab', label: 'Security' },
      { id: 'cfg', type: 'tts-config', name: 'sim', region: 'custom', endpoint: sim.baseUrl, keepWarm: false, credentials: { apiKey: KEY } },
      { id: 'cfg-revoked', type: 'tts-config', name: 'a revoked key', region: 'custom', endpoint: sim.baseUrl, keepWarm: false, credentials: { apiKey: REVOKED } },
      { id: 'cosy', type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [[], []] },
      { id: 'cosy2', type: 'cosyvoice-stream', z: 'tab', config: 'cfg-revoked', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [[], []] },
    ];
    const deploy = await fetch(`${base}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${admin}`, 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.equal(deploy.status, 204, await deploy.clone().text());
    const answers: string[] = [];
    const keep = async (res: Promise<Response>, status: number, what: string): Promise<string> => {
      const r = await res;
      const text = await r.text();
      assert.equal(r.status, status, `${what}: ${text.slice(0, 200)}`);
      answers.push(`${what}: ${text}`);
      return text;
    };
    // A working preview proves the key reached the runtime; then failures of every kind.
    await until('the deployed config to preview', 10_000, async () => (await call('POST', '/dashscope-tts/preview', admin, { config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang', text: 'Hi.' })).status === 200);
    await keep(call('POST', '/dashscope-tts/preview', admin, { config: 'cfg', model: 'cosyvoice-v3-flash', voice: 'cosyvoice-v3-flash-nosuch-0123456789abcdef' }), 502, 'preview of an unknown voice');
    await keep(call('POST', '/dashscope-tts/voices', admin, { config: 'cfg', family: 'cosyvoice' }), 200, 'voice list');
    await keep(call('POST', '/dashscope-tts/voices', admin, { config: 'cfg-revoked', family: 'qwen' }), 502, 'voice list with a refused key');
    await keep(call('POST', '/dashscope-tts/preview', admin, { config: 'cfg-revoked', model: 'qwen3-tts-flash-realtime', voice: 'Cherry' }), 502, 'preview with a refused key');
    await keep(call('GET', '/credentials/tts-config/cfg-revoked', admin), 200, 'GET /credentials of the revoked one');
    const flowsV1 = await keep(call('GET', '/flows', admin), 200, 'GET /flows');
    assert.match(flowsV1, /"tts-config"/);
    await keep(fetch(`${base}/flows`, { headers: { Authorization: `Bearer ${admin}`, 'Node-RED-API-Version': 'v2' } }), 200, 'GET /flows v2');
    const cred = await keep(call('GET', '/credentials/tts-config/cfg', admin), 200, 'GET /credentials');
    assert.match(cred, /"has_apiKey":true/, 'the editor learns only that a key is set');
    await keep(call('GET', '/nodes/node-red-contrib-dashscope-tts', admin), 200, 'GET /nodes/<module>');
    for (const a of answers) assertNoKey(a.slice(0, a.indexOf(':')), a);

    // The runtime's own files: the credentials file is encrypted, the flows file holds none.
    const files = readdirSync(userDir).filter((f) => f.endsWith('.json'));
    assert.ok(files.some((f) => f.startsWith('flows_cred')), files.join(', '));
    for (const f of files) assertNoKey(f, readFileSync(join(userDir, f), 'utf8'));
    assert.ok(existsSync(join(userDir, 'flows.json')));

    await new Promise((r) => setTimeout(r, 200));
    const log = printed.join('');
    assert.match(log, /Started flows/);
    assertNoKey('Node-RED console output (trace level)', log);
  });
});
