import { InputError } from '../../speech/input-error';
import type { Message, UtteranceOutput } from '../../speech/utterance';
import type { GuardedCalls } from './guarded-calls';

type SendFn = (msg: Message | (Message | null)[]) => void;
export type DoneFn = (err?: Error) => void;

export interface NodeOutputHooks {
  /** The utterance is over (`err` when it failed): status and bookkeeping. Called once. */
  ended(output: NodeOutput, err: Error | undefined): void;
  /**
   * An audio message could not be sent: the utterance must stop. Called once, outside the failing
   * send's stack (the engine is in the middle of handling a frame there).
   */
  abandon(): void;
}

/**
 * Where one utterance meets Node-RED: audio on output 1, the summary on output 2, and done() for
 * every input message that fed it.
 *
 * These calls run inside socket frame and timer handlers, where a throw would escape into the
 * process and leave the queue waiting for an end that never comes. Node-RED's send can throw
 * synchronously: a message going to more than one wire is cloned inside it, and a message it
 * cannot clone throws there (as do onSend/preRoute hooks); done(err) clones the message for catch
 * nodes too. So each call is guarded: a failed audio send fails the utterance with that error (its
 * remaining audio is dropped) and the node goes on with its queue.
 */
export class NodeOutput implements UtteranceOutput {
  /** Every input message that fed this utterance (a stream has several); the first one carries a failure. */
  readonly dones: DoneFn[];
  private sendFailure: Error | undefined;
  private over = false;

  constructor(
    private readonly send: SendFn,
    firstDone: DoneFn,
    private readonly hooks: NodeOutputHooks,
    private readonly calls: Pick<GuardedCalls, 'done' | 'error'>,
  ) {
    this.dones = [firstDone];
  }

  audio(msg: Message): void {
    // Once a send failed, only end markers are still tried: a join downstream may yet close its sequence.
    if (this.sendFailure && (msg.payload as Buffer).length > 0) return;
    try {
      this.send([msg, null]);
    } catch (err) {
      if (this.sendFailure) return;
      this.sendFailure = new InputError('SendFailed', `could not pass the audio on: ${messageOf(err)}`);
      queueMicrotask(() => {
        try {
          this.hooks.abandon();
        } catch (thrown) {
          this.calls.error(thrown instanceof Error ? thrown : new Error(String(thrown)), {});
        }
      });
    }
  }

  event(msg: Message): void {
    try {
      this.send([null, msg]);
    } catch (err) {
      // The audio went out whole: the utterance was spoken, only its summary is lost.
      this.calls.error(new InputError('SendFailed', `could not send the summary on output 2: ${messageOf(err)}`), msg);
    }
  }

  complete(err?: Error): void {
    if (this.over) return;
    this.over = true;
    const failure = err ?? this.sendFailure;
    this.hooks.ended(this, failure);
    // Report a failure once, on the message that started the utterance; the rest just complete.
    // The utterance's own properties are what Node-RED may be unable to copy: an empty message stands in.
    this.dones.forEach((done, i) => this.calls.done(done, i === 0 ? failure : undefined, {}));
    this.dones.length = 0;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
