/**
 * A raw Qwen session on the simulator (no project client in between), to show that each variant
 * switch changes the service's behaviour as it says: what goes in, and every event that comes back.
 */
import type { DashScopeSimulator } from '../simulator';
import { RawClient, type RawFrame } from '../simulator/raw-client';

export interface ServerEvent {
  type: string;
  error?: { code?: string; message?: string };
  response?: { status?: string; usage?: { characters?: number } };
  delta?: string;
}

export function serverEvent(f: RawFrame): ServerEvent {
  return (f.json ?? { type: '(not json)' }) as unknown as ServerEvent;
}

export async function rawSession(sim: DashScopeSimulator, mode: 'server_commit' | 'commit'): Promise<RawClient> {
  const url = `${sim.baseUrl.replace(/^http/, 'ws')}/api-ws/v1/realtime?model=qwen3-tts-flash-realtime`;
  const c = await RawClient.open(url);
  await c.next((f) => serverEvent(f).type === 'session.created');
  c.send({ event_id: 'event_u', type: 'session.update', session: { voice: 'Cherry', mode, response_format: 'pcm', sample_rate: 24000 } });
  await c.next((f) => serverEvent(f).type === 'session.updated');
  return c;
}

let n = 0;
export function send(c: RawClient, type: string, extra: Record<string, unknown> = {}): void {
  c.send({ event_id: `event_${++n}`, type, ...extra });
}

/** Sends session.finish and returns every server event after session.updated, up to the close. */
export async function finishAndCollect(c: RawClient): Promise<{ events: ServerEvent[]; closeCode: number }> {
  send(c, 'session.finish');
  const { code } = await c.closed;
  return { events: c.frames.slice(2).map(serverEvent), closeCode: code };
}

/** Billed characters of each response, in order (= the length of each response's text for ASCII). */
export function responseSizes(events: readonly ServerEvent[]): number[] {
  return events.filter((e) => e.type === 'response.done').map((e) => e.response?.usage?.characters ?? -1);
}

export function count(events: readonly ServerEvent[], type: string): number {
  return events.filter((e) => e.type === type).length;
}
