// `npm start` as a newcomer runs it: no DASHSCOPE_API_KEY, so offline demo mode with the local
// simulator. Runs the real script (build, user dir, simulator, Node-RED) on a free port and a
// throw-away user directory, then stops it with SIGTERM and checks nothing is left running.
// Then with a key and HOST=0.0.0.0, as on a Raspberry Pi opened from a laptop.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { CONFIG_ID, DEMO_CONFIG_NAME, DEMO_TAB_ID, SAMPLE_FILE, SAMPLE_FOLDER_NAME, SHIPPED_SAMPLE, demoFlow, prepareSampleFolder, type FlowNode } from '../scripts/demo-flow.mjs';
import { freePort } from './support/free-port';

const root = resolve(__dirname, '..');
const MODULE = 'node-red-contrib-dashscope-tts';
const DEMO_NAME = DEMO_CONFIG_NAME;

/** This machine's first non-loopback IPv4 address, if it has one. */
function lanAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;
}

/** The flow as the runtime holds it, without what the runtime adds. */
function settingsOf(flows: FlowNode[]): FlowNode[] {
  return flows.map(({ credentials: _credentials, ...n }) => n as FlowNode);
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

interface ScriptRun {
  child: ChildProcess;
  output(): string;
  /** Calls `update` with the whole output each time more arrives. */
  follow(update: (output: string) => void): void;
}

/**
 * Runs scripts/start.mjs with `env` over this process's environment, without DASHSCOPE_*
 * unless given, and waits until it is ready: the editor URL announced (printed once GET /
 * answers) and the flows started.
 */
async function startScript(env: NodeJS.ProcessEnv): Promise<ScriptRun> {
  const full: NodeJS.ProcessEnv = { ...process.env };
  delete full.DASHSCOPE_API_KEY;
  delete full.DASHSCOPE_REGION;
  delete full.DASHSCOPE_SIMULATOR_URL;
  delete full.HOST;
  Object.assign(full, env);
  // Own process group, so that cleanup can reach every descendant if the test fails midway.
  const child = spawn(process.execPath, [join(root, 'scripts/start.mjs')], { cwd: root, env: full, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  const followers: ((output: string) => void)[] = [];
  const add = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const f of followers) f(text);
  };
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  const deadline = Date.now() + 75_000;
  while (!(text.includes('Node-RED editor: ') && text.includes('Started flows'))) {
    if (exited(child) || Date.now() > deadline) {
      await killGroup(child);
      assert.fail(`npm start ${exited(child) ? `exited early (code ${child.exitCode})` : 'was not ready within 75 s'}:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, output: () => text, follow: (update) => followers.push(update) };
}

/** Kills whatever is left in the run's process group (also orphans when a test failed midway). */
async function killGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // nothing left
  }
  await waitForExit(child, 5_000).catch(() => undefined);
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
    const run = await startScript({ PORT: String(port), NODE_RED_USER_DIR: userDir });
    child = run.child;
    output = run.output();
    run.follow((text) => (output = text));
  });

  after(async function () {
    this.timeout(30_000);
    await killGroup(child);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('serves the editor on 127.0.0.1:$PORT', async function () {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /<title>Node-RED<\/title>/);
    assert.match(output, new RegExp(`Node-RED editor: http://127\\.0\\.0\\.1:${port}/`));
  });

  it('listens on this machine only (no HOST): not on its network address, and says nothing of adminAuth', async function () {
    assert.match(readFileSync(join(userDir, 'settings.js'), 'utf8'), /^\s*uiHost: "127\.0\.0\.1",$/m);
    const lan = lanAddress();
    if (lan) assert.equal(await tcpOpen(port, lan), false, `Node-RED answers on ${lan}`);
    assert.doesNotMatch(output, /WARNING|adminAuth/);
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

  it('deploys the ready-made demo flow (scripts/demo-flow.mjs): a tab with a button that speaks, pointing to the examples', async function () {
    const res = await fetch(`http://127.0.0.1:${port}/flows`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200);
    const flows = (await res.json()) as FlowNode[];
    assert.deepEqual(settingsOf(flows), demoFlow({ demo: true }));
    const tab = flows.find((n) => n.type === 'tab');
    assert.equal(tab?.label, 'DashScope TTS');
    assert.match(String(tab?.info), /\*\*Import\*\* › \*\*Examples\*\*/);
    assert.match(String(tab?.info), /导入.*示例/);
    const types = flows.filter((n) => n.z === DEMO_TAB_ID).map((n) => n.type);
    for (const type of ['inject', 'cosyvoice-stream', 'pcm-speaker', 'debug', 'catch']) assert.ok(types.includes(type), `no ${type} on the demo tab`);
    assert.ok(flows.filter((n) => n.z === DEMO_TAB_ID && n.config !== undefined).every((n) => n.config === CONFIG_ID));
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

  it('copies the voice clone example\'s recording into the sample folder that settings.js names', function () {
    const copied = join(userDir, SAMPLE_FOLDER_NAME, SAMPLE_FILE);
    assert.ok(readFileSync(copied).equals(readFileSync(SHIPPED_SAMPLE)));
    assert.match(readFileSync(join(userDir, 'settings.js'), 'utf8'), new RegExp(`ttsVoiceSampleFolder: require\\('path'\\)\\.join\\(__dirname, "${SAMPLE_FOLDER_NAME}"\\)`));
    assert.match(output, new RegExp(`Voice samples \\(ttsVoiceSampleFolder\\): ${join(userDir, SAMPLE_FOLDER_NAME).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.`));
  });

  it('announces offline demo mode and the simulator URL', function () {
    assert.match(output, /No DASHSCOPE_API_KEY set: offline demo mode\./);
    assert.match(output, /Set DASHSCOPE_API_KEY to use the real service\./);
    assert.match(output, /press the button of 'Say hello'; more flows: menu > Import > Examples\./);
    const match = /A local DashScope simulator is running at (http:\/\/127\.0\.0\.1:\d+); the DashScope service node 'DashScope simulator \(offline demo\)' points at it\./.exec(
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

describe('npm start with HOST=0.0.0.0 and DASHSCOPE_API_KEY (a Raspberry Pi opened from a laptop)', function () {
  let port = 0;
  let userDir = '';
  let run: ScriptRun | undefined;
  const ownSample = Buffer.from('a recording of my own');

  before(async function () {
    this.timeout(90_000);
    port = await freePort();
    userDir = mkdtempSync(join(tmpdir(), 'dashscope-start-host-'));
    // A recording of the user's that has the shipped sample's name.
    mkdirSync(join(userDir, SAMPLE_FOLDER_NAME));
    writeFileSync(join(userDir, SAMPLE_FOLDER_NAME, SAMPLE_FILE), ownSample);
    // The key is never used: nothing is said in this test, so nothing reaches the service.
    run = await startScript({ PORT: String(port), NODE_RED_USER_DIR: userDir, HOST: '0.0.0.0', DASHSCOPE_API_KEY: 'sk-test-key', DASHSCOPE_REGION: 'singapore' });
  });

  after(async function () {
    this.timeout(30_000);
    await killGroup(run?.child);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('writes uiHost from HOST and listens on every interface: the printed editor URLs answer', async function () {
    assert.match(readFileSync(join(userDir, 'settings.js'), 'utf8'), /^\s*uiHost: "0\.0\.0\.0",$/m);
    const line = /Node-RED editor: (.*?) {2}\(Ctrl-C stops everything\)/.exec(run?.output() ?? '');
    assert.ok(line, 'no editor line');
    const urls = (line[1] as string).split('  or  ');
    const lan = lanAddress();
    // A URL another machine can open: the network address(es), else the host name; never loopback.
    if (lan) assert.ok(urls.includes(`http://${lan}:${port}/`), urls.join(', '));
    for (const url of urls) {
      assert.doesNotMatch(url, /127\.0\.0\.1|localhost/);
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
    }
    if (lan) assert.equal(await tcpOpen(port, lan), true);
    assert.equal(await tcpOpen(port, '127.0.0.1'), true, 'and on loopback');
  });

  it('warns that anyone on the network can then open the editor, and that settings.js needs adminAuth', function () {
    const output = run?.output() ?? '';
    assert.match(output, /WARNING: HOST=0\.0\.0\.0: the editor is open to the network\. Anyone who can reach this machine/);
    assert.match(output, new RegExp(`Protect it with adminAuth in ${join(userDir, 'settings.js').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(output, /https:\/\/nodered\.org\/docs\/user-guide\/runtime\/securing-node-red/);
    // The warning comes before the URL, where it is read.
    assert.ok(output.indexOf('WARNING: HOST') < output.indexOf('Node-RED editor: '));
    assert.match(readFileSync(join(userDir, 'settings.js'), 'utf8'), /protect it with adminAuth/);
  });

  it('writes the live flow: the same tab, its service node on the real service in DASHSCOPE_REGION, no key on disk', async function () {
    const flows = (await (await fetch(`http://127.0.0.1:${port}/flows`, { headers: { Accept: 'application/json' } })).json()) as FlowNode[];
    assert.deepEqual(settingsOf(flows), demoFlow({ demo: false, region: 'singapore' }));
    assert.ok(existsSync(join(userDir, 'flows.json')));
    assert.ok(!existsSync(join(userDir, 'flows-demo.json')));
    assert.doesNotMatch(readFileSync(join(userDir, 'flows.json'), 'utf8'), /sk-test-key/);
    assert.match(run?.output() ?? '', /using the real DashScope service, region singapore/);
  });

  it('keeps a recording of the user\'s that has the shipped sample\'s name', function () {
    assert.ok(readFileSync(join(userDir, SAMPLE_FOLDER_NAME, SAMPLE_FILE)).equals(ownSample));
  });
});

describe('npm start with a settings.js of the user\'s own, and HOST=0.0.0.0', function () {
  let port = 0;
  let userDir = '';
  let run: ScriptRun | undefined;
  const own = 'module.exports = { flowFile: "flows.json", uiHost: "127.0.0.1" };\n';

  before(async function () {
    this.timeout(90_000);
    port = await freePort();
    userDir = mkdtempSync(join(tmpdir(), 'dashscope-start-own-'));
    writeFileSync(join(userDir, 'settings.js'), own);
    run = await startScript({ PORT: String(port), NODE_RED_USER_DIR: userDir, HOST: '0.0.0.0' });
  });

  after(async function () {
    this.timeout(30_000);
    await killGroup(run?.child);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('leaves the file alone, says HOST is not applied, and neither warns nor prints network URLs that would not answer', function () {
    const output = run?.output() ?? '';
    assert.equal(readFileSync(join(userDir, 'settings.js'), 'utf8'), own);
    assert.match(output, /HOST is not applied to your own settings\.js: set uiHost there\./);
    assert.doesNotMatch(output, /WARNING: HOST/);
    assert.match(output, new RegExp(`Node-RED editor: http://127\\.0\\.0\\.1:${port}/  \\(Ctrl-C stops everything\\)`));
  });
});

describe('the voice clone sample folder', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dashscope-samples-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gets the shipped recording once', () => {
    prepareSampleFolder(join(dir, 'samples'));
    assert.ok(readFileSync(join(dir, 'samples', SAMPLE_FILE)).equals(readFileSync(SHIPPED_SAMPLE)));
  });

  it('never writes through a link left where the recording goes (even one pointing nowhere)', () => {
    mkdirSync(join(dir, 'samples'));
    const elsewhere = join(dir, 'elsewhere.wav');
    symlinkSync(elsewhere, join(dir, 'samples', SAMPLE_FILE));
    prepareSampleFolder(join(dir, 'samples'));
    assert.equal(existsSync(elsewhere), false, 'the copy followed the link');
  });
});
