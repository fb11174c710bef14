import type { AudioDescriptor } from '../../src/audio/audio-message';
import { NodeOutput } from '../../src/nodes/shared/node-output';
import type { Message } from '../../src/nodes/shared/message-base';
import type { UtteranceEvents, UtteranceSummary } from '../../src/speech/utterance';

/**
 * Utterance events recorded as the messages a node would send (through the real NodeOutput and
 * the audio message contract), for engine tests without Node-RED.
 */
export class RecordingOutput implements UtteranceEvents {
  readonly audioMessages: Message[] = [];
  /** Output 2: the summary messages. */
  readonly events: Message[] = [];
  completed = false;
  error: Error | undefined;
  private waiters: (() => void)[] = [];
  private readonly output: NodeOutput;

  constructor(base: Message = {}) {
    this.output = new NodeOutput(
      base,
      (msgs) => {
        const [audio, summary] = msgs as (Message | null)[];
        if (audio) this.audioMessages.push(audio);
        if (summary) this.events.push(summary);
      },
      (err) => {
        this.completed = true;
        this.error = err;
        for (const w of this.waiters.splice(0)) w();
      },
      { ended: () => undefined, abandon: () => undefined },
      { done: (done, err) => done(err), error: () => undefined },
    );
  }

  started(audio: AudioDescriptor): void {
    this.output.started(audio);
  }

  audio(chunk: Buffer): void {
    this.output.audio(chunk);
  }

  done(summary: UtteranceSummary): void {
    this.output.done(summary);
  }

  failed(err: Error): void {
    this.output.failed(err);
  }

  stopped(): void {
    this.output.stopped();
  }

  whenComplete(): Promise<void> {
    return this.completed ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  get bytes(): Buffer {
    return Buffer.concat(this.audioMessages.map((m) => m.payload as Buffer));
  }
}
