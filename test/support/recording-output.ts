import type { Message, UtteranceOutput } from '../../src/speech/utterance';

/** An UtteranceOutput that records everything, for engine tests without Node-RED. */
export class RecordingOutput implements UtteranceOutput {
  readonly audioMessages: Message[] = [];
  readonly events: Message[] = [];
  completed = false;
  error: Error | undefined;
  private waiters: (() => void)[] = [];

  audio(msg: Message): void {
    this.audioMessages.push(msg);
  }

  event(msg: Message): void {
    this.events.push(msg);
  }

  complete(err?: Error): void {
    this.completed = true;
    this.error = err;
    for (const w of this.waiters.splice(0)) w();
  }

  whenComplete(): Promise<void> {
    return this.completed ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  get bytes(): Buffer {
    return Buffer.concat(this.audioMessages.map((m) => m.payload as Buffer));
  }
}
