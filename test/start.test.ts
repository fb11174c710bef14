// `npm start` as a newcomer runs it: no DASHSCOPE_API_KEY, so offline demo mode with the local
// simulator. Runs the real script (build, user dir, simulator, Node-RED) on a free port and a
// throw-away user directory, then stops it with SIGTERM and checks nothing is left running.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';

const root = resolve(__dirname, '..');
const MODULE = 'node-red-contrib-dashscope-tts';
const DEMO_NAME = 'DashScope simulator (offline demo)';

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Resolves true when something accepts a TCP connection on the port, false when refused. */
function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = createConnection({ port, host });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolveOpen(false);
    });
    socket.once('error', () => resolveOpen(false));
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolveExit, reject) => {
    if (exited(child)) return resolveExit({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => reject(new Error(`process did not exit within ${ms} ms`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolveExit({ code, signal });
    });
  });
}

describe('npm start (offline demo mode)', function () {
  let port = 0;
  let userDir = '';
  let child: ChildProcess | undefined;
  let output = '';
  let simulatorUrl = '';

  before(async function () {
    this.timeout(90_000);
    port = await freePort();
    userDir = mkdtempSync(join(tmpdir(), 'dashscope-start-'));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), NODE_RED_USER_DIR: userDir };
    delete env.DASHSCOPE_API_KEY;
    delete env.DASHSCOPE_REGION;
    delete env.DASHSCOPE_SIMULATOR_URL;

    // Own process group, so that cleanup can reach every descendant if the test fails midway.
    const proc = spawn(process.execPath, [join(root, 'scripts/start.mjs')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child = proc;
    proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    // Ready = the editor URL has been announced (printed once GET / answers) and flows have started.
    const deadline = Date.now() + 75_000;
    while (!(output.includes('Node-RED editor: ') && output.includes('Started flows'))) {
      if (exited(proc)) assert.fail(`npm start exited early (code ${proc.exitCode}):\n${output}`);
      if (Date.now() > deadline) assert.fail(`npm start was not ready within 75 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async function () {
    this.timeout(30_000);
    // Kill whatever is left in the process group (also orphans when the test failed because
    // the script did not stop its children).
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // nothing left
      }
      await waitForExit(child, 5_000).catch(() => undefined);
    }
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('serves the editor on 127.0.0.1:$PORT', async function () {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /<title>Node-RED<\/title>/);
    assert.match(output, new RegExp(`Node-RED editor: http://127\\.0\\.0\\.1:${port}/`));
  });

  it('loads the package from the user directory', async function () {
    const res = await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200);
    const sets = (await res.json()) as Array<{ id: string; module: string; types: string[]; enabled: boolean; err?: string }>;
    const set = sets.find((s) => s.id === `${MODULE}/tts-config`);
    assert.ok(set, `GET /nodes does not list ${MODULE}/tts-config: ${sets.map((s) => s.id).join(', ')}`);
    assert.equal(set.module, MODULE);
    assert.deepEqual(set.types, ['tts-config']);
    assert.equal(set.enabled, true);
    assert.equal(set.err, undefined);
    assert.ok(existsSync(join(userDir, 'node_modules', MODULE, 'package.json')));
  });

  it('deploys the ready-made demo flow with a tts-config node on the simulator', async function () {
    const res = await fetch(`http://127.0.0.1:${port}/flows`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200);
    const flows = (await res.json()) as Array<Record<string, unknown>>;
    const tab = flows.find((n) => n.type === 'tab');
    assert.equal(tab?.label, 'DashScope TTS');
    const config = flows.find((n) => n.type === 'tts-config');
    assert.ok(config, 'no tts-config node in GET /flows');
    assert.equal(config.region, 'custom');
    assert.equal(config.name, DEMO_NAME);
    assert.equal(config.endpoint, '${DASHSCOPE_SIMULATOR_URL}');
    // the demo flow lives in its own file, never in the live flows.json
    assert.ok(existsSync(join(userDir, 'flows-demo.json')));
    assert.ok(!existsSync(join(userDir, 'flows.json')));
    // no key or simulator address is written to disk
    assert.doesNotMatch(readFileSync(join(userDir, 'flows-demo.json'), 'utf8'), /sk-offline-demo|127\.0\.0\.1/);
    // the config node accepted the substituted endpoint and the demo key (it warns otherwise)
    assert.doesNotMatch(output, /\[warn\] \[tts-config/);
  });

  it('announces offline demo mode and the simulator URL', function () {
    assert.match(output, /No DASHSCOPE_API_KEY set: offline demo mode\./);
    assert.match(output, /Set DASHSCOPE_API_KEY to use the real service\./);
    const match = /A local DashScope simulator is running at (http:\/\/127\.0\.0\.1:\d+); the tts-config node 'DashScope simulator \(offline demo\)' points at it\./.exec(
      output,
    );
    assert.ok(match, `no simulator URL in the output:\n${output}`);
    simulatorUrl = match[1];
  });

  it('runs a simulator that accepts the demo key on the CosyVoice endpoint', async function () {
    assert.ok(simulatorUrl, 'simulator URL unknown');
    const ws = new WebSocket(`${simulatorUrl.replace(/^http/, 'ws')}/api-ws/v1/inference`, {
      headers: { Authorization: 'Bearer sk-offline-demo' },
    });
    try {
      await new Promise<void>((resolveOpen, reject) => {
        ws.once('open', () => resolveOpen());
        ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      });
    } finally {
      ws.terminate();
    }
  });

  it('stops Node-RED and the simulator on SIGTERM', async function () {
    this.timeout(40_000);
    assert.ok(child && !exited(child), 'npm start is not running');
    const simulatorPort = Number(new URL(simulatorUrl).port);
    assert.equal(await tcpOpen(simulatorPort), true, 'simulator port not open before SIGTERM');

    child.kill('SIGTERM');
    const { code, signal } = await waitForExit(child, 30_000);
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.equal(await tcpOpen(simulatorPort), false, 'the simulator is still listening after npm start exited');
    assert.equal(await tcpOpen(port), false, 'Node-RED is still listening after npm start exited');
  });
});
