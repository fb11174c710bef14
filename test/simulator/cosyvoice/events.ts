/** Server event shapes of cosyvoice.md §6. Every event has a payload (the Java SDK insists on one). */
import type { WordTimestamp } from '../word-timestamps';

type Event = Record<string, unknown>;

function header(taskId: string, event: string, attributes: Record<string, string> = {}): Record<string, unknown> {
  return { task_id: taskId, event, attributes };
}

export function taskStarted(taskId: string): Event {
  return { header: header(taskId, 'task-started'), payload: {} };
}

export function sentenceBegin(taskId: string, index: number, text: string): Event {
  return {
    header: header(taskId, 'result-generated'),
    payload: { output: { sentence: { index, words: [] }, type: 'sentence-begin', original_text: text } },
  };
}

export function sentenceSynthesis(taskId: string, index: number): Event {
  return {
    header: header(taskId, 'result-generated'),
    payload: { output: { sentence: { index, words: [] }, type: 'sentence-synthesis' } },
  };
}

export function sentenceEnd(taskId: string, index: number, text: string, words: WordTimestamp[], characters: number): Event {
  return {
    header: header(taskId, 'result-generated'),
    payload: {
      output: { sentence: { index, words }, type: 'sentence-end', original_text: text },
      usage: { characters },
    },
  };
}

export interface LastSentence {
  index: number;
  words: WordTimestamp[];
}

export function taskFinished(taskId: string, requestUuid: string, characters: number, last?: LastSentence): Event {
  const sentence = last ? { index: last.index, words: last.words } : { words: [] };
  return {
    header: header(taskId, 'task-finished', { request_uuid: requestUuid }),
    payload: { output: { sentence }, usage: { characters } },
  };
}

export function taskFailed(taskId: string, code: string, message: string): Event {
  return {
    header: { task_id: taskId, event: 'task-failed', error_code: code, error_message: message, attributes: {} },
    payload: {},
  };
}
