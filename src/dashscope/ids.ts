import { randomUUID } from 'node:crypto';

/** 32 lowercase hex characters, the task id form the Python SDK sends. */
export function newTaskId(): string {
  return randomUUID().replace(/-/g, '');
}

/** Client event ids for the realtime protocol: "event_" + 32 hex, as both SDKs generate them. */
export function newEventId(): string {
  return `event_${newTaskId()}`;
}
