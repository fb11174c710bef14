/**
 * The service counts arrivals in its own second; a start sent at the end of one window may travel
 * longer than the first one of the next, so every window is measured with this margin on top.
 */
export const WINDOW_MARGIN_MS = 100;

/** Work that waits for the budget; cancel() takes it out of the line (its owner was closed). */
export interface QueuedWork {
  cancel(): void;
}

interface Entry {
  work: (at: number) => void;
  cancelled: boolean;
}

/**
 * At most `count` starts in any rolling `windowMs`. Work within the budget runs synchronously (no
 * timer, no await on the hot path); work beyond it waits its turn in arrival order. One limiter may
 * serve several connection managers (one account, see account-limits.ts): each cancels only its own
 * waiting work when it closes.
 */
export class RateLimiter {
  private readonly starts: number[] = [];
  private readonly waiting: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  queuedTotal = 0;

  /** `count` 0 (or less) means no limit. */
  constructor(
    private count: number,
    private windowMs = 1000 + WINDOW_MARGIN_MS,
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  get limit(): { count: number; windowMs: number } {
    return { count: this.count, windowMs: this.windowMs };
  }

  /**
   * Runs `work` now when the budget allows it (and returns undefined), else queues it. `work` gets
   * the time its slot was taken, which refund() gives back.
   */
  schedule(work: (at: number) => void): QueuedWork | undefined {
    if (this.closed) return undefined;
    if (this.waiting.length === 0) {
      const at = this.take();
      if (at !== undefined) {
        work(at);
        return undefined;
      }
    }
    const entry: Entry = { work, cancelled: false };
    this.queuedTotal++;
    this.waiting.push(entry);
    this.arm();
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        if (this.waiting.length === 0) this.disarm();
      },
    };
  }

  /** A start the service never saw (the connection was refused): its slot is free again. */
  refund(at: number): void {
    const i = this.starts.indexOf(at);
    if (i < 0) return;
    this.starts.splice(i, 1);
    this.drain();
  }

  /** New limits (the account's share changed): waiting work is re-timed. */
  configure(count: number, windowMs: number): void {
    this.count = count;
    this.windowMs = windowMs;
    this.disarm();
    this.drain();
  }

  close(): void {
    this.closed = true;
    this.waiting.length = 0;
    this.disarm();
  }

  /** Takes a slot now if one is free; the time taken, or undefined. */
  private take(): number | undefined {
    const now = Date.now();
    if (this.count <= 0) return now;
    while (this.starts.length > 0 && now - (this.starts[0] as number) >= this.windowMs) this.starts.shift();
    if (this.starts.length >= this.count) return undefined;
    this.starts.push(now);
    return now;
  }

  private drain(): void {
    if (this.closed) return;
    while (this.waiting.length > 0) {
      const at = this.take();
      if (at === undefined) break;
      const entry = this.waiting.shift() as Entry;
      entry.work(at);
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.waiting.length === 0 || this.closed) return;
    const wait = Math.max(1, this.windowMs - (Date.now() - (this.starts[0] ?? Date.now())));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
    this.timer.unref?.();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
