import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** A Node-RED message as the speech layer sees it: any properties, passed along untouched. */
export type Message = Record<string, unknown>;

/** Where an utterance's output goes: the node adapter maps these onto send()/done(). */
export interface UtteranceOutput {
  /** Output 1: one audio chunk message. */
  audio(msg: Message): void;
  /** Output 2: the summary of a finished utterance. */
  event(msg: Message): void;
  /** The utterance is over: every input message that fed it is done (with the error, if any). */
  complete(err?: Error): void;
}

export interface TextListener {
  onText(text: string): void;
  onEnd(): void;
}

/**
 * One thing to say: its text (all at once, or streamed in pieces), the settings to say it with,
 * and the input message whose properties travel with every output message.
 */
export class Utterance<Settings> {
  readonly id = randomBytes(8).toString('hex');
  readonly receivedAt = performance.now();
  private readonly pieces: string[] = [];
  private closed = false;
  private listener: TextListener | undefined;

  constructor(
    readonly settings: Settings,
    readonly base: Message,
    /** Not readonly: the phrase cache and the fallback voice wrap it to see what the engine says. */
    public output: UtteranceOutput,
  ) {}

  get ended(): boolean {
    return this.closed;
  }

  get text(): string {
    return this.pieces.join('');
  }

  append(text: string): void {
    if (this.closed || text.length === 0) return;
    this.pieces.push(text);
    this.listener?.onText(text);
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener?.onEnd();
  }

  /** The engine that speaks this utterance receives the text so far at once, then each new piece. */
  attach(listener: TextListener): void {
    this.listener = listener;
    for (const piece of this.pieces) listener.onText(piece);
    if (this.closed) listener.onEnd();
  }

  detach(): void {
    this.listener = undefined;
  }
}
