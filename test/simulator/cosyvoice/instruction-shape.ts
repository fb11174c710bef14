/**
 * Structural check of a client instruction (cosyvoice.md §5). Anything structurally wrong is
 * answered by the server with WebSocket close code 1007, not with task-failed (§6.5).
 */
import { isRecord, parseJsonObject, unknownKeys, type JsonObject } from '../json';

export type Action = 'run-task' | 'continue-task' | 'finish-task';

export interface Instruction {
  action: Action | string;
  taskId: string;
  payload: JsonObject;
}

export type ShapeResult = { ok: true; instruction: Instruction } | { ok: false; reason: string };

const RUN_PAYLOAD_KEYS = ['task_group', 'task', 'function', 'model', 'parameters', 'input'];
/** §5.2: Python repeats model/task_group/task/function, Java repeats parameters. */
const FOLLOW_UP_PAYLOAD_KEYS = ['input', 'model', 'task_group', 'task', 'function', 'parameters'];
const INPUT_KEYS: Record<Action, readonly string[]> = {
  'run-task': ['text'],
  'continue-task': ['text', 'flush'],
  'finish-task': ['directive'],
};

function isAction(a: string): a is Action {
  return a === 'run-task' || a === 'continue-task' || a === 'finish-task';
}

export function parseInstruction(text: string): ShapeResult {
  const msg = parseJsonObject(text);
  if (!msg) return { ok: false, reason: 'invalid JSON' };
  const header = msg.header;
  if (!isRecord(header)) return { ok: false, reason: 'missing header' };
  const { action, task_id: taskId, streaming } = header;
  if (typeof action !== 'string' || !action) return { ok: false, reason: 'missing header.action' };
  if (typeof taskId !== 'string' || !taskId) return { ok: false, reason: 'missing header.task_id' };
  if (streaming !== 'duplex') return { ok: false, reason: 'header.streaming must be duplex' };
  const payload = msg.payload;
  if (!isRecord(payload)) return { ok: false, reason: 'missing payload' };
  if (!isAction(action)) return { ok: true, instruction: { action, taskId, payload } };

  const extra = unknownKeys(payload, action === 'run-task' ? RUN_PAYLOAD_KEYS : FOLLOW_UP_PAYLOAD_KEYS);
  if (extra.length) return { ok: false, reason: `unknown payload field ${extra.join(', ')}` };
  const input = payload.input;
  // run-task without input is a task-failed ("task can not be null"), decided later.
  if (input === undefined && action !== 'run-task') return { ok: false, reason: 'missing payload.input' };
  if (input !== undefined) {
    if (!isRecord(input)) return { ok: false, reason: 'payload.input must be an object' };
    const extraInput = unknownKeys(input, INPUT_KEYS[action]);
    if (extraInput.length) return { ok: false, reason: `unknown input field ${extraInput.join(', ')}` };
  }
  return { ok: true, instruction: { action, taskId, payload } };
}
