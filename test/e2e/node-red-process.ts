/**
 * A real Node-RED (the project's own devDependency) in a child process, with this package in a
 * throw-away user directory, driven through the admin API and watched through the editor's comms
 * WebSocket (node status and debug messages), exactly as a user's editor would see them.
 *
 * The package is linked into <userDir>/node_modules, as scripts/start.mjs does, rather than packed
 * and installed: it loads the very nodes/ that `npm test` just built, the optional speaker addon
 * resolves from the repository's node_modules (Node follows the link), and it costs nothing, where
 * `npm pack` + `npm install` rebuilds the addon and takes seconds of the e2e budget. What the link
 * cannot prove (that `files` ships nodes/ and examples/) is a packaging check, not a playback one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '../support/free-port';

export const ROOT = resolve(__dirname, '..', '..');
const PKG_NAME = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;

export interface NodeStatusUpdate {
  text?: string;
  fill?: string;
  shape?: string;
}

export interface DebugMessage {
  id: string;
  name?: string;
  topic?: string;
  /** The message property, encoded as the debug sidebar receives it (JSON text for objects). */
  msg: string;
  format: string;
}

type Flow = Record<string, unknown>[];

export async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class NodeRedProcess {
  output = '';
  /** Every status each node has shown, in order. */
  readonly statuses = new Map<string, NodeStatusUpdate[]>();
  readonly debug: DebugMessage[] = [];
  private comms: WebSocket | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly userDir: string,
  ) {
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
  }

  /**
   * Starts Node-RED with the package linked in, and waits until the editor answers and comms is
   * connected. `settings`: more settings.js values (given as `-D name=value`, e.g. the
   * ttsVoiceSampleFolder that npm start's settings.js sets).
   */
  static async start(env: NodeJS.ProcessEnv, options: { settings?: Record<string, string> } = {}): Promise<NodeRedProcess> {
    // Resolved, not joined: under scripts/test-node-red5.mjs this is Node-RED 5 instead of the devDependency.
    const redJs = require.resolve('node-red/red.js');
    if (!existsSync(join(ROOT, 'nodes/pcm-speaker.js'))) throw new Error('nodes/ is not built: run `npm run build` (npm test does)');
    const userDir = mkdtempSync(join(tmpdir(), 'pcm-speaker-e2e-'));
    mkdirSync(join(userDir, 'node_modules'));
    symlinkSync(ROOT, join(userDir, 'node_modules', PKG_NAME), 'dir');
    const port = await freePort();
    const args = [
      redJs,
      '--userDir',
      userDir,
      '--port',
      String(port),
      '-D',
      'uiHost=127.0.0.1',
      '-D',
      'editorTheme.tours=false',
      '-D',
      'editorTheme.palette.catalogues=[]',
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-D', `${name}=${value}`]),
      '--no-telemetry',
    ];
    // Its own process group, so that cleanup reaches aplay children even if Node-RED dies first.
    const child = spawn(process.execPath, args, { cwd: userDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const red = new NodeRedProcess(child, port, userDir);
    await until('Node-RED to answer', 30_000, async () => {
      if (!red.running) throw new Error(`Node-RED exited early:\n${red.output}`);
      return red.get('/settings').then(
        (r) => r.ok,
        () => false,
      );
    });
    await red.connectComms();
    return red;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get(path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${path}`, { headers: { Accept: 'application/json' } });
  }

  /** Full deploy through the admin API, as the editor's Deploy button does. */
  async deploy(flows: Flow): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${this.port}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    if (res.status !== 204 && res.status !== 200) throw new Error(`deploy failed: HTTP ${res.status} ${await res.text()}`);
  }

  /** Presses an inject node's button. */
  async inject(id: string): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${this.port}/inject/${id}`, { method: 'POST' });
    if (res.status !== 200) throw new Error(`inject ${id} failed: HTTP ${res.status} ${await res.text()}`);
  }

  statusTexts(id: string): string[] {
    return (this.statuses.get(id) ?? []).map((s) => s.text ?? '');
  }

  lastStatus(id: string): string | undefined {
    return this.statusTexts(id).pop();
  }

  async stop(): Promise<void> {
    this.comms?.terminate();
    if (this.running) {
      this.child.kill('SIGTERM');
      await until('Node-RED to exit', 10_000, () => !this.running).catch(() => undefined);
    }
    try {
      process.kill(-(this.child.pid as number), 'SIGKILL');
    } catch {
      // the group is gone
    }
    rmSync(this.userDir, { recursive: true, force: true });
  }

  private connectComms(): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${this.port}/comms`);
    this.comms = ws;
    ws.on('message', (data: Buffer) => {
      const events = JSON.parse(data.toString()) as { topic: string; data: unknown }[];
      for (const { topic, data: payload } of events) {
        if (topic.startsWith('status/')) {
          const id = topic.slice('status/'.length);
          const list = this.statuses.get(id) ?? [];
          list.push(payload as NodeStatusUpdate);
          this.statuses.set(id, list);
        } else if (topic === 'debug') {
          this.debug.push(payload as DebugMessage);
        }
      }
    });
    return new Promise((resolveOpen, reject) => {
      ws.once('open', () => {
        ws.send(JSON.stringify({ subscribe: 'status/#' }));
        ws.send(JSON.stringify({ subscribe: 'debug' }));
        resolveOpen();
      });
      ws.once('error', reject);
    });
  }
}
