/**
 * keepWarm's CosyVoice task started ahead of the text ("armed", docs/protocol.md "Keeping warm"),
 * so that the next utterance's first text goes straight to synthesis instead of waiting a round
 * trip for task-started. What makes it CosyVoice's own is the task's clock: a started task cannot
 * wait for text longer than 23 s, and one that never got text cannot be finished cleanly
 * (docs/protocol.md "CosyVoice: timeouts"), so it is abandoned with its socket and replaced every
 * `armedTaskMs`. Whether a task may be started ahead at all (keepWarm, a node in use, the key not
 * refused) and where its socket comes from are the connection manager's to say: it owns one
 * primer and answers through PrimerHost.
 */
import type { CosyVoiceTask, CosyVoiceTaskParams, TaskHandlers } from './cosyvoice';

/** A socket lent for one task, given back with release(). */
export interface PrimerLease {
  runTask(params: CosyVoiceTaskParams, handlers: TaskHandlers): CosyVoiceTask;
  release(): void;
}

/** What the primer asks of the connection manager that owns it. */
export interface PrimerHost<L extends PrimerLease> {
  /** A task may be started ahead now (keepWarm, a node registered and in use, the key not refused, not closed). */
  mayArm(): boolean;
  /** Still within the window of use: a socket that comes after it is given back unused. */
  inUse(): boolean;
  /** A socket for the task: an idle one at once, else one opened in the background. */
  lease(): Promise<L>;
}

export interface PrimerStats {
  /** CosyVoice tasks started ahead of the text (keepWarm). */
  armed: number;
  /** Utterances that found a CosyVoice task already started for them. */
  armedUsed: number;
  /** A CosyVoice task is started and waiting for the next utterance's text. */
  armedReady: boolean;
}

/** A task started ahead and the socket it runs on: the caller's once taken. */
export interface ArmedTask<L extends PrimerLease> {
  lease: L;
  task: CosyVoiceTask;
}

interface Armed<L extends PrimerLease> extends ArmedTask<L> {
  /** The parameters, as compared with those of the utterance that would take the task. */
  key: string;
  /** The same object again needs no key: resolved settings are never changed (a node's own are reused). */
  params: CosyVoiceTaskParams;
  timer: NodeJS.Timeout | undefined;
}

/** At most one task waits ahead, for the parameters it was last asked for. */
export class CosyVoicePrimer<L extends PrimerLease> {
  private armed: Armed<L> | undefined;
  private arming = false;
  private closed = false;
  private readonly counts = { armed: 0, armedUsed: 0 };

  constructor(
    private readonly host: PrimerHost<L>,
    /** A task started ahead is replaced after this long, well inside the service's 23 s. */
    private readonly armedTaskMs: number,
  ) {}

  stats(): PrimerStats {
    return { ...this.counts, armedReady: this.armed?.task.started === true };
  }

  /** Starts a task with these parameters now (unless one is ready or on its way), replacing one for other parameters. */
  arm(params: CosyVoiceTaskParams): void {
    if (this.closed || this.arming || !this.host.mayArm()) return;
    const key = JSON.stringify(params);
    if (this.armed?.key === key && this.armed.task.acceptsText) return;
    this.disarm();
    this.arming = true;
    this.host.lease().then(
      (lease) => {
        this.arming = false;
        if (this.closed || this.armed || !this.host.inUse()) {
          lease.release();
          return;
        }
        let armed: Armed<L> | undefined;
        const task = lease.runTask(params, {
          onAudio: () => undefined,
          onFinished: () => this.disarm(),
          onFailed: () => this.disarm(),
          // The service's 23 s clock starts at task-started (a start held back by the rate limit does not count).
          onStarted: () => {
            if (!armed || this.armed !== armed) return;
            armed.timer = setTimeout(() => {
              this.disarm();
              this.arm(params);
            }, this.armedTaskMs);
            armed.timer.unref?.();
          },
        });
        // The task's own idle finish (idleFinishMs from run-task, docs/protocol.md "CosyVoice:
        // timeouts") can come before the replacement timer (armedTaskMs from task-started) when
        // task-started was slow: a finishing task takes no text, so it is replaced at once.
        task.onIdleFinish = () => {
          if (this.armed !== armed) return;
          this.disarm();
          this.arm(params);
        };
        this.counts.armed++;
        armed = { key, params, lease, task, timer: undefined };
        this.armed = armed;
      },
      () => {
        this.arming = false; // the manager's state, counters and backoff already say why
      },
    );
  }

  /** The task started ahead for exactly these parameters, if there is one: it is the caller's now. */
  take(params: CosyVoiceTaskParams): ArmedTask<L> | undefined {
    const armed = this.armed;
    if (!armed || (armed.params !== params && armed.key !== JSON.stringify(params)) || !armed.task.acceptsText) return undefined;
    clearTimeout(armed.timer);
    this.armed = undefined;
    this.counts.armedUsed++;
    return { lease: armed.lease, task: armed.task };
  }

  /** No task waits ahead any more: the one there is ends, its socket goes back. */
  disarm(): void {
    const armed = this.armed;
    if (!armed) return;
    this.armed = undefined;
    clearTimeout(armed.timer);
    armed.task.cancel();
    armed.lease.release();
  }

  /** For good: the task there is ends, and a socket still on its way is given back when it comes. */
  close(): void {
    this.closed = true;
    this.disarm();
  }
}
