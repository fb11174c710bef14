import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { PcmFormat } from '../pcm-format';
import { DeviceError, type BackendName, type PcmSink } from './sink';

/** How long a child may take to go after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 1000;
/** A player drains its own buffer (well under a second) after stdin ends; more than this means it hangs. */
const FINISH_TIMEOUT_MS = 3000;
const STDERR_KEEP = 2048;

/** What differs between the programs that play raw PCM from stdin (aplay, pacat). */
export interface PlayerProgram {
  backend: BackendName;
  command: string;
  args: readonly string[];
  /** Environment of the child (the sound server's address travels in it); the parent's when absent. */
  env?: NodeJS.ProcessEnv;
  /** What to install when `command` is not found: "install alsa-utils (apt-get install alsa-utils)". */
  installHint: string;
  /** Why the child exited before it was told to, in its own words (its stderr). */
  exitError(stderr: string, code: number | null, signal: NodeJS.Signals | null): DeviceError;
}

/**
 * Plays through a child process reading raw PCM on stdin: no native code in Node-RED. Backpressure
 * comes from the pipe (a write settles when the pipe took it). Stop is a kill: the device (or the
 * sound server's stream) is released by the child's exit, whatever it held. Finish ends stdin: the
 * child plays what it holds and exits.
 */
export class ProcessSink implements PcmSink {
  readonly backend: BackendName;
  private readonly child: ChildProcessByStdio<Writable, null, Readable>;
  private readonly exited: Promise<void>;
  private readonly command: string;
  private stderr = '';
  private ending = false;
  private exitError: DeviceError | undefined;
  private failureListener: ((err: Error) => void) | undefined;
  private writing = false;
  private exitReported = false;
  opened = false;

  constructor(
    readonly format: PcmFormat,
    program: PlayerProgram,
  ) {
    this.backend = program.backend;
    this.command = program.command;
    const { command } = program;
    this.child = spawn(command, [...program.args], { stdio: ['pipe', 'ignore', 'pipe'], ...(program.env ? { env: program.env } : {}) });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_KEEP);
    });
    // EPIPE when the child has died; the exit handler says why.
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err: NodeJS.ErrnoException) => {
        this.exitError =
          err.code === 'ENOENT'
            ? new DeviceError('BackendUnavailable', `${command} not found: ${program.installHint}`)
            : new DeviceError('DeviceFailed', `could not start ${command}: ${err.message}`);
        this.reportExit();
        resolve();
      });
      this.child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        // A pipe write succeeding says nothing about the device; the child's own words do.
        if (!this.exitError && !this.ending && (code !== 0 || signal)) this.exitError = program.exitError(this.stderr, code, signal);
        if (!this.exitError && !this.ending) this.exitError = new DeviceError('DeviceFailed', `${command} exited unexpectedly`);
        this.reportExit();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  write(batch: Buffer, cb: (err?: Error) => void): void {
    if (this.exitError || this.ending) {
      cb(this.exitError ?? new DeviceError('DeviceFailed', `${this.command} is closing`));
      return;
    }
    this.writing = true;
    this.child.stdin.write(batch, (err?: Error | null) => {
      this.writing = false;
      if (!err) {
        this.opened = true;
        cb();
        return;
      }
      // The pipe broke because the child exited: report its own reason, not EPIPE.
      void this.exited.then(() => cb(this.exitError ?? new DeviceError('DeviceFailed', err.message)));
    });
  }

  abort(): Promise<void> {
    this.ending = true;
    this.child.stdin.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
      void this.exited.then(() => clearTimeout(killer));
    }
    return this.exited;
  }

  finish(): Promise<void> {
    this.ending = true;
    this.child.stdin.end();
    const killer = setTimeout(() => void this.abort(), FINISH_TIMEOUT_MS);
    return this.exited.then(() => clearTimeout(killer));
  }

  onFailure(listener: (err: Error) => void): void {
    this.failureListener = listener;
  }

  private reportExit(): void {
    // A failure during a write reaches that write's callback instead. 'error' and 'close' can both come.
    if (this.exitReported || !this.exitError || this.ending || this.writing) return;
    this.exitReported = true;
    this.failureListener?.(this.exitError);
  }
}

