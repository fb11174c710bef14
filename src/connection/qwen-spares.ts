import type { QwenRealtimeSession } from '../dashscope/qwen-realtime';

/**
 * Parked Qwen sessions, by settings key (the service takes one session.update per connection), and
 * the polite end of a session nobody needs: `session.finish`, then the socket is closed by the
 * service after `session.finished`, or by us after a short grace (docs/protocol.md "Qwen: ending a
 * session"; whether an idle service closes promptly is unconfirmed).
 */
export class QwenSpares {
  private readonly byKey = new Map<string, QwenRealtimeSession[]>();
  /** Every parked session's idle clock, in the order they were parked (least recently used first). */
  private readonly idleTimers = new Map<QwenRealtimeSession, NodeJS.Timeout>();
  private readonly retiring = new Map<QwenRealtimeSession, NodeJS.Timeout>();

  constructor(
    /** A parked session is retired after this long unused. */
    private readonly idleMs: number,
    /** After session.finish, how long the service has to close the socket itself. */
    private readonly finishGraceMs: number,
  ) {}

  get size(): number {
    let n = 0;
    for (const list of this.byKey.values()) n += list.length;
    return n;
  }

  has(key: string): boolean {
    return (this.byKey.get(key)?.length ?? 0) > 0;
  }

  park(key: string, session: QwenRealtimeSession): void {
    const list = this.byKey.get(key) ?? [];
    list.push(session);
    this.byKey.set(key, list);
    const timer = setTimeout(() => {
      this.idleTimers.delete(session);
      this.remove(session);
      this.retire(session);
    }, this.idleMs);
    timer.unref?.();
    this.idleTimers.set(session, timer);
  }

  /** A parked session that can take an utterance now; stale ones found on the way are closed. */
  take(key: string): QwenRealtimeSession | undefined {
    const list = this.byKey.get(key);
    while (list && list.length > 0) {
      const session = list.pop() as QwenRealtimeSession;
      this.clearIdle(session);
      if (list.length === 0) this.byKey.delete(key);
      if (session.isOpen && !session.responding) return session;
      session.close();
    }
    return undefined;
  }

  /** Retires the spare parked longest ago, if there is one (the idle bound: see ConnectionManager). */
  retireOldest(): boolean {
    const oldest = this.idleTimers.keys().next();
    if (oldest.done) return false;
    this.clearIdle(oldest.value);
    this.remove(oldest.value);
    this.retire(oldest.value);
    return true;
  }

  /** session.finish now; the socket is closed when the service closes it, or after the grace. */
  retire(session: QwenRealtimeSession): void {
    if (this.retiring.has(session)) return;
    session.finish();
    const timer = setTimeout(() => {
      this.retiring.delete(session);
      session.close();
    }, this.finishGraceMs);
    timer.unref?.();
    this.retiring.set(session, timer);
  }

  /** The socket closed (by anyone): it leaves every list and its timers go. */
  forget(session: QwenRealtimeSession): void {
    this.remove(session);
    this.clearIdle(session);
    clearTimeout(this.retiring.get(session));
    this.retiring.delete(session);
  }

  /** Every parked session, out of the lists (the caller closes them). */
  drain(): QwenRealtimeSession[] {
    const all: QwenRealtimeSession[] = [];
    for (const list of this.byKey.values()) all.push(...list);
    this.byKey.clear();
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    return all;
  }

  /** No timer left: for close(), which closes every socket itself. */
  clearTimers(): void {
    this.drain();
    for (const timer of this.retiring.values()) clearTimeout(timer);
    this.retiring.clear();
  }

  private remove(session: QwenRealtimeSession): void {
    for (const [key, list] of this.byKey) {
      const i = list.indexOf(session);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byKey.delete(key);
    }
  }

  private clearIdle(session: QwenRealtimeSession): void {
    clearTimeout(this.idleTimers.get(session));
    this.idleTimers.delete(session);
  }
}
