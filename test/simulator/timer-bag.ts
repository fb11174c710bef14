/** Owns a connection's or the server's timeouts so that closing can clear every one of them. */

export class TimerBag {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Schedules `fn`; returns a cancel function. Delays beyond setTimeout's range never fire. */
  after(ms: number, fn: () => void): () => void {
    if (!(ms <= 2_147_483_647)) return () => undefined;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  clearAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
