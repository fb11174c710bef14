/**
 * How much audio a player holds, in playing time, against a limit: what was received and not yet
 * written to the device, and what was written ahead but has not started playing (it is kept to be
 * written again if something cuts in). A device that swallows writes instantly (an ALSA null or
 * file device, a pipe to aplay until it is full) moves audio from the first kind to the second
 * without playing it, so counting only the first would not bound memory there.
 *
 * A running total, changed where audio comes and goes (PendingAudio, Utterance), so the check on
 * each chunk costs nothing. Milliseconds rather than bytes: utterances of different formats share
 * the limit, and "minutes of audio" is what a user can reason about.
 */
export class BufferMeter {
  private held = 0;

  constructor(readonly limitMs: number) {}

  /** Milliseconds of audio held now. */
  get heldMs(): number {
    return this.held;
  }

  /** `ms` more can be held without passing the limit. */
  fits(ms: number): boolean {
    return this.held + ms <= this.limitMs;
  }

  add(ms: number): void {
    this.held += ms;
  }

  remove(ms: number): void {
    // Sums of the same amounts taken in other groupings differ in the last bits: never below zero.
    this.held = this.held > ms ? this.held - ms : 0;
  }

  reset(): void {
    this.held = 0;
  }
}
