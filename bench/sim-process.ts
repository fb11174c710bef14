import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SimulatorOptions } from '../test/simulator';

export interface SimProcess {
  baseUrl: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts the simulator in a child process (see sim-worker.ts) and waits until it listens. */
export function startSimProcess(options: SimulatorOptions): Promise<SimProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', join(__dirname, 'sim-worker.ts'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`simulator exited early (${code})`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (!m) return;
      child.removeAllListeners('exit');
      const baseUrl = m[1] as string;
      resolve({
        baseUrl,
        port: Number(new URL(baseUrl).port),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
