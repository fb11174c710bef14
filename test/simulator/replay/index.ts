/**
 * The simulator's replay (SimulatorOptions.replay): instead of simulating, it answers from a
 * live-check transcript. The n-th upgrade of a service gets the n-th recorded connection of that
 * service (its refusal, its failure, or its frames: player.ts); an HTTP request gets the recorded
 * answer to the same request (http.ts). The key is not checked: the recording already shows what
 * the service did with it.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { TranscriptLine } from '../../../src/live-check/transcript-format';
import type { ServiceName } from '../faults';
import type { SimConnection } from '../sim-connection';
import { TimerBag } from '../timer-bag';
import { findExchange, requestShape, sendRecorded } from './http';
import { ReplayPlayer, type ReplayError } from './player';
import { buildScript, type ConnectionScript, type ReplayScript } from './script';

export type { ReplayError } from './player';
export type { ConnectionScript } from './script';

export interface ReplayOptions {
  transcript: readonly TranscriptLine[];
  /** Multiplies every recorded gap (default 1: as recorded; 0.1: ten times faster). */
  timeScale?: number;
}

/** Answers an upgrade with the recorded status and body, as the service did. */
function refuse(socket: Duplex, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

export class ReplayServer {
  readonly errors: ReplayError[] = [];
  private readonly script: ReplayScript;
  private readonly timeScale: number;
  private readonly taken: Record<ServiceName, number> = { cosyvoice: 0, qwen: 0 };
  private readonly timers = new TimerBag();
  private readonly players = new Set<ReplayPlayer>();

  constructor(options: ReplayOptions) {
    this.script = buildScript(options.transcript);
    this.timeScale = Math.max(0, options.timeScale ?? 1);
  }

  /** After the recorded handshake time: the recorded refusal, failure, or `accept` with the script to play. */
  upgrade(socket: Duplex, service: ServiceName, accept: (script: ConnectionScript) => void): void {
    const script = this.script.sockets[service][this.taken[service]++];
    if (!script) {
      this.errors.push({ conn: undefined, service, expected: 'end', got: 'open', message: `the recording has no more ${service} connections` });
      refuse(socket, 503, { code: 'ReplayExhausted', message: `the recording has no more ${service} connections` });
      return;
    }
    const answer = (): void => {
      const outcome = script.outcome;
      if (outcome.kind === 'opened') accept(script);
      else if (outcome.kind === 'refused') refuse(socket, outcome.status, outcome.body);
      else socket.destroy();
    };
    const cancel = this.timers.after((script.outcome.t - script.openT) * this.timeScale, () => {
      socket.off('close', cancel);
      if (!socket.destroyed) answer();
    });
    socket.once('close', cancel);
  }

  /** Plays an accepted connection's script. */
  play(conn: SimConnection, ws: WebSocket, script: ConnectionScript): void {
    const player = new ReplayPlayer(conn, ws, script, this.timeScale, this.errors);
    this.players.add(player);
    conn.onClose(() => this.players.delete(player));
    player.start();
  }

  http(req: IncomingMessage, res: ServerResponse): void {
    req.resume(); // the body is not compared: the recording has it redacted
    const exchange = findExchange(this.script.http, req);
    if (!exchange?.reply) {
      const { method, path, query } = requestShape(req.method ?? 'GET', req.url ?? '/');
      this.errors.push({ conn: exchange?.conn, service: 'http', expected: null, got: `${method} ${path}${query ? `?${query}` : ''}`, message: 'no recorded answer to this request' });
      sendRecorded(res, 404, { code: 'ReplayNoMatch', message: 'the recording has no answer to this request' });
      return;
    }
    exchange.used = true;
    const reply = exchange.reply;
    const cancel = this.timers.after((reply.t - exchange.t) * this.timeScale, () => {
      res.off('close', cancel);
      if (reply.kind === 'reply') sendRecorded(res, reply.status, reply.body);
      else req.socket.destroy();
    });
    res.once('close', cancel);
  }

  close(): void {
    this.timers.clearAll();
    for (const p of this.players) p.stop();
    this.players.clear();
  }
}
