/**
 * Qwen-TTS-Realtime conversations for the probes, through the package's own client
 * (src/dashscope/qwen-realtime.ts): a session opened with the run's tap, and a log of what the
 * service did (responses with their times, headers and usage, commits, errors, the close).
 */
import type { Credentials } from '../../dashscope/auth';
import { qwenRealtimeUrl } from '../../dashscope/endpoints';
import type { DashScopeError } from '../../dashscope/errors';
import { QwenRealtimeSession, type QwenSessionSettings, type ResponseResult } from '../../dashscope/qwen-realtime';
import { startsWithSegmentHeader } from '../../audio/container-header';
import { guardMs } from './cosyvoice-run';
import type { ProbeScope } from './scope';
import { watchNextSocket, type SocketWatcher } from './watch-tap';

/** The model and voice every Qwen probe speaks with (180 requests a minute in both regions). */
export const QWEN_MODEL = 'qwen3-tts-flash-realtime';
export const QWEN_VOICE = 'Cherry';

const CONNECT_MS = 10_000;
const SETUP_MS = 10_000;

export interface QwenResponse {
  id: string;
  createdAt: number;
  firstDeltaAt?: number;
  /** The first chunk began with a container header. */
  header: boolean;
  bytes: number;
  done?: ResponseResult;
}

export interface QwenLog {
  session: QwenRealtimeSession;
  responses: QwenResponse[];
  /** input_text_buffer.committed events, whoever asked for them. */
  committed: number;
  errors: DashScopeError[];
  finished: boolean;
  closed?: { err: DashScopeError | undefined; at: number };
}

export function qwenSettings(mode: QwenSessionSettings['mode'], extra: Partial<QwenSessionSettings> = {}): QwenSessionSettings {
  return { voice: QWEN_VOICE, mode, responseFormat: 'pcm', sampleRate: 24000, ...extra };
}

export interface OpenQwenOptions {
  model?: string;
  credentials?: Credentials;
  watcher?: SocketWatcher;
}

/** Opens a session (connect, session.created, session.update, session.updated) and starts its log. */
export async function openQwen(scope: ProbeScope, settings: QwenSessionSettings, options: OpenQwenOptions = {}): Promise<QwenLog> {
  scope.check(); // before the connect starts: an aborted run opens nothing
  const { ctx } = scope;
  const model = options.model ?? QWEN_MODEL;
  scope.model = model;
  const tap = options.watcher ? watchNextSocket(ctx.tap, options.watcher) : ctx.tap;
  const session = await scope.opening(
    QwenRealtimeSession.open(qwenRealtimeUrl(ctx.endpoints, model), model, options.credentials ?? ctx.credentials, settings, {
      connectTimeoutMs: guardMs(scope, CONNECT_MS),
      setupTimeoutMs: guardMs(scope, SETUP_MS),
      tap,
    }),
  );
  const log: QwenLog = { session, responses: [], committed: 0, errors: [], finished: false };
  const current = (): QwenResponse | undefined => log.responses[log.responses.length - 1];
  session.listener = {
    onResponseCreated: (id) => {
      log.responses.push({ id, createdAt: scope.now(), header: false, bytes: 0 });
      scope.poke();
    },
    onAudio: (chunk) => {
      const response = current();
      if (!response) return;
      if (response.firstDeltaAt === undefined) {
        response.firstDeltaAt = scope.now();
        response.header = startsWithSegmentHeader(chunk);
      }
      response.bytes += chunk.length;
      scope.poke();
    },
    onResponseDone: (result) => {
      const response = current();
      if (response) response.done = result;
      scope.poke();
    },
    onCommitted: () => {
      log.committed += 1;
      scope.poke();
    },
    onError: (err) => {
      log.errors.push(err);
      scope.poke();
    },
    onSessionFinished: () => {
      log.finished = true;
      scope.poke();
    },
    onClosed: (err) => {
      log.closed = { err, at: scope.now() };
      scope.poke();
    },
  };
  return log;
}

/**
 * Waits until the service has said all it will about text just sent: first for a response after
 * the `since` already in the log (up to `limitMs`: a distant or slow service answers late, and a
 * quiet moment before its first response says nothing), then until no response is streaming and
 * none has started for `quietMs` (service time). Resolves false when no response came at all.
 */
export async function settle(scope: ProbeScope, log: QwenLog, quietMs: number, limitMs: number, since: number): Promise<boolean> {
  const deadline = scope.now() + limitMs * scope.ctx.timeScale;
  if (!(await scope.until(limitMs, () => log.responses.length > since || log.closed !== undefined))) return false;
  while (scope.now() < deadline && !log.closed) {
    const before = log.responses.length;
    await scope.until(limitMs, () => log.closed !== undefined || log.responses.every((r) => r.done));
    const changed = await scope.until(quietMs, () => log.responses.length !== before || log.closed !== undefined);
    if (!changed && log.responses.every((r) => r.done)) break;
  }
  return log.responses.length > since;
}

/** session.finish, then the end of the session (session.finished and the close). */
export async function finishSession(scope: ProbeScope, log: QwenLog, ms = 20_000): Promise<void> {
  log.session.finish();
  await scope.until(ms, () => log.closed !== undefined);
}
