/** Reading the simulator's per-connection transcripts of Qwen sessions, for wire-level assertions. */
import assert from 'node:assert/strict';
import type { ConnectionTranscript } from '../simulator';

interface WireEvent {
  type: string;
  text?: string;
  session?: { id?: string };
  error?: { code?: string; message?: string };
}

function events(t: ConnectionTranscript, dir: 'C' | 'S'): WireEvent[] {
  return t.entries.filter((e) => e.dir === dir && e.json !== undefined).map((e) => e.json as WireEvent);
}

export function qwenSessions(transcripts: readonly ConnectionTranscript[]): ConnectionTranscript[] {
  return transcripts.filter((t) => t.service === 'qwen');
}

export function clientTypes(t: ConnectionTranscript): string[] {
  return events(t, 'C').map((e) => e.type);
}

export function serverTypes(t: ConnectionTranscript): string[] {
  return events(t, 'S').map((e) => e.type);
}

export function serverErrors(t: ConnectionTranscript): string[] {
  return events(t, 'S')
    .filter((e) => e.type === 'error')
    .map((e) => `${e.error?.code}: ${e.error?.message}`);
}

/** The sess_ id the service gave this connection. */
export function sessionIdOf(t: ConnectionTranscript): string | undefined {
  return events(t, 'S').find((e) => e.type === 'session.created')?.session?.id;
}

/** When the service sent session.updated (the session was ready for text), or undefined. */
export function readyAt(t: ConnectionTranscript): number | undefined {
  const entry = t.entries.find((e) => e.dir === 'S' && (e.json as WireEvent | undefined)?.type === 'session.updated');
  return entry?.at;
}

/** When the session was opened (session.created). */
export function openedAt(t: ConnectionTranscript): number | undefined {
  return t.entries.find((e) => e.dir === 'S' && (e.json as WireEvent | undefined)?.type === 'session.created')?.at;
}

/**
 * The wire rules of the new design, on every session: text only in non-blank appends, nothing
 * after session.finish, at most one session.finish, and in server_commit mode no commit at all.
 */
export function assertWireDiscipline(transcripts: readonly ConnectionTranscript[], mode: 'server_commit' | 'commit'): void {
  for (const t of qwenSessions(transcripts)) {
    const sent = events(t, 'C');
    const types = sent.map((e) => e.type);
    const finish = types.indexOf('session.finish');
    if (finish >= 0) assert.equal(finish, types.length - 1, `nothing after session.finish: ${types.join(' ')}`);
    for (const e of sent) if (e.type === 'input_text_buffer.append') assert.ok((e.text ?? '').trim().length > 0, 'no blank append');
    if (mode === 'server_commit') assert.ok(!types.includes('input_text_buffer.commit'), `server_commit never commits: ${types.join(' ')}`);
  }
}
