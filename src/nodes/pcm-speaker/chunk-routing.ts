import { readAudioMessage, type AudioMessageView } from '../../audio/audio-message';

/** Which utterance a message belongs to, and whether it is the last chunk of it. */
export interface ChunkRoute {
  id: string;
  end: boolean;
}

/** Utterances whose end never came are forgotten after this many newer ones. */
const OPEN_UTTERANCES_KEPT = 1000;

/**
 * Groups audio messages into utterances by msg.parts (src/audio/audio-message.ts), the convention
 * the synthesis nodes (and the core split/join nodes) use: `parts.id` names the utterance and `parts.count`, once known, how
 * many messages it has. The synthesis nodes put count on a final zero-length end marker. A message
 * without msg.parts is a whole utterance by itself (a WAV file, for example).
 *
 * Counting goes on after msg.stop: the late chunks of a stopped utterance must still be recognised,
 * end marker included, so that the player can drop them and then forget the id.
 */
export class ChunkRouter {
  private readonly received = new Map<string, number>();
  private solo = 0;

  route(msg: Record<string, unknown>, parts: AudioMessageView['parts'] = readAudioMessage(msg).parts): ChunkRoute {
    if (!parts) return { id: this.soloId(msg), end: true };
    const { id, count } = parts;
    const n = (this.received.get(id) ?? 0) + 1;
    const end = count !== undefined && n >= count;
    if (end) {
      this.received.delete(id);
    } else {
      this.received.set(id, n);
      if (this.received.size > OPEN_UTTERANCES_KEPT) this.received.delete(this.received.keys().next().value as string);
    }
    return { id, end };
  }

  private soloId(msg: Record<string, unknown>): string {
    this.solo += 1;
    return `msg:${typeof msg._msgid === 'string' ? msg._msgid : ''}:${this.solo}`;
  }
}
