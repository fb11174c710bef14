/**
 * The real cosyvoice-stream node on a simulator configured as one service variant (see
 * variant-rig.ts for the recording and the checks every rig shares). `cu` takes whole utterances,
 * `cs` a stream of tokens.
 */
import { VariantRig, type Ending as VariantEnding, type Receiver, type Service } from './variant-rig';

export { assertSpoken, KEY, type RigOptions } from './variant-rig';

export const VOICE = 'longanyang';
export const SAMPLE_RATE = 24000;

export interface CosyVoiceEvent {
  text: string;
  bytes: number;
  taskIds: string[];
  characters: number;
}

export type Ending = VariantEnding<CosyVoiceEvent>;

/** One step of a token stream: a token, a pause in ms, or a condition to wait for. */
export type StreamStep = string | number | (() => Promise<void>);

export class CosyVoiceRig extends VariantRig<CosyVoiceEvent> {
  protected readonly service: Service = {
    type: 'cosyvoice-stream',
    utterance: 'cu',
    stream: 'cs',
    node: { model: 'cosyvoice-v3-flash', voice: VOICE, format: 'pcm', sampleRate: SAMPLE_RATE },
  };

  node(id: 'cu' | 'cs'): Receiver {
    return this.receiver(id);
  }

  /** A whole utterance to `cu`. */
  say(text: string, topic: string): Promise<Ending> {
    const p = this.ended(topic);
    this.node('cu').receive({ payload: text, topic });
    return p;
  }

  /**
   * Tokens to `cs`, one message each; a number in the list is a pause of that many ms, a function
   * a condition to wait for. The last token carries msg.complete.
   */
  async stream(script: StreamStep[], topic: string): Promise<Ending> {
    const p = this.ended(topic);
    const last = script.length - 1;
    for (const [i, step] of script.entries()) {
      if (typeof step === 'number') await new Promise((r) => setTimeout(r, step));
      else if (typeof step === 'function') await step();
      else this.node('cs').receive({ payload: step, topic, complete: i === last ? true : undefined });
    }
    return p;
  }
}
