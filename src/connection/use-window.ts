/**
 * keepWarm's "in use" window (docs/protocol.md "Keeping warm"): a CosyVoice task is started ahead
 * of the text only within this long of the last utterance (or deploy). After it, an idle node keeps
 * one renewed socket and starts no tasks: a task started ahead cannot wait longer than 23 s, so
 * keeping one ready forever means a new task and socket every `armedTaskMs`.
 * 2 minutes: longer than the pauses within a conversation or a burst of alerts, short enough that
 * a quiet node stops within two minutes.
 */
export const KEEP_WARM_WINDOW_MS = 120_000;

/** Knows whether the node is in use and says once when a window of use ends. */
export class UseWindow {
  private lastUse = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  /** After close() no window starts again: a lease released after the manager closed still touches it. */
  private closed = false;

  constructor(
    private readonly windowMs: number,
    private readonly onExpired: () => void,
  ) {}

  get active(): boolean {
    return !this.closed && Date.now() - this.lastUse < this.windowMs;
  }

  /** The node was used now. No timer work unless a window starts (the hot path stays free). */
  touch(): void {
    if (this.closed) return;
    this.lastUse = Date.now();
    if (!this.timer) this.arm(this.windowMs);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const left = this.lastUse + this.windowMs - Date.now();
      if (left > 0) this.arm(left);
      else this.onExpired();
    }, ms);
    this.timer.unref?.();
  }
}
