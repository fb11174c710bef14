import type { Now } from './playback-clock';

/**
 * Items waiting for a time on the player's clock, added in the order they fall due (playing
 * order): utterances waiting to be heard to their end, or for their first sample to play. One
 * timer at a time, for the first one: a schedule costs one timer per item, never one per chunk.
 */
export class DueSchedule<T> {
  private readonly waiting: T[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly now: Now,
    private readonly dueAt: (item: T) => number,
    private readonly due: (items: T[]) => void,
  ) {}

  get length(): number {
    return this.waiting.length;
  }

  add(item: T): void {
    this.waiting.push(item);
    this.arm();
  }

  /** Takes `item` out without calling `due` for it; false when it was not waiting. */
  remove(item: T): boolean {
    const i = this.waiting.indexOf(item);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    if (i === 0) {
      this.cancel();
      this.arm();
    }
    return true;
  }

  /** Takes every waiting item out (they were cut, or the device failed). */
  takeAll(): T[] {
    this.cancel();
    return this.waiting.splice(0);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const head = this.waiting[0];
    if (this.timer || head === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        // Timers may fire a fraction of a millisecond early by the monotonic clock.
        const now = this.now() + 1;
        let n = 0;
        while (n < this.waiting.length && this.dueAt(this.waiting[n] as T) <= now) n++;
        const items = this.waiting.splice(0, n);
        this.arm();
        this.due(items);
      },
      Math.max(0, this.dueAt(head) - this.now()),
    );
  }
}
