import type { PcmFormat } from './pcm-format';
import { AplaySink } from './sinks/aplay-sink';
import { DeviceError, type BackendName, type PcmSink } from './sinks/sink';
import { SpeakerSink } from './sinks/speaker-sink';
import { loadSpeaker, type SpeakerConstructor } from './speaker-addon';
import { speakerAvailability, type ProbeResult } from './speaker-probe';

export type BackendChoice = 'auto' | 'speaker' | 'aplay';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'speaker', 'aplay'];

/** What the node shows: the backend in use, and why it is not the speaker addon when it falls back. */
export interface BackendInfo {
  backend: BackendName | undefined;
  /** Why speaker is not used (auto mode), or why nothing can play (speaker mode). */
  speakerProblem?: string;
  /** The probe found no usable default ALSA device: anything playing on "default" fails too. */
  noDefaultDevice?: boolean;
}

export interface BackendDeps {
  probe(): Promise<ProbeResult>;
  loadSpeaker(): SpeakerConstructor;
  aplayCommand: string;
}

export const defaultBackendDeps: BackendDeps = {
  probe: speakerAvailability,
  loadSpeaker,
  aplayCommand: 'aplay',
};

/**
 * Chooses how a node plays: the speaker addon when it is installed and safe to load (probed in a
 * child process first), else an aplay child. In auto mode a speaker that cannot open the device
 * also hands over to aplay, for the rest of this node's life.
 */
export class BackendSelector {
  private speaker: SpeakerConstructor | undefined;
  private problem: string | undefined;
  private noDefaultDevice = false;
  private readonly decided: Promise<void>;
  private known = false;

  constructor(
    readonly choice: BackendChoice,
    readonly device: string,
    private readonly maxBatchFrames: (format: PcmFormat) => number,
    private readonly deps: BackendDeps = defaultBackendDeps,
  ) {
    this.decided = choice === 'aplay' ? Promise.resolve() : this.decideSpeaker();
    if (choice === 'aplay') this.known = true;
  }

  /** Resolves once the backend is known (the probe finished). */
  ready(): Promise<BackendInfo> {
    return this.decided.then(() => this.info());
  }

  info(): BackendInfo {
    if (!this.known) return { backend: undefined };
    if (this.choice === 'aplay') return { backend: 'aplay' };
    if (this.speaker) return { backend: 'speaker' };
    return {
      backend: this.choice === 'auto' ? 'aplay' : undefined,
      speakerProblem: this.problem,
      ...(this.noDefaultDevice ? { noDefaultDevice: true } : {}),
    };
  }

  async open(format: PcmFormat): Promise<PcmSink> {
    await this.decided;
    if (this.speaker) return new SpeakerSink(this.speaker, format, this.device, this.maxBatchFrames(format));
    if (this.choice === 'speaker') throw new DeviceError('BackendUnavailable', `the speaker backend cannot be used: ${this.problem ?? 'unknown reason'}`);
    return new AplaySink(format, this.device, this.deps.aplayCommand);
  }

  /**
   * A sink failed before it played anything. Returns true when another backend should be tried:
   * auto mode, and the sink was the speaker addon.
   */
  fallBack(sink: PcmSink, err: Error): boolean {
    if (this.choice !== 'auto' || sink.backend !== 'speaker' || sink.opened) return false;
    this.speaker = undefined;
    this.problem = err.message;
    return true;
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
    this.known = true;
  }
}
