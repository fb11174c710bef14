import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../support/free-port';
import type { Leg } from './legs';

export { freePort };

export interface RunningNodeRed {
  url: string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts Node-RED for a leg with a user directory, bound to loopback, and waits for its editor API. */
export async function startNodeRed(leg: Leg, userDir: string, env: NodeJS.ProcessEnv): Promise<RunningNodeRed> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    leg.node,
    [leg.redJs, '--userDir', userDir, '--port', String(port), '-D', 'uiHost=127.0.0.1', '--no-telemetry', '-D', 'editorTheme.tours=false', '-D', 'editorTheme.palette.catalogues=[]'],
    { env: { ...env, PATH: `${leg.node.replace(/\/node$/, '')}:${env.PATH ?? ''}` }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/settings`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Node-RED did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    log: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
