import type { Now } from './playback-clock';
import type { Utterance } from './utterance';

/**
 * Utterances whose audio is all in the device, in playing order, each due when its last sample has
 * been heard. One timer at a time, for the first one: completion costs one timer per utterance,
 * never one per chunk.
 */
export class CompletionSchedule<Meta> {
  private readonly waiting: Utterance<Meta>[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly now: Now,
    private readonly due: (utterances: Utterance<Meta>[]) => void,
  ) {}

  get length(): number {
    return this.waiting.length;
  }

  add(u: Utterance<Meta>): void {
    this.waiting.push(u);
    this.arm();
  }

  /** Takes every waiting utterance out (they were cut, or the device failed). */
  takeAll(): Utterance<Meta>[] {
    this.cancel();
    return this.waiting.splice(0);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    const head = this.waiting[0];
    if (this.timer || !head) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Timers may fire a fraction of a millisecond early by the monotonic clock.
      const now = this.now() + 1;
      let n = 0;
      while (n < this.waiting.length && (this.waiting[n] as Utterance<Meta>).endsAt <= now) n++;
      const heard = this.waiting.splice(0, n);
      this.arm();
      this.due(heard);
    }, Math.max(0, head.endsAt - this.now()));
  }
}
