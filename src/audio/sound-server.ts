/**
 * The sound server a desktop Linux plays through: PulseAudio, or PipeWire's PulseAudio server
 * (pipewire-pulse, which Raspberry Pi OS Bookworm and current Debian/Ubuntu desktops run). Both
 * speak the same native protocol, so one client program covers both: `pacat` plays and `pactl`
 * lists sinks (Debian package pulseaudio-utils); pw-play would cover PipeWire only.
 *
 * Whether a server is there is found by connecting to its socket, never by running a client:
 * libpulse may autospawn a PulseAudio daemon for a client that finds none, which a Node-RED
 * service must not start behind the user's back.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';

/** One place a client may connect to, in PulseAudio's own server syntax (for pacat --server). */
export type ServerAddress = { server: string } & ({ path: string } | { host: string; port: number });

/** PulseAudio's native protocol port. */
const DEFAULT_PORT = 4713;
/** A local socket answers at once; a remote server on a LAN within this, or it is no use for announcements. */
export const CONNECT_TIMEOUT_MS = 300;
/** How long a reachability answer is reused: the selector and the devices endpoint may ask in bursts. */
const REACHABLE_CACHE_MS = 2000;
const PACTL_TIMEOUT_MS = 3000;

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** One entry of PULSE_SERVER: `unix:/path`, `/path`, `tcp:host[:port]`, `tcp6:[addr]:port`, `host[:port]`. */
function parseServer(entry: string): ServerAddress | undefined {
  // "{machine-id}unix:/…" limits an entry to one machine: the address after it is what counts here.
  const text = entry.replace(/^\{[^}]*\}/, '');
  if (text === '') return undefined;
  if (text.startsWith('unix:')) return text.length > 5 ? { server: text, path: text.slice(5) } : undefined;
  if (text.startsWith('/')) return { server: `unix:${text}`, path: text };
  const hostPort = text.replace(/^tcp[46]?:/, '');
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(hostPort);
  const match = bracketed ?? plain;
  if (!match) return undefined;
  const port = match[2] ? Number(match[2]) : DEFAULT_PORT;
  return { server: text, host: match[1], port };
}

/**
 * Where a pulse client started with `env` would connect, in order: each entry of PULSE_SERVER
 * (a space-separated list, the first that answers wins), else $XDG_RUNTIME_DIR/pulse/native, else
 * /run/user/<uid>/pulse/native. (client.conf's default-server is not read: PULSE_SERVER is how a
 * service is pointed at a server.)
 */
export function serverAddresses(env: NodeJS.ProcessEnv, uid: number | undefined = currentUid()): ServerAddress[] {
  const list = (env.PULSE_SERVER ?? '').trim();
  if (list !== '') return list.split(/\s+/).flatMap((entry) => parseServer(entry) ?? []);
  const runtime = env.XDG_RUNTIME_DIR || (uid !== undefined ? `/run/user/${uid}` : undefined);
  if (!runtime) return [];
  const path = join(runtime, 'pulse', 'native');
  return [{ server: `unix:${path}`, path }];
}

