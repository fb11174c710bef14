/**
 * CosyVoice conversations for the probes, through the package's own client
 * (src/dashscope/cosyvoice.ts): a connection opened with the run's tap, and tasks whose every
 * outcome is written down (times on the service's clock, frames, container headers, sentences,
 * the result or the error) for a classifier to read.
 */
import { COSYVOICE_LIMITS, CosyVoiceConnection, type CosyVoiceLimits, type CosyVoiceTask, type CosyVoiceTaskParams, type TaskResult } from '../../dashscope/cosyvoice';
import type { Credentials } from '../../dashscope/auth';
import type { DashScopeError } from '../../dashscope/errors';
import { openSocket } from '../../dashscope/socket';
import { startsWithSegmentHeader } from '../../audio/container-header';
import type { ProbeContext } from '../probe';
import type { ProbeScope } from './scope';
import { watchNextSocket, type SocketWatcher } from './watch-tap';

/** The connect timeout (service time); a guard, not a measurement, so it never drops below a second. */
const CONNECT_MS = 10_000;

export function guardMs(scope: { readonly ctx: Pick<ProbeContext, 'timeScale'> }, ms: number): number {
  return Math.max(1000, ms * scope.ctx.timeScale);
}

export interface CosyVoiceLink {
  connection: CosyVoiceConnection;
  /** `scope.now()` when the connect began and when the socket opened. */
  connectAt: number;
  openedAt: number;
  /** Set when the socket closed (whoever closed it). */
  closed?: { code: number; reason: string; at: number };
}

export interface OpenCosyVoiceOptions {
  watcher?: SocketWatcher;
  /** Another key than the run's (the bad-key probe's made-up one). */
  credentials?: Credentials;
  /** The client's own limits; a probe that must outwait the service's clocks lengthens the client's. */
  limits?: CosyVoiceLimits;
}

/** Opens a CosyVoice socket as the package does, kept by the scope until the probe ends. */
export async function openCosyVoice(scope: ProbeScope, options: OpenCosyVoiceOptions = {}): Promise<CosyVoiceLink> {
  scope.check(); // before the connect starts: an aborted run opens nothing
  const { ctx } = scope;
  const connectAt = scope.now();
  // The close may be seen by the tap before the link exists (a close during the upgrade): held here until then.
  let early: CosyVoiceLink['closed'];
  let link: CosyVoiceLink | undefined;
  const noteClose = (code: number, reason: string): void => {
    const at = scope.now();
    if (link) link.closed ??= { code, reason, at };
    else early ??= { code, reason, at };
    scope.poke();
  };
  const watcher: SocketWatcher = {
    ...options.watcher,
    closed: (code, reason) => {
      options.watcher?.closed?.(code, reason);
      noteClose(code, reason);
    },
  };
  const tap = watchNextSocket(ctx.tap, watcher);
  const limits = options.limits ?? COSYVOICE_LIMITS;
  const connection = await scope.opening(
    openSocket(ctx.endpoints.cosyvoiceWs, options.credentials ?? ctx.credentials, { connectTimeoutMs: guardMs(scope, CONNECT_MS), tap }, (ws) => new CosyVoiceConnection(ws, limits)),
  );
  link = { connection, connectAt, openedAt: scope.now(), ...(early ? { closed: early } : {}) };
  connection.onClose(() => noteClose(1006, ''));
  return link;
}

/** Everything one task did, as it happened. */
export interface TaskRecord {
  task: CosyVoiceTask;
  /** `scope.now()` at run-task, task-started, the first binary frame. */
  runTaskAt: number;
  startedAt?: number;
  /** `scope.now()` when the probe asked for finish-task (the client sends it at once, or at task-started). */
  finishAt?: number;
  firstAudioAt?: number;
  frames: number;
  audioBytes: number;
  /** Binary frames that begin with a container header (RIFF/WAVE or an ID3 tag). */
  headers: number;
  sentencesBegun: number;
  result?: TaskResult;
  error?: DashScopeError;
  /** task-finished or a failure: nothing more will come. */
  ended: boolean;
  endedAt?: number;
}

