import type { Now } from './playback-clock';

/**
 * One timer for a deadline that moves, at no cost per chunk. The owner tells it, whenever its state
 * may have changed, the earliest time something may fall due, and the timer is only set again when
 * that time is *earlier* than the one it is set for. A later time (more audio arrived, the
 * utterance it was set for started) is noticed when the timer fires: `due` checks again and the
 * owner's next `watch` sets the timer for what is left. So a streaming utterance moves the timer
 * about once per timeout, not once per chunk.
 *
 * The player has two: the stall watch (the utterance at the head of the queue gets nothing more:
 * a stream whose end never comes) and the expiry watch (an utterance waiting to play passes its
 * msg.ttl).
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  /** `now()` the timer fires at. */
  private firesAt = 0;

  constructor(
    private readonly now: Now,
    private readonly due: () => void,
  ) {}

  /** `deadline`: when something would fall due; undefined: nothing is watched. */
  watch(deadline: number | undefined): void {
    if (deadline === undefined) {
      this.cancel();
      return;
    }
    if (this.timer && this.firesAt <= deadline) return;
    this.cancel();
    this.firesAt = deadline;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due();
    }, Math.max(0, deadline - this.now()));
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
