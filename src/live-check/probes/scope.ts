/**
 * What every probe needs around its conversation: waits on the run's clock (scaled by
 * `timeScale`, cut short by the abort signal), times measured on the service's clock (divided by
 * it), and the sockets and sessions it opened, all closed when it ends however it ends.
 */
import type { ProbeContext } from '../probe';

/** The run was interrupted (Ctrl-C or its deadline): the probe stops where it is. */
export class ProbeAborted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'ProbeAborted';
  }
}

/** Anything a probe opens: a CosyVoice connection, a Qwen session. */
export interface Closable {
  close(code?: number): void;
  terminate(): void;
}

/**
 * CosyVoice allows an account 3 task starts a second (docs/protocol.md "CosyVoice: rate limit");
 * the package's own window is a second plus 100 ms. The kit keeps under it, so that no probe but
 * cv-throttle ever sees a refusal that is only a rate limit. Starts are remembered per run (its
 * endpoints object), across its probes.
 */
const STARTS_PER_WINDOW = 3;
const START_WINDOW_MS = 1100;
const recentStarts = new WeakMap<object, number[]>();

export class ProbeScope {
  private readonly open = new Set<Closable>();
  private readonly wakers = new Set<() => void>();
  /** The probe returned: anything an open yields from now on is closed at once, never kept. */
  private disposed = false;
  /** The model the latest task or session asked for: named when the account may not use it (define.ts). */
  model: string | undefined;

  constructor(readonly ctx: ProbeContext) {
    if (!ctx.signal.aborted) ctx.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get aborted(): boolean {
    return this.ctx.signal.aborted;
  }

  /** Aborted, or the probe is over: nothing opened now may be kept. */
  private get over(): boolean {
    return this.disposed || this.aborted;
  }

  /** Throws when the run was interrupted: called between the steps of a conversation. */
  check(): void {
    if (this.aborted) throw new ProbeAborted();
  }

  /** A moment on the run's clock (ms): pair two of these with `elapsed`. */
  now(): number {
    return performance.now();
  }

  /** A time measured on the run's clock, as the service's clock reads it (docs: `ProbeContext.timeScale`). */
  serviceMs(runMs: number): number {
    return runMs / this.ctx.timeScale;
  }

  /** Milliseconds (service clock) from `from` (a `now()`) to `to` (default: now). */
  elapsed(from: number, to = performance.now()): number {
    return this.serviceMs(to - from);
  }

  /** Keeps `thing` until the probe ends; an open that resolves after an abort, or after the probe ended, is closed at once. */
  track<T extends Closable>(thing: T): T {
    if (this.over) thing.terminate();
    else this.open.add(thing);
    return thing;
  }

  /** Closes one thing now (politely: code 1000) and forgets it. */
  release(thing: Closable): void {
    this.open.delete(thing);
    thing.close(1000);
  }

  /**
   * Waits `ms` of service time (× timeScale on the run's clock), or until `done()` holds, checked
   * each time `poke()` is called. Resolves true when `done()` held, false on the timeout; throws
   * ProbeAborted on an abort. No timer outlives it.
   */
  until(ms: number, done: () => boolean = () => false): Promise<boolean> {
    this.check();
    if (done()) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const finish = (outcome: boolean | ProbeAborted): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        if (outcome instanceof ProbeAborted) reject(outcome);
        else resolve(outcome);
      };
      const wake = (): void => {
        if (this.aborted) finish(new ProbeAborted());
        else if (done()) finish(true);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, ms * this.ctx.timeScale));
      this.wakers.add(wake);
    });
  }

  /** A plain pause of `ms` service time. */
  async sleep(ms: number): Promise<void> {
    await this.until(ms);
  }

  /** Something happened (an event, a frame, a close): waiters check their condition again. */
  poke(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /**
   * Opens something the probe cannot cancel half-way (a connect, a session's setup), keeping it
   * until the probe ends. On an abort, or when the probe ends first (another open of the same
   * probe failed), it gives up at once; what the open yields later is closed the moment it arrives.
   */
  opening<T extends Closable>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let gaveUp = this.over;
      if (gaveUp) reject(new ProbeAborted());
      const wake = (): void => {
        if (!this.over || gaveUp) return;
        this.wakers.delete(wake);
        gaveUp = true;
        reject(new ProbeAborted());
      };
      if (!gaveUp) this.wakers.add(wake);
      promise.then(
        (thing) => {
          this.wakers.delete(wake);
          if (gaveUp) thing.terminate();
          else resolve(this.track(thing));
        },
        (err: unknown) => {
          this.wakers.delete(wake);
          if (!gaveUp) reject(err);
        },
      );
    });
  }

  /** Waits, if need be, until one more CosyVoice task start keeps the account under its rate, and counts it. */
  async paceStart(): Promise<void> {
    const window = START_WINDOW_MS * this.ctx.timeScale;
    for (;;) {
      const starts = this.starts();
      const now = performance.now();
      while (starts.length > 0 && (starts[0] as number) <= now - window) starts.shift();
      if (starts.length < STARTS_PER_WINDOW) break;
      await this.sleep(((starts[0] as number) + window - now) / this.ctx.timeScale);
    }
    this.noteStart();
  }

  /** Counts a task start made without waiting (cv-throttle's, which must exceed the rate). */
  noteStart(): void {
    this.starts().push(performance.now());
  }

  private starts(): number[] {
    let starts = recentStarts.get(this.ctx.endpoints);
    if (!starts) recentStarts.set(this.ctx.endpoints, (starts = []));
    return starts;
  }

  /** The probe is over: everything it opened is closed, and it no longer listens for the abort. */
  dispose(): void {
    this.disposed = true;
    this.ctx.signal.removeEventListener('abort', this.onAbort);
    for (const thing of this.open) thing.close(1000);
    this.open.clear();
    this.poke();
  }

  private readonly onAbort = (): void => {
    // Close first, so nothing more is sent or heard; then wake every wait, which throws.
    for (const thing of this.open) thing.close(1000);
    this.open.clear();
    this.poke();
  };
}
