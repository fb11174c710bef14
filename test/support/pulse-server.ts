/**
 * A real PulseAudio server of the test's own: temp HOME and XDG_RUNTIME_DIR, its own unix socket,
 * anonymous auth, no autospawn, never idle-exiting, with a null sink `announce` at 24000 Hz mono
 * s16le (the voices' format, so what a client plays reaches the sink unresampled, byte for byte)
 * and a second sink `other` to tell sinks apart. What `announce` plays is recorded from its
 * monitor with parec. `norewinds=1`: a stream starting on a sink that is already rendering
 * silence is mixed in by rewinding the sink, and the monitor, which has already passed on that
 * silence, never hears the rewritten start (the first ~7 ms of each stream went missing).
 *
 * Clients get the server through `env` (PULSE_SERVER=unix:…): the test process's own environment
 * is never changed, so no other test meets this server, and no test meets a desktop's server at
 * the default socket path.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export const ANNOUNCE_RATE = 24000;
export const ANNOUNCE_DESCRIPTION = 'Announcement speaker';
export const OTHER_DESCRIPTION = 'Other speaker';

async function until(what: string, timeoutMs: number, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('close', () => resolve()));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited(child);
  clearTimeout(killer);
}

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The sink's monitor, as parec hears it: `bytes()` so far (with the silence around what played), with when each piece came. */
export class Recording {
  private readonly pieces: Buffer[] = [];
  /** Date.now() when the recording had this many bytes: [bytes, at]. */
  readonly arrivals: [number, number][] = [];
  private length = 0;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (b: Buffer) => {
      this.pieces.push(b);
      this.length += b.length;
      this.arrivals.push([this.length, Date.now()]);
    });
  }

  bytes(): Buffer {
    return Buffer.concat(this.pieces);
  }

  /** When the byte at `offset` had been received (the time of the first piece that held it). */
  receivedAt(offset: number): number | undefined {
    return this.arrivals.find(([length]) => length > offset)?.[1];
  }

  stop(): Promise<Buffer> {
    return stopChild(this.child).then(() => this.bytes());
  }
}

export class PulseServer {
  private readonly recordings: Recording[] = [];

  private constructor(
    readonly dir: string,
    readonly daemon: ChildProcess,
    /** For every pulse client: PULSE_SERVER of this server, the temp HOME, no autospawn. */
    readonly env: NodeJS.ProcessEnv,
    private readonly log: () => string,
    /** A TCP listener of the same server that wants the server's cookie (TCP has no peer credentials). */
    private readonly cookiePort: number,
  ) {}

  /**
   * A client of this server that the server refuses: its TCP listener, and a HOME without the
   * server's cookie. The socket answers; pacat and pactl get "Access denied".
   */
  refusingEnv(): NodeJS.ProcessEnv {
    const stranger = join(this.dir, 'stranger');
    mkdirSync(stranger, { recursive: true });
    return { ...this.env, PULSE_SERVER: `tcp:127.0.0.1:${this.cookiePort}`, HOME: stranger, XDG_CONFIG_HOME: join(stranger, '.config') };
  }

  /** The PULSE_SERVER value. */
  get server(): string {
    return this.env.PULSE_SERVER as string;
  }

  static async start(): Promise<PulseServer> {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-test-'));
    const home = join(dir, 'home');
    const runtime = join(dir, 'runtime');
    mkdirSync(home);
    mkdirSync(runtime, { mode: 0o700 });
    const socket = join(dir, 'native');
    const cookiePort = await freePort();
    const clientConf = join(dir, 'client.conf');
    writeFileSync(clientConf, 'autospawn = no\n');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_RUNTIME_DIR: runtime,
      XDG_CONFIG_HOME: join(home, '.config'),
      PULSE_SERVER: `unix:${socket}`,
      PULSE_CLIENTCONFIG: clientConf,
      LC_ALL: 'C',
    };
    const daemon = spawn(
      'pulseaudio',
      [
        '-n',
        '--daemonize=no',
        '--exit-idle-time=-1',
        '--use-pid-file=no',
        '--disable-shm=yes',
        '--system=no',
        '-L',
        `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
        '-L',
        `module-native-protocol-tcp port=${cookiePort} listen=127.0.0.1 auth-anonymous=0`,
        '-L',
        `module-null-sink sink_name=announce rate=${ANNOUNCE_RATE} channels=1 format=s16le norewinds=1 sink_properties='device.description="${ANNOUNCE_DESCRIPTION}"'`,
        '-L',
        `module-null-sink sink_name=other rate=48000 channels=2 format=s16le sink_properties='device.description="${OTHER_DESCRIPTION}"'`,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // A test process that dies before after() must not leave the daemon running (it never idles out).
    const killOnExit = (): void => void daemon.kill('SIGKILL');
    process.once('exit', killOnExit);
    daemon.once('close', () => process.removeListener('exit', killOnExit));
    let log = '';
    daemon.stdout?.on('data', (b: Buffer) => (log += b.toString()));
    daemon.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    const server = new PulseServer(dir, daemon, env, () => log, cookiePort);
    try {
      await until('pulseaudio to listen', 10_000, () => {
        if (daemon.exitCode !== null) throw new Error(`pulseaudio exited early:\n${log}`);
        return existsSync(socket);
      });
      await server.pactl(['set-default-sink', 'announce']);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Runs pactl against this server; rejects with its stderr when it fails. */
  pactl(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('pactl', args, { env: this.env, timeout: 5000 }, (err, stdout, stderr) => (err ? reject(new Error(`pactl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
    });
  }

  /** The playback streams open on the server now (`pactl list short sink-inputs`). */
  async sinkInputs(): Promise<string[]> {
    return (await this.pactl(['list', 'short', 'sink-inputs'])).split('\n').filter((l) => l.trim() !== '');
  }

  /** Records the `announce` sink's monitor from now on, byte-exact at its own format. */
  async record(): Promise<Recording> {
    const child = spawn('parec', ['-d', 'announce.monitor', '--raw', '--format=s16le', `--rate=${ANNOUNCE_RATE}`, '--channels=1', '--latency-msec=10'], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const recording = new Recording(child);
    this.recordings.push(recording);
    // Recording has begun once the monitor delivers (the null sink's silence comes steadily).
    await until('parec to record', 5000, () => {
      if (child.exitCode !== null) throw new Error('parec exited');
      return recording.bytes().length > 0;
    });
    return recording;
  }

  /** Every process this server started (the daemon and its recorders): none may outlive stop(). */
  get pids(): number[] {
    return [this.daemon.pid, ...this.recordings.map((r) => r.child.pid)].filter((p): p is number => p !== undefined);
  }

  get output(): string {
    return this.log();
  }

  async stop(): Promise<void> {
    await Promise.all(this.recordings.map((r) => r.stop()));
    await stopChild(this.daemon);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
