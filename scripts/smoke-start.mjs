// `npm start` as a newcomer runs it, checked from outside: the real command in a fresh user
// directory, without DASHSCOPE_API_KEY (offline demo mode). Passes when the editor answers and
// the demo flow is deployed (GET /flows holds its tab, its button wired to a speech node, and a
// tts-config node on the simulator), then stops everything with SIGTERM. Used by .ci/run's bare
// leg; prints one line and exits 0/1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READY_WITHIN_MS = 120_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function get(url) {
  try {
    const res = await fetch(url, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

const port = await freePort();
const userDir = mkdtempSync(join(tmpdir(), 'dashscope-smoke-start-'));
const env = { ...process.env, PORT: String(port), NODE_RED_USER_DIR: userDir };
for (const name of ['DASHSCOPE_API_KEY', 'DASHSCOPE_REGION', 'DASHSCOPE_SIMULATOR_URL']) delete env[name];

let output = '';
const started = Date.now();
// Its own process group, so that whatever npm start runs can be stopped with it.
const child = spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));
let exited = false;
child.on('exit', () => (exited = true));

async function stop() {
  if (!exited) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // gone already
    }
    for (let i = 0; i < 100 && !exited; i++) await new Promise((r) => setTimeout(r, 100));
    if (!exited) process.kill(-child.pid, 'SIGKILL');
  }
  rmSync(userDir, { recursive: true, force: true });
}

function failWith(reason) {
  process.stderr.write(`npm start smoke check FAILED: ${reason}\n--- npm start output ---\n${output}\n`);
}

let verdict;
while (!verdict) {
  if (exited) verdict = { ok: false, reason: 'npm start exited' };
  else if (Date.now() - started > READY_WITHIN_MS) verdict = { ok: false, reason: `not ready within ${READY_WITHIN_MS / 1000} s` };
  else {
    const editor = await get(`http://127.0.0.1:${port}/`);
    const flows = editor?.status === 200 && output.includes('Started flows') ? await get(`http://127.0.0.1:${port}/flows`) : undefined;
    if (flows?.status === 200) {
      const nodes = JSON.parse(flows.body);
      const tab = nodes.find((n) => n.type === 'tab');
      const config = nodes.find((n) => n.type === 'tts-config');
      const speech = nodes.find((n) => n.type === 'cosyvoice-stream' && n.z === tab?.id && n.config === config?.id);
      const button = nodes.find((n) => n.type === 'inject' && n.z === tab?.id && (n.wires ?? []).flat().includes(speech?.id));
      if (tab && config && button && config.region === 'custom' && /DASHSCOPE_SIMULATOR_URL/.test(config.endpoint) && /offline demo mode/i.test(output)) {
        verdict = { ok: true, seconds: ((Date.now() - started) / 1000).toFixed(1), tab: tab.label, nodes: nodes.length };
      } else {
        verdict = { ok: false, reason: `GET /flows has no demo flow on the simulator: ${flows.body.slice(0, 300)}` };
      }
    } else {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
await stop();
if (!verdict.ok) {
  failWith(verdict.reason);
  process.exit(1);
}
process.stdout.write(`npm start: offline demo mode, editor answering and the demo flow "${verdict.tab}" deployed (${verdict.nodes} nodes) ${verdict.seconds} s after the command\n`);
