/**
 * The WebSocket upgrade path: routing by URL, handshake-level faults, API-key check (README §2),
 * and Qwen's mandatory `?model=` (qwen-realtime.md §2). Rejections are plain HTTP answers.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { bearerKey, INVALID_API_KEY, isKeyAccepted, type KeyPolicy } from './auth';
import type { FaultQueue, ServiceName } from './faults';
import { errorBody, rejectUpgrade } from './http-replies';
import type { ConnectionScript, ReplayServer } from './replay';
import type { SimulatorStats } from './stats';
import type { TimerBag } from './timer-bag';

export interface UpgradeRequest {
  service: ServiceName;
  url: URL;
  apiKey: string;
  /** Qwen only. */
  model?: string;
  /** Replay: the recorded connection this one plays. */
  replay?: ConnectionScript;
}

export interface HandshakeDeps {
  faults: FaultQueue;
  stats: SimulatorStats;
  timers: TimerBag;
  keys: KeyPolicy;
  /** Set when the simulator replays a transcript: it answers every upgrade. */
  replay?: ReplayServer;
  accept: (req: IncomingMessage, socket: Duplex, head: Buffer, upgrade: UpgradeRequest) => void;
}

export function serviceForPath(pathname: string): ServiceName | undefined {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/api-ws/v1/inference') return 'cosyvoice';
  if (p === '/api-ws/v1/realtime') return 'qwen';
  return undefined;
}

export function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: HandshakeDeps): void {
  const url = new URL(req.url ?? '/', 'http://simulator.local');
  const service = serviceForPath(url.pathname);
  if (!service) return rejectUpgrade(socket, 404, errorBody('NotFound', `No WebSocket service at ${url.pathname}.`));
  if (deps.replay) {
    const model = url.searchParams.get('model') ?? undefined;
    return deps.replay.upgrade(socket, service, (script) =>
      deps.accept(req, socket, head, { service, url, apiKey: bearerKey(req.headers) ?? '', model, replay: script }),
    );
  }
  const delay = deps.faults.takeFor('delay-handshake', service);
  if (!delay) return completeUpgrade(req, socket, head, deps, service, url);
  const cancel = deps.timers.after(delay.ms, () => {
    socket.off('close', cancel);
    if (!socket.destroyed) completeUpgrade(req, socket, head, deps, service, url);
  });
  socket.once('close', cancel);
}

function completeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, deps: HandshakeDeps, service: ServiceName, url: URL): void {
  const { faults, stats } = deps;
  if (faults.takeFor('refuse-connection', service)) {
    stats.connectionsRefused += 1;
    socket.destroy();
    return;
  }
  const httpError = faults.takeFor('http-error', service);
  if (httpError) {
    const code = httpError.code ?? (httpError.status >= 500 ? 'InternalError' : 'InvalidParameter');
    if (httpError.status === 401 || httpError.status === 403) stats.handshakesRejected += 1;
    return rejectUpgrade(socket, httpError.status, errorBody(code, httpError.message ?? `Simulated HTTP ${httpError.status}.`));
  }
  const authFault = faults.takeFor('reject-auth', service);
  const apiKey = bearerKey(req.headers);
  if (authFault || !isKeyAccepted(apiKey, deps.keys)) {
    stats.handshakesRejected += 1;
    return rejectUpgrade(socket, authFault?.status ?? 401, errorBody(INVALID_API_KEY.code, INVALID_API_KEY.message));
  }
  let model: string | undefined;
  if (service === 'qwen') {
    model = url.searchParams.get('model') ?? undefined;
    if (!model) return rejectUpgrade(socket, 400, errorBody('InvalidParameter', "Missing required query parameter 'model'."));
  }
  deps.accept(req, socket, head, { service, url, apiKey, model });
}
