/** Rolling one-second request counter per API key (CosyVoice "submit job RPS" limit). */

export class RollingRateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly perSecond: number) {}

  /** Records an attempt; false when it is beyond the limit (a limit of 0 means unlimited). */
  tryAcquire(key: string, now = Date.now()): boolean {
    if (this.perSecond <= 0) return true;
    const recent = (this.hits.get(key) ?? []).filter((t) => now - t < 1000);
    const allowed = recent.length < this.perSecond;
    if (allowed) recent.push(now);
    this.hits.set(key, recent);
    return allowed;
  }
}
