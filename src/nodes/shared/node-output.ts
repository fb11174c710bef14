import { AudioSequence, epochNow, type AudioDescriptor, type SequenceEnd } from '../../audio/audio-message';
import { InputError } from '../../speech/input-error';
import type { ExpiredSummary, UtteranceEvents, UtteranceSummary } from '../../speech/utterance';
import type { GuardedCalls } from './guarded-calls';
import type { Message } from './message-base';

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
 * Where one utterance meets Node-RED: its events become audio messages on output 1 (through the
 * audio message contract), the summary on output 2, and done() for every input message that fed it.
 *
 * These calls run inside socket frame and timer handlers, where a throw would escape into the
 * process and leave the queue waiting for an end that never comes. Node-RED's send can throw
 * synchronously: a message going to more than one wire is cloned inside it, and a message it
 * cannot clone throws there (as do onSend/preRoute hooks); done(err) clones the message for catch
 * nodes too. So each call is guarded: a failed audio send fails the utterance with that error (its
 * remaining audio is dropped) and the node goes on with its queue.
 */
export class NodeOutput implements UtteranceEvents {
  /** Every input message that fed this utterance (a stream has several); the first one carries a failure. */
  readonly dones: DoneFn[];
  /**
   * When the node received the text (epochNow()): msg.audio.requestedAt of all its audio, whoever
   * speaks it (the service, the phrase cache, the fallback voice). A player counts msg.ttl and the
   * first-audio latency from here.
   */
  readonly requestedAt = epochNow();
  private sequence: AudioSequence | undefined;
  private sendFailure: Error | undefined;
  private over = false;

  constructor(
    /** The input message's own properties (topic…): they travel with every output message. */
    private readonly base: Message,
    private readonly send: SendFn,
    firstDone: DoneFn,
    private readonly hooks: NodeOutputHooks,
    private readonly calls: Pick<GuardedCalls, 'done' | 'error'>,
  ) {
    this.dones = [firstDone];
  }

  started(audio: AudioDescriptor): void {
    // One msg.audio per utterance, shared by all its chunks: nothing added on the chunk path.
    this.sequence = new AudioSequence(this.base, { ...audio, requestedAt: this.requestedAt });
  }

  audio(chunk: Buffer): void {
    // Once a send failed, the rest of the audio is dropped (only the end marker is still tried).
    if (this.sendFailure || !this.sequence) return;
    this.sendAudio(this.sequence.chunk(chunk));
  }

  done(summary: UtteranceSummary): void {
    this.endSequence('complete');
    this.sendSummary(summary);
    this.complete(undefined);
  }

  /**
   * Never spoken: its msg.ttl passed while it waited (the queue did not send it to the service).
   * No audio at all; the summary says so on output 2; not an error.
   */
  expired(summary: ExpiredSummary): void {
    if (this.over) return;
    this.sendSummary(summary);
    this.complete(undefined);
  }

  failed(err: Error): void {
    this.endSequence('partial');
    this.complete(err);
  }

  stopped(): void {
    this.endSequence('interrupted');
    this.complete(undefined);
  }

  private sendSummary(summary: UtteranceSummary): void {
    try {
      this.send([null, { ...this.base, payload: summary }]);
    } catch (err) {
      // Whatever happened to the utterance happened (its audio went out whole, or none was due): only its summary is lost.
      this.calls.error(new InputError('SendFailed', `could not send the summary on output 2: ${messageOf(err)}`), { ...this.base, payload: summary });
    }
  }

  /** A sequence that began is closed, so a join node downstream completes it (even after a failed send). */
  private endSequence(how: SequenceEnd): void {
    if (this.over || !this.sequence) return;
    this.sendAudio(this.sequence.end(how));
  }

  private sendAudio(msg: Message): void {
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

  private complete(err: Error | undefined): void {
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
