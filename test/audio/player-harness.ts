// The player's test rig, shared by player.test.ts and player-announcements.test.ts: a recording
// device, tagged audio, and a player on sinon's fake timers whose every event is recorded.
import type sinon from 'sinon';
import type { PcmFormat } from '../../src/audio/pcm-format';
import { PcmPlayer, type Chunk, type PlayerOptions, type QueueMode, type UtteranceOptions, type UtteranceReport, type UtteranceStart } from '../../src/audio/player';
import type { BackendName, PcmSink } from '../../src/audio/sinks/sink';

export const F24: PcmFormat = { sampleRate: 24000, channels: 1, bitDepth: 16 };
export const F16: PcmFormat = { sampleRate: 16000, channels: 1, bitDepth: 16 };
export const PCM24 = { format: 'pcm', sampleRate: 24000, channels: 1, bitDepth: 16 };
export const PCM16 = { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16 };

/** ms of 24 kHz mono 16-bit audio whose bytes say which utterance they belong to. */
export function audio(ms: number, tag: number, format: PcmFormat = F24): Buffer {
  const bytes = Math.round((ms * format.sampleRate) / 1000) * 2;
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 2) b.writeInt16LE(tag * 1000 + ((i / 2) % 997), i);
  return b;
}

/** The utterance tags in written order, runs collapsed: [1, 2] means all of 1, then all of 2. */
export function tagRuns(data: Buffer): number[] {
  const runs: number[] = [];
  for (let i = 0; i < data.length; i += 2) {
    const tag = Math.floor(data.readInt16LE(i) / 1000);
    if (runs[runs.length - 1] !== tag) runs.push(tag);
  }
  return runs;
}

export class FakeSink implements PcmSink {
  readonly writes: Buffer[] = [];
  aborted = false;
  finished = false;
  opened = false;
  failWith: Error | undefined;
  private failure: ((err: Error) => void) | undefined;

  constructor(
    readonly backend: BackendName,
    readonly format: PcmFormat,
  ) {}

  write(batch: Buffer, cb: (err?: Error) => void): void {
    const err = this.failWith;
    queueMicrotask(() => {
      if (err) return cb(err);
      this.writes.push(batch);
      this.opened = true;
      cb();
    });
  }

  abort(): Promise<void> {
    this.aborted = true;
    return Promise.resolve();
  }

  finish(): Promise<void> {
    this.finished = true;
    return Promise.resolve();
  }

  onFailure(listener: (err: Error) => void): void {
    this.failure = listener;
  }

  die(err: Error): void {
    this.failure?.(err);
  }

  get bytes(): Buffer {
    return Buffer.concat(this.writes);
  }
}

export type ChunkOpts = Partial<Chunk<string>> & { options?: () => UtteranceOptions };

export interface Harness {
  player: PcmPlayer<string>;
  sinks: FakeSink[];
  reports: (UtteranceReport<string> & { at: number })[];
  starts: (UtteranceStart<string> & { at: number })[];
  /** Every event in order: "started:<id>" and "finished:<id>". */
  events: string[];
  warnings: string[];
  deviceErrors: Error[];
  /**
   * A chunk of `id` (meta "meta-<id>"). `options` is this rig's shorthand for the options part of
   * `Chunk.first`, asked for when the player asks for `first`.
   */
  push(id: string, payload: Buffer, opts?: ChunkOpts): void;
  /** Every byte written, across devices. */
  written(): Buffer;
}

/** A player on `clock` (fake setTimeout and clearTimeout) writing to FakeSinks, 24 kHz PCM by default. */
export function playerHarness(clock: sinon.SinonFakeTimers, options: Partial<PlayerOptions> & { queueMode?: QueueMode } = {}): Harness {
  const sinks: FakeSink[] = [];
  const reports: Harness['reports'] = [];
  const starts: Harness['starts'] = [];
  const events: string[] = [];
  const warnings: string[] = [];
  const deviceErrors: Error[] = [];
  const player = new PcmPlayer<string>(
    {
      gainPercent: 100,
      prebufferMs: 0,
      queueMode: 'queue',
      maxBufferedMs: 300_000,
      now: () => clock.now,
      openSink: (format) => {
        const sink = new FakeSink('speaker', format);
        sinks.push(sink);
        return Promise.resolve(sink);
      },
      ...options,
    },
    {
      finished: (r) => {
        reports.push({ ...r, at: clock.now });
        events.push(`finished:${r.id}`);
      },
      started: (s) => {
        starts.push({ ...s, at: clock.now });
        events.push(`started:${s.id}`);
      },
      warn: (t) => warnings.push(t),
      deviceError: (e) => deviceErrors.push(e),
      changed: () => undefined,
    },
  );
  return {
    player,
    sinks,
    reports,
    starts,
    events,
    warnings,
    deviceErrors,
    push: (id, payload, { options, ...opts } = {}) =>
      player.push(id, { payload, audio: PCM24, end: false, first: () => ({ meta: `meta-${id}`, ...(options ? { options: options() } : {}) }), ...opts }),
    written: () => Buffer.concat(sinks.map((s) => s.bytes)),
  };
}
