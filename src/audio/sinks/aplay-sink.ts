import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { BitDepth, PcmFormat } from '../pcm-format';
import { DeviceError, deviceLabel, type PcmSink } from './sink';

const APLAY_FORMATS: Record<BitDepth, string> = { 8: 'U8', 16: 'S16_LE', 24: 'S24_3LE', 32: 'S32_LE' };

/** How long a child may take to go after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 1000;
/** aplay drains its own buffer (at most ~0.5 s) after stdin ends; more than this means it hangs. */
const FINISH_TIMEOUT_MS = 3000;
const STDERR_KEEP = 2048;

export function aplayArgs(format: PcmFormat, device: string): string[] {
  return [
    '-q',
    '-t',
    'raw',
    '-f',
    APLAY_FORMATS[format.bitDepth],
    '-c',
    String(format.channels),
    '-r',
    String(format.sampleRate),
    ...(device ? ['-D', device] : []),
    '-',
  ];
}

/** aplay's last stderr line without its source location: "audio open error: No such file or directory". */
export function aplayReason(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines.filter((l) => l.startsWith('aplay:')).pop() ?? lines.pop();
  return line?.replace(/^aplay:\s*(?:[\w]+:\d+:\s*)?/, '');
}

/**
 * Plays through an `aplay` child process reading raw PCM on stdin: no native code in Node-RED,
 * works wherever alsa-utils is installed. Backpressure comes from the pipe (a write settles when
 * the pipe took it). Stop is a kill: the device is closed by the child's exit, whatever it held.
 */
export class AplaySink implements PcmSink {
  readonly backend = 'aplay';
  private readonly child: ChildProcessByStdio<Writable, null, Readable>;
  private readonly exited: Promise<void>;
  private stderr = '';
  private ending = false;
  private exitError: DeviceError | undefined;
  private failureListener: ((err: Error) => void) | undefined;
  private writing = false;
  private exitReported = false;
  opened = false;

  constructor(
    readonly format: PcmFormat,
    device: string,
    command = 'aplay',
  ) {
    this.child = spawn(command, aplayArgs(format, device), { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_KEEP);
    });
    // EPIPE when aplay has died; the exit handler says why.
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err: NodeJS.ErrnoException) => {
        this.exitError =
          err.code === 'ENOENT'
            ? new DeviceError('BackendUnavailable', `${command} not found: install alsa-utils (apt-get install alsa-utils)`)
            : new DeviceError('DeviceFailed', `could not start ${command}: ${err.message}`);
        this.reportExit();
        resolve();
      });
      this.child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        if (!this.exitError && !this.ending && (code !== 0 || signal)) {
          const reason = aplayReason(this.stderr) ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
          // A pipe write succeeding says nothing about the device; aplay's own words do.
          const errorCode = /open error/i.test(reason) ? 'DeviceOpenFailed' : 'DeviceFailed';
          this.exitError = new DeviceError(errorCode, `aplay could not play on ALSA device "${deviceLabel(device)}": ${reason}`);
        }
        if (!this.exitError && !this.ending) this.exitError = new DeviceError('DeviceFailed', 'aplay exited unexpectedly');
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
      cb(this.exitError ?? new DeviceError('DeviceFailed', 'aplay is closing'));
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
      // The pipe broke because aplay exited: report aplay's own reason, not EPIPE.
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
