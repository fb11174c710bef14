import type { PcmFormat } from './pcm-format';
import { AplaySink } from './sinks/aplay-sink';
import { PulseSink, pulseSinkOf } from './sinks/pulse-sink';
import { DeviceError, type BackendName, type PcmSink } from './sinks/sink';
import { SpeakerSink } from './sinks/speaker-sink';
import { findServer, programOnPath, serverRefusal, type ServerProbe } from './sound-server';
import { loadSpeaker, type SpeakerConstructor } from './speaker-addon';
import { speakerAvailability, type ProbeResult } from './speaker-probe';

export type BackendChoice = 'auto' | 'speaker' | 'aplay' | 'pulse';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'speaker', 'aplay', 'pulse'];

/** What the node shows: the backend in use, and why it is not the preferred one when it falls back. */
export interface BackendInfo {
  backend: BackendName | undefined;
  /** Why speaker is not used (auto mode), or why nothing can play (speaker mode). */
  speakerProblem?: string;
  /** The probe found no usable default ALSA device: anything playing on "default" fails too. */
  noDefaultDevice?: boolean;
  /**
   * Why the sound server is not used: pulse mode, where nothing can play without it; auto mode,
   * where a server answered but cannot be played through (pacat missing) or failed. A machine
   * without any sound server is no news in auto mode and has none.
   */
  serverProblem?: string;
}

export interface BackendDeps {
  probe(): Promise<ProbeResult>;
  loadSpeaker(): SpeakerConstructor;
  aplayCommand: string;
  pacatCommand: string;
  /** Asks a reachable server, at deploy, whether it accepts this user (sound-server.ts serverRefusal). */
  pactlCommand: string;
  /** Where the sound server is looked for (PULSE_SERVER, XDG_RUNTIME_DIR) and what pacat runs with. */
  env: NodeJS.ProcessEnv;
  findServer(env: NodeJS.ProcessEnv): Promise<ServerProbe>;
}

export const defaultBackendDeps: BackendDeps = {
  probe: speakerAvailability,
  loadSpeaker,
  aplayCommand: 'aplay',
  pacatCommand: 'pacat',
  pactlCommand: 'pactl',
  env: process.env,
  findServer,
};

/** The sink a Device value asks of the sound server ('' = its default), or undefined for an ALSA name. */
function serverSinkFor(choice: BackendChoice, device: string): string | undefined {
  const named = pulseSinkOf(device);
  if (named !== undefined) return named;
  // '' is the default output: the sound server's default sink where one plays (auto) or is asked for.
  return device === '' && (choice === 'auto' || choice === 'pulse') ? '' : undefined;
}

/**
 * Why `device` cannot be played on with backend `choice`, or undefined when it can: the sound
 * server (pulse) plays on its default sink (Device blank or `pulse`) or on `pulse:<sink>`; an ALSA
 * name there would otherwise be neither the server nor what the user chose.
 */
export function backendDeviceProblem(choice: BackendChoice, device: string): string | undefined {
  if (choice !== 'pulse' || serverSinkFor(choice, device) !== undefined) return undefined;
  return `the sound server backend plays on Device blank (its default sink), "pulse" or "pulse:<sink>" (got "${device}"): choose one of the server's sinks, or an ALSA backend for an ALSA device`;
}

/**
 * Chooses how a node plays, once at deploy:
 *
 * - the sound server (PulseAudio or PipeWire, through pacat) in pulse mode, and in auto mode for
 *   the default output or a `pulse`/`pulse:<sink>` Device when a server answers and pacat is
 *   installed: on a desktop, that is where "default" goes anyway, without ALSA's pulse plugin;
 * - else the speaker addon when it is installed and safe to load (probed in a child process first),
 *   else an aplay child. In auto mode a backend that cannot open the device hands over to the next
 *   (sound server → ALSA, speaker → aplay), for the rest of this node's life.
 */
export class BackendSelector {
  private speaker: SpeakerConstructor | undefined;
  private problem: string | undefined;
  private noDefaultDevice = false;
  /** The sound server is this node's backend (it answered, pacat is installed). */
  private useServer = false;
  private serverProblem: string | undefined;
  private readonly serverSink: string | undefined;
  private readonly decided: Promise<void>;
  /** The ALSA decision (the speaker probe): made at deploy, or when auto mode leaves the sound server. */
  private alsaDecided: Promise<void> | undefined;
  private known = false;

  constructor(
    readonly choice: BackendChoice,
    readonly device: string,
    private readonly maxBatchFrames: (format: PcmFormat) => number,
    private readonly deps: BackendDeps = defaultBackendDeps,
  ) {
    this.serverSink = choice === 'auto' || choice === 'pulse' ? serverSinkFor(choice, device) : undefined;
    // resolveSettings refuses this at deploy; a selector made without it still never plays elsewhere.
    this.serverProblem = backendDeviceProblem(choice, device);
    if (choice === 'aplay') {
      this.decided = Promise.resolve();
      this.known = true;
    } else {
      this.decided = this.decide();
    }
  }

  /** Resolves once the backend is known (the probes finished). */
  ready(): Promise<BackendInfo> {
    return this.decided.then(() => this.info());
  }