/** True when a socket connection to `address` succeeds within `timeoutMs`; never rejects. */
export function canConnect(address: ServerAddress, timeoutMs = CONNECT_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in address ? connect({ path: address.path }) : connect({ host: address.host, port: address.port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export type ServerProbe = { reachable: true; address: ServerAddress } | { reachable: false; tried: string[] };

const probes = new Map<string, { at: number; result: Promise<ServerProbe> }>();

/**
 * The first address of `serverAddresses(env)` that accepts a connection, tried in order (a list
 * in PULSE_SERVER means "the first that answers"). Answers are reused for a moment per address list.
 */
export function findServer(env: NodeJS.ProcessEnv, timeoutMs = CONNECT_TIMEOUT_MS): Promise<ServerProbe> {
  const addresses = serverAddresses(env);
  const key = addresses.map((a) => a.server).join(' ');
  const now = Date.now();
  for (const [k, p] of probes) if (now - p.at >= REACHABLE_CACHE_MS) probes.delete(k);
  const cached = probes.get(key);
  if (cached) return cached.result;
  const result = (async (): Promise<ServerProbe> => {
    for (const address of addresses) if (await canConnect(address, timeoutMs)) return { reachable: true, address };
    return { reachable: false, tried: addresses.map((a) => a.server) };
  })();
  probes.set(key, { at: now, result });
  return result;
}

/** The executable `name` on the PATH of `env`, or undefined (how pacat's presence is known without running it). */
export function programOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why the sound server cannot be played through: none answers, pacat is not installed, or listing its sinks failed. */
export type ServerReason = 'noServer' | 'noPacat' | 'failed';

export interface ServerSink {
  /** The sink's name, as pacat --device takes it. */
  name: string;
  /** What the server calls it for people ("Built-in Audio Analog Stereo"); the name where it gives none. */
  description: string;
}

export interface SinkList {
  sinks: ServerSink[];
  /** Where the server is, when one answered. */
  server?: string;
  reason?: ServerReason;
  /** The reason in detail. */
  error?: string;
}

interface PactlOutput {
  stdout: string;
  error?: string;
  missing?: true;
}

function runPactl(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<PactlOutput> {
  return new Promise((resolve) => {
    const done = (err: ExecFileException | null, stdout: string, stderr: string): void => {
      if (!err) resolve({ stdout });
      else if (err.code === 'ENOENT') resolve({ stdout: '', missing: true });
      else if (err.killed) resolve({ stdout, error: `${command} gave no answer within ${PACTL_TIMEOUT_MS} ms` });
      else resolve({ stdout, error: stderr.trim().split('\n').pop() || err.message });
    };
    try {
      // The C locale: the text form's "Name:"/"Description:" labels are translated otherwise.
      execFile(command, args, { timeout: PACTL_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024, env: { ...env, LC_ALL: 'C' } }, done);
    } catch (err) {
      resolve({ stdout: '', error: err instanceof Error ? err.message : String(err) });
    }
  });
}

/** `pactl --format=json list sinks` (pactl 16 and later). */
export function parseSinksJson(text: string): ServerSink[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  return parsed.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { name, description } = entry as { name?: unknown; description?: unknown };
    if (typeof name !== 'string' || name === '') return [];
    return [{ name, description: typeof description === 'string' && description !== '' ? description : name }];
  });
}

/** `pactl list sinks` in the C locale, for the pactl of PulseAudio 14/15 (Debian bullseye, Pi OS Bullseye): "Name:" then "Description:" per sink. */
export function parseSinksText(text: string): ServerSink[] {
  const sinks: ServerSink[] = [];
  for (const line of text.split('\n')) {
    const name = /^\s+Name:\s*(.+)$/.exec(line);
    if (name) {
      sinks.push({ name: name[1].trim(), description: name[1].trim() });
      continue;
    }
    const description = /^\s+Description:\s*(.+)$/.exec(line);
    const last = sinks[sinks.length - 1];
    if (description && last && last.description === last.name) last.description = description[1].trim();
  }
  return sinks;
}

export interface SoundServerTools {
  pacat: string;
  pactl: string;
}

export const DEFAULT_TOOLS: SoundServerTools = { pacat: 'pacat', pactl: 'pactl' };

/**
 * The sinks of the sound server a client with `env` would use, for the editor's device picker.
 * Never rejects and never hangs: no server, no pacat or a failing pactl is an answer with a reason.
 */
/**
 * Why the server at `server` refuses a client of this user, or undefined when it accepts one (or
 * when pactl is not installed, and nobody can tell before pacat tries). A socket that answers is not
 * a server that plays: one may refuse the user (no cookie, another user's server, an access list),
 * and pacat learns that only after its pipe has taken the first audio. Asked once, when a node is
 * deployed, so that auto mode chooses ALSA before any audio instead of losing it.
 */
export async function serverRefusal(server: string, env: NodeJS.ProcessEnv, pactl = DEFAULT_TOOLS.pactl): Promise<string | undefined> {
  const info = await runPactl(pactl, ['--server', server, 'info'], env);
  if (info.missing || info.error === undefined) return undefined;
  return `the sound server at ${server} refuses this user: ${info.error}`;
}

export async function listServerSinks(env: NodeJS.ProcessEnv, tools: SoundServerTools = DEFAULT_TOOLS): Promise<SinkList> {
  const probe = await findServer(env);
  if (!probe.reachable) return { sinks: [], reason: 'noServer', error: probe.tried.length ? `no sound server answers at ${probe.tried.join(', ')}` : 'no sound server address (no PULSE_SERVER, no XDG_RUNTIME_DIR)' };
  const server = probe.address.server;
  if (!programOnPath(tools.pacat, env)) return { sinks: [], server, reason: 'noPacat', error: `${tools.pacat} not found: install pulseaudio-utils to play through the sound server` };
  const base = ['--server', server];
  const json = await runPactl(tools.pactl, [...base, '--format=json', 'list', 'sinks'], env);
  if (json.missing) return { sinks: [], server, reason: 'noPacat', error: `${tools.pactl} not found: install pulseaudio-utils to list the sound server's sinks` };
  const fromJson = json.error === undefined ? parseSinksJson(json.stdout) : undefined;
  if (fromJson) return { sinks: fromJson, server };
  // An older pactl refuses --format: its text form says the same.
  const text = await runPactl(tools.pactl, [...base, 'list', 'sinks'], env);
  if (text.error !== undefined || text.missing) return { sinks: [], server, reason: 'failed', error: text.error ?? json.error ?? 'pactl failed' };
  return { sinks: parseSinksText(text.stdout), server };
}
