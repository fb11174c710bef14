/**
 * Fault injection. A fault is consumed by the next occurrence that matches it; `times` (default 1,
 * Infinity allowed) says how many occurrences it affects.
 */

export type ServiceName = 'cosyvoice' | 'qwen';

interface Repeat {
  times?: number;
}
interface ServiceFilter {
  /** Limit a connection-level fault to one service; default: either. */
  service?: ServiceName;
}

export type Fault =
  | ({ kind: 'reject-auth'; status?: 401 | 403 } & Repeat & ServiceFilter)
  | ({ kind: 'refuse-connection' } & Repeat & ServiceFilter)
  | ({ kind: 'http-error'; status: number; code?: string; message?: string } & Repeat & ServiceFilter)
  | ({ kind: 'delay-handshake'; ms: number } & Repeat & ServiceFilter)
  | ({ kind: 'delay-task-started'; ms: number } & Repeat)
  | ({ kind: 'delay-session-created'; ms: number } & Repeat)
  | ({ kind: 'drop-after-frames'; frames: number } & Repeat & ServiceFilter)
  | ({ kind: 'fail-task'; code: string; message: string; after?: 'run-task' | 'first-text' } & Repeat)
  | ({
      kind: 'qwen-error';
      code: string;
      message: string;
      fatal?: boolean;
      on?: 'session.update' | 'append' | 'commit';
    } & Repeat)
  /**
   * Qwen: the session is closed with 1013 "try again later" and a Throttling.RateQuota reason when
   * the client sends `on` (default: its first append), the way a rate-limited realtime service may
   * refuse (unconfirmed: docs/protocol.md "WebSocket close codes").
   */
  | ({ kind: 'qwen-throttle-close'; on?: 'session.update' | 'append' | 'commit' | 'session.finish' } & Repeat)
  | ({ kind: 'idle-close' } & Repeat)
  /**
   * Qwen: the next response queued ends early with response.done of this status, after
   * `afterFrames` audio deltas (default 0); the rest of that response's text is never spoken.
   */
  | ({ kind: 'response-status'; status: 'failed' | 'cancelled' | 'incomplete'; afterFrames?: number } & Repeat)
  | ({ kind: 'malformed-frame'; what: 'not-json' | 'no-header' | 'truncated' } & Repeat & ServiceFilter)
  | ({ kind: 'empty-audio' } & Repeat)
  /** CosyVoice: after a task's first audio frame, events (and a binary frame) of another task id. */
  | ({ kind: 'stray-task-events' } & Repeat);

export type FaultKind = Fault['kind'];
export type FaultOf<K extends FaultKind> = Extract<Fault, { kind: K }>;

interface Armed {
  fault: Fault;
  remaining: number;
}

export class FaultQueue {
  private armed: Armed[] = [];

  add(fault: Fault): void {
    const remaining = fault.times ?? 1;
    if (!(remaining > 0)) return;
    this.armed.push({ fault, remaining });
  }

  clear(): void {
    this.armed = [];
  }

  /** Consumes one occurrence of the first armed fault of `kind` that `matches` accepts. */
  take<K extends FaultKind>(kind: K, matches: (f: FaultOf<K>) => boolean = () => true): FaultOf<K> | undefined {
    for (let i = 0; i < this.armed.length; i++) {
      const a = this.armed[i];
      if (!a || a.fault.kind !== kind) continue;
      const fault = a.fault as FaultOf<K>;
      if (!matches(fault)) continue;
      a.remaining -= 1;
      if (a.remaining <= 0) this.armed.splice(i, 1);
      return fault;
    }
    return undefined;
  }

  /** Helper for the faults that carry an optional service filter. */
  takeFor<K extends FaultKind>(kind: K, service: ServiceName): FaultOf<K> | undefined {
    return this.take(kind, (f) => {
      const filter = (f as ServiceFilter).service;
      return filter === undefined || filter === service;
    });
  }
}
