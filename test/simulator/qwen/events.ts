/** Server event shapes of qwen-realtime.md §5; each event gets its own server event_id. */
import { qwenId } from '../ids';

type Event = Record<string, unknown>;

function event(type: string, body: Event = {}): Event {
  return { event_id: qwenId('event'), type, ...body };
}

export function error(code: string, message: string): Event {
  return event('error', { error: { code, message } });
}

export function sessionCreated(session: Event): Event {
  return event('session.created', { session });
}

export function sessionUpdated(session: Event): Event {
  return event('session.updated', { session });
}

export function committed(itemId: string): Event {
  return event('input_text_buffer.committed', { item_id: itemId });
}

export function cleared(): Event {
  return event('input_text_buffer.cleared');
}

export function sessionFinished(): Event {
  return event('session.finished');
}

export interface ResponseRef {
  id: string;
  itemId: string;
  voice: string;
}

const AUDIO_PART = { type: 'audio', text: '' };

function item(ref: ResponseRef, status: 'in_progress' | 'completed', content: Event[]): Event {
  return { id: ref.itemId, object: 'realtime.item', type: 'message', status, role: 'assistant', content };
}

function partRef(ref: ResponseRef): Event {
  return { response_id: ref.id, item_id: ref.itemId, output_index: 0, content_index: 0 };
}

export function responseCreated(ref: ResponseRef): Event {
  return event('response.created', {
    response: { id: ref.id, object: 'realtime.response', conversation_id: '', status: 'in_progress', voice: ref.voice, output: [] },
  });
}

export function outputItemAdded(ref: ResponseRef): Event {
  return event('response.output_item.added', { response_id: ref.id, output_index: 0, item: item(ref, 'in_progress', []) });
}

export function contentPartAdded(ref: ResponseRef): Event {
  return event('response.content_part.added', { ...partRef(ref), part: AUDIO_PART });
}

export function audioDelta(ref: ResponseRef, audio: Buffer): Event {
  return event('response.audio.delta', { ...partRef(ref), delta: audio.toString('base64') });
}

export function audioDone(ref: ResponseRef): Event {
  return event('response.audio.done', partRef(ref));
}

export function contentPartDone(ref: ResponseRef): Event {
  return event('response.content_part.done', { ...partRef(ref), part: AUDIO_PART });
}

export function outputItemDone(ref: ResponseRef): Event {
  return event('response.output_item.done', { response_id: ref.id, output_index: 0, item: item(ref, 'completed', [AUDIO_PART]) });
}

/** §5.6 lists in_progress, completed, failed, incomplete; cancelled follows the OpenAI convention (§4.6, unconfirmed). */
export type ResponseStatus = 'completed' | 'cancelled' | 'failed' | 'incomplete';

export function responseDone(ref: ResponseRef, status: ResponseStatus, usage: Event): Event {
  return event('response.done', {
    response: {
      id: ref.id,
      object: 'realtime.response',
      conversation_id: '',
      status,
      modalities: ['text', 'audio'],
      voice: ref.voice,
      output: [
        { id: ref.itemId, object: 'realtime.item', type: 'message', status, role: 'assistant', content: [{ type: 'audio', transcript: '' }] },
      ],
      usage,
    },
  });
}
