/**
 * A recorded transcript (src/live-check/transcript-format.ts) cut into what the replay plays: one
 * script per recorded WebSocket, queued per service in the order they were opened, and the
 * recorded HTTP exchanges.
 */
import type { AudioSummary, Json, TranscriptLine } from '../../../src/live-check/transcript-format';
import type { ServiceName } from '../faults';

/** What the service did, in the recording's order, once the socket was open. */
export type Step =
  | { from: 'server'; kind: 'in'; t: number; type: string | null; frame: Json }
  | ({ from: 'server'; kind: 'audio'; t: number } & AudioSummary)
  | { from: 'server'; kind: 'close'; t: number; code: number; reason: string }
  /** `taskId`: the task a recorded CosyVoice instruction named, so the live client's id can stand in for it. */
  | { from: 'client'; kind: 'out'; t: number; type: string | null; taskId?: string }
  | { from: 'client'; kind: 'closing'; t: number };

export type Outcome =
  | { kind: 'opened'; t: number }
  | { kind: 'refused'; t: number; status: number; body: Json }
  | { kind: 'failed'; t: number }
  /** The recording stops before the upgrade was answered (the run was interrupted). */
  | { kind: 'none'; t: number };

export interface ConnectionScript {
  /** The recorded connection number (replay errors name it). */
  conn: number;
  service: ServiceName;
  url: string;
  /** When the recorded client began to connect. */
  openT: number;
  outcome: Outcome;
  steps: Step[];
}

export interface HttpExchange {
  conn: number;
  method: string;
  url: string;
  t: number;
  reply: { kind: 'reply'; t: number; status: number; body: Json } | { kind: 'failed'; t: number } | undefined;
  used: boolean;
}

export interface ReplayScript {
  sockets: Record<ServiceName, ConnectionScript[]>;
  http: HttpExchange[];
}

export function buildScript(transcript: readonly TranscriptLine[]): ReplayScript {
  const sockets: Record<ServiceName, ConnectionScript[]> = { cosyvoice: [], qwen: [] };
  const byConn = new Map<number, ConnectionScript & { clientClosing: boolean }>();
  const http: HttpExchange[] = [];
  const exchanges = new Map<number, HttpExchange>();
  for (const line of transcript) {
    switch (line.kind) {
      case 'open': {
        const script = { conn: line.conn, service: line.service, url: line.url, openT: line.t, outcome: { kind: 'none', t: line.t } as Outcome, steps: [], clientClosing: false };
        byConn.set(line.conn, script);
        sockets[line.service].push(script);
        break;
      }
      case 'opened':
      case 'refused':
      case 'failed': {
        const script = byConn.get(line.conn);
        if (!script) break;
        script.outcome = line.kind === 'refused' ? { kind: 'refused', t: line.t, status: line.status, body: line.body } : { kind: line.kind, t: line.t };
        break;
      }
      case 'in':
        byConn.get(line.conn)?.steps.push({ from: 'server', kind: 'in', t: line.t, type: line.type, frame: line.frame });
        break;
      case 'audio':
        byConn.get(line.conn)?.steps.push({ from: 'server', kind: 'audio', t: line.t, bytes: line.bytes, sha256: line.sha256, container: line.container });
        break;
      case 'out':
        byConn.get(line.conn)?.steps.push({ from: 'client', kind: 'out', t: line.t, type: line.type, taskId: recordedTaskId(line.frame) });
        break;
      case 'closing': {
        const script = byConn.get(line.conn);
        if (!script) break;
        script.clientClosing = true;
        script.steps.push({ from: 'client', kind: 'closing', t: line.t });
        break;
      }
      case 'closed': {
        // A close the client began needs nothing played: the server's ws answers the close frame itself.
        const script = byConn.get(line.conn);
        if (script && !script.clientClosing) script.steps.push({ from: 'server', kind: 'close', t: line.t, code: line.code, reason: line.reason });
        break;
      }
      case 'http': {
        const exchange: HttpExchange = { conn: line.conn, method: line.method, url: line.url, t: line.t, reply: undefined, used: false };
        exchanges.set(line.conn, exchange);
        http.push(exchange);
        break;
      }
      case 'http-reply': {
        const exchange = exchanges.get(line.conn);
        if (exchange) exchange.reply = { kind: 'reply', t: line.t, status: line.status, body: line.body };
        break;
      }
      case 'http-failed': {
        const exchange = exchanges.get(line.conn);
        if (exchange) exchange.reply = { kind: 'failed', t: line.t };
        break;
      }
      default:
        break; // meta and probe markers: nothing on the wire
    }
  }
  return { sockets, http };
}

/** The task_id in a recorded CosyVoice instruction's header (none for Qwen events). */
function recordedTaskId(frame: Json): string | undefined {
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return undefined;
  const header = frame.header;
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return undefined;
  return typeof header.task_id === 'string' ? header.task_id : undefined;
}
