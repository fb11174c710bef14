import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Node } from 'node-red';

const ROOT = join(__dirname, '..');

/** What the bench needs of the Node-RED runtime: a narrow, typed view of `require('node-red')`. */
interface NodeRedRuntime {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): Node | null };
  hooks: { add(name: string, fn: (event: SendEvent[]) => void): void; remove(name: string): void };
  runtime: { flows: { setFlows(opts: { flows: { flows: object[] }; deploymentType: string }): Promise<unknown> } };
}

export interface SendEvent {
  msg: Record<string, unknown>;
  source: { id: string; port: number };
}

export type SendListener = (event: SendEvent, at: number) => void;

/**
 * A real Node-RED runtime in this process, with the package installed in a temporary user
 * directory the way `npm start` does it. An `onSend` hook timestamps messages as they leave a node.
 */
export class NodeRedHost {
  private listeners = new Set<SendListener>();

  private constructor(
    readonly RED: NodeRedRuntime,
    private readonly server: http.Server,
    private readonly userDir: string,
  ) {}

  static async start(tuning: Record<string, unknown>): Promise<NodeRedHost> {
    const userDir = mkdtempSync(join(tmpdir(), 'dashscope-bench-'));
    mkdirSync(join(userDir, 'node_modules'));
    symlinkSync(ROOT, join(userDir, 'node_modules', 'node-red-contrib-dashscope-tts'), 'dir');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const RED = require('node-red') as NodeRedRuntime;
    const server = http.createServer();
    RED.init(server, {
      userDir,
      uiHost: '127.0.0.1',
      httpAdminRoot: '/',
      disableEditor: true,
      credentialSecret: false,
      logging: { console: { level: 'error', metrics: false, audit: false } },
      diagnostics: { enabled: false },
      telemetry: { enabled: false },
      externalModules: { autoInstall: false },
      ttsConfigConnection: tuning,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await RED.start();
    const host = new NodeRedHost(RED, server, userDir);
    RED.hooks.add('onSend.bench', (events) => {
      const at = performance.now();
      for (const e of events) for (const l of host.listeners) l(e, at);
    });
    return host;
  }

  /** Every message a node sends, timestamped the moment it is sent. */
  onSend(listener: SendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async deploy(flows: object[]): Promise<void> {
    await this.RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
  }

  node(id: string): Node & { receive(msg: object): void } {
    const n = this.RED.nodes.getNode(id);
    if (!n) throw new Error(`node ${id} is not deployed`);
    return n as Node & { receive(msg: object): void };
  }

  async stop(): Promise<void> {
    this.RED.hooks.remove('onSend.bench');
    await this.deploy([]);
    await this.RED.stop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.userDir, { recursive: true, force: true });
  }
}
