import type { Now } from './playback-clock';

/**
 * The one timer that ends an utterance which holds the queue and gets nothing more (a stream whose
 * end never comes). It costs nothing per chunk: the player tells it, whenever its state may have
 * changed, by when the utterance at the head of the queue would count as stalled, and the timer is
 * only set again when that time is *earlier* than the one it is set for. A later time (more
 * audio arrived) is noticed when the timer fires: `due` checks the head again and the player's
 * next `watch` sets the timer for what is left. So a streaming utterance moves the timer about
 * once per timeout, not once per chunk.
 */
export class StallWatch {
  private timer: NodeJS.Timeout | undefined;
  /** `now()` the timer fires at. */
  private firesAt = 0;

  constructor(
    private readonly now: Now,
    private readonly due: () => void,
  ) {}

  /** `deadline`: when the head would count as stalled; undefined: nothing holds the queue. */
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
