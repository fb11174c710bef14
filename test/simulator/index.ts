/**
 * A faithful local simulator of the DashScope realtime speech services described in
 * docs/protocol.md: CosyVoice duplex tasks (WS), Qwen-TTS-Realtime sessions (WS), the voice
 * customization endpoint (HTTP) and the temporary file upload that feeds it `oss://` samples
 * (policy endpoint plus a fake OSS bucket), on one port, with fault injection for the client's
 * error paths. Given a live-check transcript (`replay`), it answers from the recording instead
 * (replay/).
 */
import http, { type IncomingMessage } from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CosyVoiceSession, type CosyVoiceEnv } from './cosyvoice/session';
import { handleHttpRequest } from './customization/router';
import { FaultQueue, type Fault } from './faults';
import { handleUpgrade, type UpgradeRequest } from './handshake';
import { Listener } from './listener';
import { resolveOptions, type ResolvedOptions, type SimulatorOptions } from './options';
import { QwenSession } from './qwen/session';
import { RollingRateLimiter } from './rate-window';
import { ReplayServer, type ReplayError } from './replay';
import { SimConnection } from './sim-connection';
import { createStats, type SimulatorStats } from './stats';
import { TimerBag } from './timer-bag';
import type { ConnectionTranscript } from './transcript';
import { handleUploadRequest, UploadStore } from './upload/router';
import { VoiceStore } from './voice-store';

export type { SimulatorOptions, CosyVoiceOptions, QwenOptions, CustomizationOptions, CloneUrlFailure, UploadOptions } from './options';
export type { StoredObject } from './upload/store';
export type { SimulatorStats } from './stats';
export type { TranscriptEntry, ConnectionTranscript } from './transcript';
export type { Fault, FaultKind, ServiceName } from './faults';
export type { ReplayError, ReplayOptions } from './replay';
export { VoiceStore, type CustomVoice, type NewVoice, type VoiceService, type VoiceStatus, type VoiceKind } from './voice-store';
export { expectedAudio, type ExpectedAudioOptions } from './audio';

function flattenHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export class DashScopeSimulator {
  readonly stats: SimulatorStats = createStats();
  readonly transcripts: ConnectionTranscript[] = [];
  readonly voices: VoiceStore;
  /** Temporary storage (file-upload.md): policies handed out and objects uploaded. */
  readonly uploads: UploadStore;
  /** Replay only: where the live client left the recording (empty when it followed it). */
  readonly replayErrors: ReplayError[];

  private readonly options: ResolvedOptions;
  private readonly faults = new FaultQueue();
  private readonly timers = new TimerBag();
  private readonly sockets = new Set<net.Socket>();
  private readonly connections = new Set<SimConnection>();
  private readonly cosyVoiceSessions = new Set<CosyVoiceSession>();
  private readonly httpServer: http.Server;
  private readonly wss: WebSocketServer;
  private readonly listener: Listener;
  private readonly cosyVoiceEnv: CosyVoiceEnv;
  private readonly replay: ReplayServer | undefined;
  private nextConnectionId = 1;

  private constructor(options: ResolvedOptions) {
    this.options = options;
    const replay = (this.replay = options.replay ? new ReplayServer(options.replay) : undefined);
    this.replayErrors = replay?.errors ?? [];
    this.voices = new VoiceStore(() => options.customization.deployMs);
    this.uploads = new UploadStore(options.uploads);
    const policyRate = new RollingRateLimiter(options.uploads.policyRatePerSecond);
    const keys = { apiKeys: options.apiKeys, acceptAnyKey: options.acceptAnyKey };
    this.cosyVoiceEnv = {
      options,
      faults: this.faults,
      stats: this.stats,
      voices: this.voices,
      rateLimiter: new RollingRateLimiter(options.cosyvoice.rateLimitPerSecond),
      onIdle: (session) => this.strikeIdleClose(session),
    };
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.httpServer = http.createServer((req, res) => {
      this.stats.httpRequests += 1;
      if (replay) return replay.http(req, res);
      if (handleUploadRequest(req, res, { uploads: this.uploads, keys, policyRate })) return;
      handleHttpRequest(req, res, { voices: this.voices, options, keys, uploads: this.uploads });
    });
    this.httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      handleUpgrade(req, socket, head, {
        faults: this.faults,
        stats: this.stats,
        timers: this.timers,
        keys,
        replay,
        accept: (r, s, h, upgrade) => this.wss.handleUpgrade(r, s, h, (ws) => this.onWebSocket(ws, r, upgrade)),
      }),
    );
    this.listener = new Listener(options.host, options.port, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.httpServer.emit('connection', socket);
    });
  }

  static async start(opts?: SimulatorOptions): Promise<DashScopeSimulator> {
    const sim = new DashScopeSimulator(resolveOptions(opts));
    await sim.listener.listen();
    return sim;
  }

  get port(): number {
    return this.listener.port;
  }

  /** `http://127.0.0.1:<port>`; clients derive the ws:// URLs and the HTTP base from it. */
  get baseUrl(): string {
    const h = this.options.host;
    const host = h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '[::1]' : h.includes(':') ? `[${h}]` : h;
    return `http://${host}:${this.port}`;
  }

  inject(fault: Fault): void {
    this.faults.add(fault);
    if (fault.kind === 'idle-close') for (const s of this.cosyVoiceSessions) this.strikeIdleClose(s);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Closes the listening socket (new connections get ECONNREFUSED); open sockets stay. */
  stopListening(): Promise<void> {
    return this.listener.stop();
  }

  /** Listens again on the same port. */
  async resumeListening(): Promise<void> {
    if (!this.listener.listening) await this.listener.listen();
  }

  /** Abruptly destroys every open socket (WebSocket clients see 1006, HTTP clients a reset). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Terminates everything and clears every timer; leaves no handles behind. */
  async close(): Promise<void> {
    this.faults.clear();
    this.timers.clearAll();
    this.replay?.close();
    const closing = [...this.connections].map((c) => c.closed);
    for (const c of this.connections) c.terminate();
    for (const s of this.sockets) s.destroy();
    this.wss.close();
    await Promise.all([this.listener.close(), ...closing]);
  }

  private strikeIdleClose(session: CosyVoiceSession): void {
    if (session.isIdle() && this.faults.take('idle-close')) session.idleClose();
  }

  private onWebSocket(ws: WebSocket, req: IncomingMessage, upgrade: UpgradeRequest): void {
    const { service } = upgrade;
    const id = this.nextConnectionId++;
    const headers = flattenHeaders(req);
    const transcript: ConnectionTranscript = { service, url: req.url ?? '', headers, entries: [] };
    if (this.options.recordTranscripts) this.transcripts.push(transcript);
    this.stats.connections[service] += 1;
    const conn = new SimConnection(
      ws,
      { id, service, url: req.url ?? '', headers, apiKey: upgrade.apiKey, remote: req.socket.remoteAddress ?? '?' },
      { faults: this.faults, stats: this.stats, transcript: this.options.recordTranscripts ? transcript : undefined },
    );
    this.connections.add(conn);
    conn.onClose(() => this.connections.delete(conn));
    this.options.log(`${service} #${id} connected${upgrade.model ? ` model=${upgrade.model}` : ''} ua=${headers['user-agent'] ?? '-'}`);
    if (upgrade.replay && this.replay) this.replay.play(conn, ws, upgrade.replay);
    else if (service === 'cosyvoice') {
      const session = new CosyVoiceSession(conn, this.cosyVoiceEnv);
      this.cosyVoiceSessions.add(session);
      conn.onClose(() => this.cosyVoiceSessions.delete(session));
    } else {
      new QwenSession(conn, upgrade.model ?? '', {
        options: this.options,
        faults: this.faults,
        stats: this.stats,
        voices: this.voices,
      });
    }
  }
}
