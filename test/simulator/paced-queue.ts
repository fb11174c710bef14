/**
 * A per-connection, strictly ordered outbox with timing. Each step may wait for an absolute time
 * (first-audio latency) and/or a gap after the previous step (real-time factor). With no waits
 * the queue drains synchronously, so fast tests need no timers, yet order is always preserved and
 * audio of different tasks/responses can never interleave.
 */

/** setTimeout cannot wait longer; anything beyond means "never" (e.g. a delay fault of 1e12 ms). */
const MAX_TIMER_MS = 2_147_483_647;

export interface PacedStep {
  /** Earliest wall-clock time (ms) to run. */
  notBefore?: number;
  /** Minimum distance (ms) from the previous step's run. */
  gapMs?: number;
  /** Lets a group of steps be cancelled together (a response, a task). */
  tag?: string;
  run: () => void;
}

export class PacedQueue {
  private readonly steps: PacedStep[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private disposed = false;
  private lastRunAt = Number.NEGATIVE_INFINITY;

  get pending(): number {
    return this.steps.length;
  }

  push(...steps: PacedStep[]): void {
    if (this.disposed) return;
    this.steps.push(...steps);
    this.pump();
  }

  /** Runs before everything queued (e.g. a cancellation's final event). */
  pushFront(step: PacedStep): void {
    if (this.disposed) return;
    this.steps.unshift(step);
    this.pump();
  }

  /** Removes queued steps carrying `tag`; returns how many were dropped. */
  drop(tag: string): number {
    const before = this.steps.length;
    for (let i = this.steps.length - 1; i >= 0; i--) if (this.steps[i]?.tag === tag) this.steps.splice(i, 1);
    this.pump();
    return before - this.steps.length;
  }

  clear(): void {
    this.steps.length = 0;
    this.stopTimer();
  }

  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pump(): void {
    if (this.pumping || this.disposed) return;
    this.stopTimer();
    this.pumping = true;
    try {
      for (;;) {
        const head = this.steps[0];
        if (!head || this.disposed) return;
        const due = Math.max(head.notBefore ?? Number.NEGATIVE_INFINITY, this.lastRunAt + (head.gapMs ?? 0));
        const wait = due - Date.now();
        if (wait > 0) {
          if (wait <= MAX_TIMER_MS) {
            this.timer = setTimeout(() => {
              this.timer = undefined;
              this.pump();
            }, Math.ceil(wait));
          }
          return;
        }
        this.steps.shift();
        this.lastRunAt = Date.now();
        head.run();
      }
    } finally {
      this.pumping = false;
    }
  }
}