/** Sends run-task for `params` on the link once the account's start rate allows it; text and finish are the caller's. */
export async function startTask(scope: ProbeScope, link: CosyVoiceLink, params: CosyVoiceTaskParams): Promise<TaskRecord> {
  await scope.paceStart();
  return startTaskNow(scope, link, params);
}

/** Sends run-task at once, whatever the rate (the caller counts it with `scope.noteStart`). */
export function startTaskNow(scope: ProbeScope, link: CosyVoiceLink, params: CosyVoiceTaskParams): TaskRecord {
  // What the task's events fill in; the record is this plus the task, once runTask returned it.
  const seen: Omit<TaskRecord, 'task'> = { runTaskAt: scope.now(), frames: 0, audioBytes: 0, headers: 0, sentencesBegun: 0, ended: false };
  scope.model = params.model;
  const task = link.connection.runTask(params, {
    onStarted: () => {
      seen.startedAt = scope.now();
      scope.poke();
    },
    onAudio: (chunk) => {
      seen.firstAudioAt ??= scope.now();
      seen.frames += 1;
      seen.audioBytes += chunk.length;
      if (startsWithSegmentHeader(chunk)) seen.headers += 1;
      scope.poke();
    },
    onSentenceBegin: () => {
      seen.sentencesBegun += 1;
    },
    onFinished: (result) => {
      seen.result = result;
      seen.ended = true;
      seen.endedAt = scope.now();
      scope.poke();
    },
    onFailed: (err) => {
      seen.error = err;
      seen.ended = true;
      seen.endedAt = scope.now();
      scope.poke();
    },
  });
  // The same object, so what the callbacks write later is what the probe reads.
  return Object.assign(seen, { task });
}

/** How long a task may take to start (service time) before the probe gives up on it. */
export const START_MS = 10_000;

/** Waits for task-started (continue-task only after it: docs/protocol.md "CosyVoice: task lifecycle"); true when the task started and is still running. */
export async function awaitStarted(scope: ProbeScope, record: TaskRecord, ms = START_MS): Promise<boolean> {
  await scope.until(ms, () => record.startedAt !== undefined || record.ended);
  return record.startedAt !== undefined && !record.ended;
}

/** How long a short task may take to end after finish-task (service time) before the probe gives up on it. */
export const TASK_END_MS = 20_000;

/** Sends finish-task (the client holds it until task-started) and waits for the task to end. */
export async function finishTask(scope: ProbeScope, record: TaskRecord, ms = TASK_END_MS): Promise<boolean> {
  record.finishAt = scope.now();
  record.task.finish();
  return scope.until(ms, () => record.ended);
}

/** One whole utterance: run-task, the texts in order, finish-task, the end. */
export async function speak(scope: ProbeScope, link: CosyVoiceLink, params: CosyVoiceTaskParams, texts: readonly string[]): Promise<TaskRecord> {
  const record = await startTask(scope, link, params);
  for (const text of texts) record.task.sendText(text);
  await finishTask(scope, record);
  return record;
}

/** One line about how a task ended, for evidence. */
export function taskOutcome(record: TaskRecord): string {
  if (record.error) return describeError(record.error);
  if (record.result) return `task-finished, ${record.frames} audio frames, ${record.result.characters} characters billed`;
  return 'no end seen';
}

/** An error as evidence: the event or close, the code, the message (the service's words, never the key). */
export function describeError(err: DashScopeError): string {
  const close = err.closeCode !== undefined ? `, close ${err.closeCode}` : '';
  const status = err.status !== undefined ? `, HTTP ${err.status}` : '';
  return `${err.origin} ${err.code}${status}${close}: ${err.message}`;
}

/** A time (service ms) for evidence, or "none". */
export function ms(value: number | undefined): string {
  return value === undefined ? 'none' : `${Math.round(value)} ms`;
}
