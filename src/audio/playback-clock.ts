import { performance } from 'node:perf_hooks';

export type Now = () => number;

export const monotonicNow: Now = () => performance.now();

/**
 * When the audio written so far will have been heard, in `now()` milliseconds.
 *
 * A device plays what it is given back to back, starting as soon as it is idle, so each write
 * ends at max(now, end of the previous write) + its duration. The clock is what reports
 * "finished playing" by audio time: a real device takes writes roughly at playing speed, but an
 * ALSA null or file device (tests, headless machines) swallows them instantly, and so does a pipe
 * to aplay until it is full. Byte counts, not write callbacks, tell how long the audio lasts.
 */
export class PlaybackClock {
  private end: number;

  constructor(private readonly now: Now = monotonicNow) {
    this.end = now();
  }

  /** Accounts for `ms` of audio just handed to the device; returns when that audio starts. */
  advance(ms: number): { startsAt: number; endsAt: number } {
    const startsAt = Math.max(this.now(), this.end);
    this.end = startsAt + ms;
    return { startsAt, endsAt: this.end };
  }

  /** When everything written so far has played. */
  get endsAt(): number {
    return this.end;
  }

  /** Milliseconds of written audio not yet played (0 when the device is starved or idle). */
  ahead(): number {
    return Math.max(0, this.end - this.now());
  }

  /** The device dropped what it held: nothing is ahead any more. */
  reset(): void {
    this.end = this.now();
  }

  time(): number {
    return this.now();
  }
}
