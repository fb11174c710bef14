/**
 * The real qwen-realtime node on a simulator configured as one service variant (see
 * variant-rig.ts for the recording and the checks every rig shares). `qu` takes whole utterances,
 * `qs` a stream of tokens.
 */
import { VariantRig, type Ending as VariantEnding, type Receiver, type Service, type TopicRecord as VariantTopicRecord } from './variant-rig';

export { assertSpoken, KEY, type RigOptions } from './variant-rig';

export const VOICE = 'Cherry';

export interface QwenEvent {
  text: string;
  bytes: number;
  sessionId: string;
  responseIds: string[];
  characters?: number;
  timeToFirstAudioMs?: number;
}

/** Everything one utterance (one topic) produced. */
export type TopicRecord = VariantTopicRecord<QwenEvent>;

export type Ending = VariantEnding<QwenEvent>;

export class QwenRig extends VariantRig<QwenEvent> {
  protected readonly service: Service = {
    type: 'qwen-realtime',
    utterance: 'qu',
    stream: 'qs',
    node: { model: 'qwen3-tts-flash-realtime', voice: VOICE, mode: 'server_commit', format: 'pcm', sampleRate: 24000 },
  };

  node(id: 'qu' | 'qs'): Receiver {
    return this.receiver(id);
  }

  /** A whole utterance to `qu`. */
  say(text: string, topic: string, extra: Record<string, unknown> = {}): Promise<Ending> {
    const p = this.ended(topic);
    this.node('qu').receive({ payload: text, topic, ...extra });
    return p;
  }

  /** Tokens of `size` characters to `qs`, a few at a time with a pause between, the last with msg.complete. */
  async stream(text: string, topic: string, size = 4, pauseMs = 2): Promise<Ending> {
    const p = this.ended(topic);
    const tokens = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'gu')) ?? [];
    for (let i = 0; i < tokens.length; i++) {
      this.node('qs').receive({ payload: tokens[i], topic, complete: i === tokens.length - 1 ? true : undefined });
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, pauseMs));
    }
    return p;
  }
}
