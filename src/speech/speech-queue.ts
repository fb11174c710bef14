import { performance } from 'node:perf_hooks';
import type { Utterance } from './utterance';

/** Speaks one utterance; the queue hears when it is over. */
export interface ActiveSpeech {
  /** Stop at once: no more output from this utterance. */
  cancel(): void;
}

export interface SpeechEngine<Settings> {
  speak(utterance: Utterance<Settings>, onOver: () => void): ActiveSpeech;
}

/** `idle`: the queue ran empty; `stopped`: msg.stop emptied it (something urgent may follow at once). */
export type QueueState = 'idle' | 'speaking' | 'stopped';

/**
 * Told of an utterance whose `expiresAt` passed before its turn came (it waited behind others, an
 * outage, a rate limit): it was not handed to the engine, and must be ended here, once.
 */
export type ExpiredHandler<Settings> = (utterance: Utterance<Settings>, waitedMs: number) => void;

/**
 * Utterances are spoken strictly in arrival order, one at a time. stop() cuts the current one and
 * drops the rest; each dropped utterance still ends (stopped: its messages are done) so nothing hangs.
 * One that expired while it waited is never spoken (nor sent to a service, nor billed): the
 * handler ends it when its turn comes, and the queue goes on.
 */
export class SpeechQueue<Settings> {
  private readonly waiting: Utterance<Settings>[] = [];
  private current: Slot<Settings> | undefined;
  private closed = false;

  constructor(
    private readonly engine: SpeechEngine<Settings>,
    private readonly onState: (state: QueueState, utterance?: Utterance<Settings>) => void = () => undefined,
    private readonly onExpired: ExpiredHandler<Settings> = (utterance) => utterance.events.stopped(),
  ) {}

  get length(): number {
    return this.waiting.length + (this.current ? 1 : 0);
  }

  get speaking(): Utterance<Settings> | undefined {
    return this.current?.utterance;
  }

  submit(utterance: Utterance<Settings>): void {
    if (this.closed) {
      utterance.events.stopped();
      return;
    }
    this.waiting.push(utterance);
    if (!this.current) this.next();
  }

  /**
   * Ends this one utterance at once, wherever it is: the one speaking is cut (the queue moves on),
   * a waiting one leaves the queue. Either way it ends once (stopped); nothing else is touched.
   */
  cancel(utterance: Utterance<Settings>): void {
    if (this.current?.utterance === utterance) {
      // The engine ends the utterance and calls back, which moves the queue on.
      this.current.speech?.cancel();
      return;
    }
    const i = this.waiting.indexOf(utterance);
    if (i < 0) return;
    this.waiting.splice(i, 1);
    utterance.events.stopped();
  }

  /** Ends the current utterance at once and drops everything queued. */
  stop(): void {
    const dropped = this.waiting.splice(0);
    const current = this.current;
    this.current = undefined;
    current?.speech?.cancel();
    for (const u of dropped) u.events.stopped();
    this.onState('stopped');
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  private next(): void {
    let utterance = this.waiting.shift();
    // A loop, not recursion: a long outage may leave a whole queue expired.
    while (utterance?.expiresAt !== undefined) {
      const now = performance.now();
      if (now < utterance.expiresAt) break;
      this.onExpired(utterance, now - utterance.receivedAt);
      if (this.current || this.closed) return; // the handler's own calls moved the queue on
      utterance = this.waiting.shift();
    }
    if (!utterance) {
      this.onState('idle');
      return;
    }
    const slot: Slot<Settings> = { utterance, speech: undefined, over: false };
    this.current = slot;
    slot.speech = this.engine.speak(utterance, () => {
      if (slot.over) return;
      slot.over = true;
      if (this.current !== slot) return; // stopped: stop() already moved on
      this.current = undefined;
      this.next();
    });
    // After the engine has started (a started task takes its text right away): a status costs
    // Node-RED a round through its status handlers and the editor's comms, which the text need
    // not wait for. Not for an utterance that was over at once.
    if (this.current === slot) this.onState('speaking', utterance);
  }
}

interface Slot<Settings> {
  utterance: Utterance<Settings>;
  speech: ActiveSpeech | undefined;
  over: boolean;
}
