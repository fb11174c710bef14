/**
 * The window is a little longer than the service's second: a start sent at the end of one window
 * may travel longer than the first one of the next, and the service counts arrivals.
 */
const WINDOW_MS = 1100;

/**
 * At most `perSecond` starts in any rolling second (measured with a margin, see WINDOW_MS). Work within the budget runs synchronously
 * (no timer, no await on the hot path); work beyond it waits its turn in arrival order.
 */
export class RateLimiter {
  private readonly starts: number[] = [];
  private readonly waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  queuedTotal = 0;

  constructor(private readonly perSecond: number) {}

  get pending(): number {
    return this.waiting.length;
  }

  schedule(work: () => void): void {
    if (this.closed) return;
    if (this.perSecond <= 0 || (this.waiting.length === 0 && this.tryTake())) {
      work();
      return;
    }
    this.queuedTotal++;
    this.waiting.push(work);
    this.arm();
  }

  close(): void {
    this.closed = true;
    this.waiting.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tryTake(): boolean {
    const now = Date.now();
    while (this.starts.length > 0 && now - (this.starts[0] as number) >= WINDOW_MS) this.starts.shift();
    if (this.starts.length >= this.perSecond) return false;
    this.starts.push(now);
    return true;
  }

  private arm(): void {
    if (this.timer || this.waiting.length === 0) return;
    const wait = Math.max(1, WINDOW_MS - (Date.now() - (this.starts[0] as number)));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      while (this.waiting.length > 0 && this.tryTake()) (this.waiting.shift() as () => void)();
      this.arm();
    }, wait);
    this.timer.unref?.();
  }
}