  info(): BackendInfo {
    if (!this.known) return { backend: undefined };
    if (this.choice === 'aplay') return { backend: 'aplay' };
    if (this.useServer) return { backend: 'pulse' };
    const server = this.serverProblem !== undefined ? { serverProblem: this.serverProblem } : {};
    if (this.choice === 'pulse') return { backend: undefined, ...server };
    if (this.speaker) return { backend: 'speaker', ...server };
    return {
      backend: this.choice === 'auto' ? 'aplay' : undefined,
      speakerProblem: this.problem,
      ...(this.noDefaultDevice ? { noDefaultDevice: true } : {}),
      ...server,
    };
  }

  async open(format: PcmFormat): Promise<PcmSink> {
    await this.decided;
    const refused = backendDeviceProblem(this.choice, this.device);
    if (refused !== undefined) throw new DeviceError('DeviceOpenFailed', refused);
    if (this.serverSink !== undefined && (this.useServer || this.choice === 'pulse')) {
      // Asked again (a socket connect, cached for a moment): a server that went away since deploy
      // fails here, where auto mode can still choose ALSA, and not in pacat after audio was written.
      const probe = await this.deps.findServer(this.deps.env);
      if (probe.reachable) {
        this.useServer = true;
        this.serverProblem = undefined;
        return new PulseSink(format, { server: probe.address.server, sink: this.serverSink, env: this.deps.env }, this.deps.pacatCommand);
      }
      const why = noServer(probe);
      if (this.choice === 'pulse') throw new DeviceError('DeviceOpenFailed', `cannot play through the sound server: ${why}`);
      this.leaveServer(why);
    }
    if (this.alsaDecided) await this.alsaDecided;
    if (this.speaker) return new SpeakerSink(this.speaker, format, this.device, this.maxBatchFrames(format));
    if (this.choice === 'speaker') throw new DeviceError('BackendUnavailable', `the speaker backend cannot be used: ${this.problem ?? 'unknown reason'}`);
    return new AplaySink(format, this.device, this.deps.aplayCommand);
  }

  /**
   * A sink failed before it played anything. Returns true when another backend should be tried:
   * auto mode, and the sink was the speaker addon or the sound server. pacat's pipe takes writes
   * before it has connected, so for the sound server "never played" is pacat's own word: it could
   * not connect or open the sink (DeviceOpenFailed; the player asks whether its failure comes in a
   * write or between writes). Leaving the server is for this node's life: a server whose socket
   * answers but refuses pacat is not tried again at every open.
   */
  fallBack(sink: PcmSink, err: Error): boolean {
    if (this.choice !== 'auto') return false;
    if (sink.backend === 'pulse') {
      if (!(err instanceof DeviceError) || err.code === 'DeviceFailed') return false;
      this.leaveServer(err.message);
      return true;
    }
    if (sink.backend !== 'speaker' || sink.opened) return false;
    this.speaker = undefined;
    this.problem = err.message;
    return true;
  }

  private async decide(): Promise<void> {
    if (this.serverSink !== undefined) {
      const why = await this.serverUnusable();
      if (why === undefined) this.useServer = true;
      // Where no server answers at all, auto mode is simply an ALSA machine: nothing to report.
      else if (this.choice === 'pulse' || why.kind !== 'noServer') this.serverProblem = why.text;
    }
    if (!this.useServer && this.choice !== 'pulse') await (this.alsaDecided = this.decideSpeaker());
    this.known = true;
  }

  /** Why the sound server cannot be played through, or undefined when it can. */
  private async serverUnusable(): Promise<{ kind: 'noServer' | 'noPacat' | 'refused'; text: string } | undefined> {
    const probe = await this.deps.findServer(this.deps.env);
    if (!probe.reachable) return { kind: 'noServer', text: noServer(probe) };
    if (!programOnPath(this.deps.pacatCommand, this.deps.env)) return { kind: 'noPacat', text: `${this.deps.pacatCommand} not found: install pulseaudio-utils` };
    const refused = await serverRefusal(probe.address.server, this.deps.env, this.deps.pactlCommand);
    return refused === undefined ? undefined : { kind: 'refused', text: refused };
  }

  /** Auto mode: the sound server failed; ALSA from now on (the speaker probe runs now if it never did). */
  private leaveServer(why: string): void {
    this.useServer = false;
    this.serverProblem = why;
    this.alsaDecided ??= this.decideSpeaker();
  }

  private async decideSpeaker(): Promise<void> {
    const probe = await this.deps.probe();
    if (!probe.usable) {
      this.problem = probe.reason;
      this.noDefaultDevice = probe.failure === 'no-default-device';
    } else {
      try {
        this.speaker = this.deps.loadSpeaker();
      } catch (err) {
        this.problem = `addon failed to load: ${(err as Error).message}`;
      }
    }
  }
}

function noServer(probe: ServerProbe): string {
  if (probe.reachable) return '';
  return probe.tried.length > 0 ? `no sound server answers at ${probe.tried.join(', ')}` : 'no sound server address (neither PULSE_SERVER nor XDG_RUNTIME_DIR is set)';
}
