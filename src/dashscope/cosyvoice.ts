import type WebSocket from 'ws';
import { closedError, DashScopeError, serviceError, timeoutError } from './errors';
import { newTaskId } from './ids';
import { parseJsonFrame } from './socket';
import { billedLength, isBlank, splitByBilledLength } from './text';

import type { AudioFormat } from '../audio/audio-message';

/** The run-task parameters this package sets; names follow the service's wire names in camelCase. */
export interface CosyVoiceTaskParams {
  model: string;
  voice: string;
  format: AudioFormat;
  sampleRate: number;
  volume?: number;
  rate?: number;
  pitch?: number;
  bitRate?: number;
  seed?: number;
  languageHints?: string[];
  instruction?: string;
  enableSsml?: boolean;
  wordTimestamps?: boolean;
}

export interface WordTimestamp {
  text: string;
  beginIndex: number;
  endIndex: number;
  beginTime: number;
  endTime: number;
}

export interface SentenceResult {
  index: number;
  text?: string;
  words: WordTimestamp[];
}

export interface TaskResult {
  taskId: string;
  requestId?: string;
  characters: number;
  audioBytes: number;
  sentences: SentenceResult[];
}

export interface TaskHandlers {
  /** One binary frame, exactly as received: never copied. */
  onAudio(chunk: Buffer): void;
  onFinished(result: TaskResult): void;
  onFailed(err: DashScopeError): void;
  onStarted?(): void;
  /**
   * A sentence's audio begins (sentence-begin); `firstOfTask` for the task's first. Whether a
   * wav/mp3 header may lead a later one is not documented: docs/protocol.md "CosyVoice: audio containers".
   */
  onSentenceBegin?(firstOfTask: boolean): void;
  onSentenceEnd?(sentence: SentenceResult): void;
}

export interface CosyVoiceLimits {
  /** Billed characters per continue-task (service: 20 000). */
  maxCharsPerMessage: number;
  /** Billed characters per task (service: 200 000). */
  maxCharsPerTask: number;
  /** How long to wait for task-started. */
  startTimeoutMs: number;
  /** After finish-task, the longest silence from the server before the task is given up. */
  finishTimeoutMs: number;
  /**
   * The service fails a task 23 s after the client's last instruction, however much audio it is
   * still sending. A task the client has sent nothing for this long is finished by the client
   * (onIdleFinish tells its owner) so that never happens.
   */
  idleFinishMs: number;
}

export const COSYVOICE_LIMITS: CosyVoiceLimits = {
  maxCharsPerMessage: 20_000,
  maxCharsPerTask: 200_000,
  startTimeoutMs: 10_000,
  finishTimeoutMs: 30_000,
  idleFinishMs: 20_000,
};

type TaskState = 'starting' | 'running' | 'finishing' | 'done';

const PARAM_NAMES: Record<Exclude<keyof CosyVoiceTaskParams, 'model' | 'languageHints'>, string> = {
  voice: 'voice',
  format: 'format',
  sampleRate: 'sample_rate',
  volume: 'volume',
  rate: 'rate',
  pitch: 'pitch',
  bitRate: 'bit_rate',
  seed: 'seed',
  instruction: 'instruction',
  enableSsml: 'enable_ssml',
  wordTimestamps: 'word_timestamp_enabled',
};

function runTaskMessage(taskId: string, params: CosyVoiceTaskParams): string {
  const parameters: Record<string, unknown> = { text_type: 'PlainText' };
  for (const [key, wire] of Object.entries(PARAM_NAMES) as [keyof typeof PARAM_NAMES, string][]) {
    const value = params[key];
    if (value !== undefined && value !== '') parameters[wire] = value;
  }
  if (params.languageHints && params.languageHints.length > 0) parameters.language_hints = params.languageHints;
  return JSON.stringify({
    header: { action: 'run-task', task_id: taskId, streaming: 'duplex' },
    payload: { task_group: 'audio', task: 'tts', function: 'SpeechSynthesizer', model: params.model, parameters, input: {} },
  });
}

function continueTaskMessage(taskId: string, text: string): string {
  return JSON.stringify({
    header: { action: 'continue-task', task_id: taskId, streaming: 'duplex' },
    payload: { input: { text } },
  });
}

function finishTaskMessage(taskId: string): string {
  return JSON.stringify({ header: { action: 'finish-task', task_id: taskId, streaming: 'duplex' }, payload: { input: {} } });
}

/**
 * The frames the client itself sends, for a tool that must send one the client never would (the
 * live check's blank continue-task and second run-task: src/live-check/probes/) through
 * `CosyVoiceConnection.send`, so it speaks exactly the client's wire format.
 */
export const cosyVoiceMessages = { runTask: runTaskMessage, continueTask: continueTaskMessage, finishTask: finishTaskMessage } as const;

/**
 * The continue-task texts for one piece of text. A piece the per-message cut left blank (only a
 * whitespace run longer than a whole message can give one) is dropped: the cut before it fell
 * after a break character, so no words run together (docs/protocol.md "CosyVoice: text messages").
 */
function messagePieces(text: string, maxBilled: number): string[] {
  const pieces = splitByBilledLength(text, maxBilled);
  return pieces.length === 1 ? pieces : pieces.filter((p) => !isBlank(p));
}

function readWords(raw: unknown): WordTimestamp[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((w: Record<string, unknown>) => ({
    text: String(w.text ?? ''),
    beginIndex: Number(w.begin_index ?? 0),
    endIndex: Number(w.end_index ?? 0),
    beginTime: Number(w.begin_time ?? 0),
    endTime: Number(w.end_time ?? 0),
  }));
}

/**
 * One synthesis task on a CosyVoice connection. Text may be sent before task-started arrives: it
 * is held and sent the moment the service allows it, so callers never wait for the handshake.
 */
export class CosyVoiceTask {
  readonly id = newTaskId();
  private state: TaskState = 'starting';
  private pending: string[] = [];
  private finishRequested = false;
  private billedSoFar = 0;
  private sentencesBegun = 0;
  private messagesSent = 0;
  private audioBytes = 0;
  private characters = 0;
  private readonly sentences = new Map<number, SentenceResult>();
  private watchdog: NodeJS.Timeout | undefined;
  /**
   * When the client last sent this task an instruction: the only clock the service's 23 s limit
   * counts (docs/protocol.md "CosyVoice: timeouts"). Server events never reset it.
   */
  private lastSent = Date.now();
  /** When the service last sent an event for this task: after finish-task, silence means it is gone. */
  private lastHeard = Date.now();
  /**
   * Whitespace not sent yet: a blank continue-task may fail the task (docs/protocol.md "CosyVoice:
   * text messages"), so it goes out in front of the next text that is not blank, or not at all.
   */
  private heldBlank = '';
  /** Called when the client finished the task itself because no text came for idleFinishMs. */
  onIdleFinish: (() => void) | undefined;

  constructor(
    private readonly connection: CosyVoiceConnection,
    readonly params: CosyVoiceTaskParams,
    private handlers: TaskHandlers,
    private readonly limits: CosyVoiceLimits,
  ) {}

  /** Hands a task started ahead of its text to the utterance that will use it. */
  retarget(handlers: TaskHandlers): void {
    this.handlers = handlers;
  }

  /** task-started has arrived: text goes straight to synthesis. */
  get started(): boolean {
    return this.state === 'running';
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  /** sendText() would take text: not finishing (finish-task asked for or sent) and not over. */
  get acceptsText(): boolean {
    return !this.finishRequested && this.state !== 'done';
  }

  get receivedAudioBytes(): number {
    return this.audioBytes;
  }

  /** Sends run-task; called by the connection (possibly later, when a rate limiter allows it). */
  start(): void {
    this.connection.send(runTaskMessage(this.id, this.params));
    this.lastSent = Date.now();
    this.arm(this.limits.startTimeoutMs);
  }

  /**
   * Appends text to the task. Splits anything over the per-message limit; whitespace alone waits
   * for the next text (see heldBlank).
   */
  sendText(text: string): void {
    if (this.finishRequested || this.state === 'done') throw new Error('cannot add text to a task that is finishing');
    if (text.length === 0) return;
    const weight = billedLength(text, this.params.enableSsml === true);
    if (this.billedSoFar + weight > this.limits.maxCharsPerTask) {
      throw new RangeError(`a task takes at most ${this.limits.maxCharsPerTask} characters`);
    }
    if (this.params.enableSsml && this.messagesSent + this.pending.length > 0) {
      throw new RangeError('an SSML task takes exactly one text message');
    }
    this.billedSoFar += weight;
    if (isBlank(text)) {
      this.heldBlank += text;
      return;
    }
    const whole = this.heldBlank.length > 0 ? this.heldBlank + text : text;
    this.heldBlank = '';
    const pieces = this.params.enableSsml ? [whole] : messagePieces(whole, this.limits.maxCharsPerMessage);
    if (this.state === 'starting') {
      this.pending.push(...pieces);
      return;
    }
    for (const piece of pieces) this.connection.send(continueTaskMessage(this.id, piece));
    this.messagesSent += pieces.length;
    this.lastSent = Date.now();
  }

  /** No more text: the service synthesizes its buffered tail and ends with task-finished. */
  finish(): void {
    if (this.finishRequested || this.state === 'done') return;
    this.finishRequested = true;
    if (this.state === 'running') this.sendFinish();
  }

  /** Characters accepted so far (billing rule), for callers that roll over to a new task. */
  get billedCharacters(): number {
    return this.billedSoFar;
  }

  private sendFinish(): void {
    this.state = 'finishing';
    this.heldBlank = ''; // trailing whitespace: nothing to say (docs/protocol.md "CosyVoice: text messages")
    this.connection.send(finishTaskMessage(this.id));
    this.lastSent = this.lastHeard = Date.now();
    this.arm(this.limits.finishTimeoutMs);
  }

  /** One watchdog timer per task, re-armed lazily: no timer work per text message. */
  private arm(ms: number): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.onWatchdog(), ms);
    this.watchdog.unref?.();
  }

  private onWatchdog(): void {
    const now = Date.now();
    if (this.state === 'starting') {
      this.fail(timeoutError('StartTimeout', `task-started did not arrive within ${this.limits.startTimeoutMs} ms`), true);
      return;
    }
    if (this.state === 'finishing') {
      const silent = now - this.lastHeard;
      if (silent >= this.limits.finishTimeoutMs) {
        this.fail(timeoutError('ResponseTimeout', `the service sent nothing for ${silent} ms after finish-task`), true);
      } else this.arm(this.limits.finishTimeoutMs - silent);
      return;
    }
    if (this.state === 'running') {
      const idle = now - this.lastSent;
      if (idle >= this.limits.idleFinishMs) {
        this.finish();
        this.onIdleFinish?.();
      } else this.arm(this.limits.idleFinishMs - idle);
    }
  }

  /** @internal connection → task dispatch */
  handleEvent(event: string, header: Record<string, unknown>, payload: Record<string, unknown>): void {
    this.lastHeard = Date.now();
    switch (event) {
      case 'task-started': {
        if (this.state !== 'starting') return;
        this.state = 'running';
        if (this.pending.length > 0) {
          for (const piece of this.pending) this.connection.send(continueTaskMessage(this.id, piece));
          this.messagesSent += this.pending.length;
          this.pending = [];
          this.lastSent = this.lastHeard;
        }
        this.handlers.onStarted?.();
        if (this.finishRequested) this.sendFinish();
        // The service's clock started with run-task, not with task-started (docs/protocol.md "CosyVoice: timeouts").
        else this.arm(Math.max(0, this.limits.idleFinishMs - (this.lastHeard - this.lastSent)));
        return;
      }
      case 'result-generated':
        this.onResult(payload);
        return;
      case 'task-finished':
        this.onTaskFinished(header, payload);
        return;
      case 'task-failed': {
        const attributes = (header.attributes ?? {}) as Record<string, unknown>;
        this.fail(
          serviceError('task', String(header.error_code ?? ''), String(header.error_message ?? ''), {
            taskId: this.id,
            requestId: typeof attributes.request_uuid === 'string' ? attributes.request_uuid : undefined,
          }),
          false,
        );
        return;
      }
      default:
        return; // unknown events are tolerated, as the service may add some
    }
  }

  /** @internal */
  handleAudio(chunk: Buffer): void {
    if (this.state === 'done') return;
    this.audioBytes += chunk.length;
    this.handlers.onAudio(chunk);
  }

  private onResult(payload: Record<string, unknown>): void {
    const output = payload.output as Record<string, unknown> | undefined;
    const usage = payload.usage as Record<string, unknown> | undefined;
    if (usage && typeof usage.characters === 'number') this.characters = usage.characters;
    if (output?.type === 'sentence-begin') this.handlers.onSentenceBegin?.(this.sentencesBegun++ === 0);
    if (!output || output.type !== 'sentence-end') return;
    this.recordSentence(output);
  }

  private recordSentence(output: Record<string, unknown>): SentenceResult | undefined {
    const raw = output.sentence as Record<string, unknown> | undefined;
    if (!raw) return undefined;
    const index = typeof raw.index === 'number' ? raw.index : this.sentences.size;
    const words = readWords(raw.words);
    const known = this.sentences.get(index);
    // Timestamps may come in sentence-end or in task-finished (docs disagree): keep the fullest.
    const sentence: SentenceResult = {
      index,
      text: typeof output.original_text === 'string' ? output.original_text : known?.text,
      words: words.length >= (known?.words.length ?? 0) ? words : (known as SentenceResult).words,
    };
    this.sentences.set(index, sentence);
    if (!known) this.handlers.onSentenceEnd?.(sentence);
    return sentence;
  }

  private onTaskFinished(header: Record<string, unknown>, payload: Record<string, unknown>): void {
    const usage = payload.usage as Record<string, unknown> | undefined;
    if (usage && typeof usage.characters === 'number') this.characters = usage.characters;
    const output = payload.output as Record<string, unknown> | undefined;
    const lastSentence = output?.sentence as Record<string, unknown> | undefined;
    if (lastSentence && readWords(lastSentence.words).length > 0) this.recordSentence(output as Record<string, unknown>);
    const attributes = (header.attributes ?? {}) as Record<string, unknown>;
    this.settle();
    this.connection.taskEnded(this, true);
    this.handlers.onFinished({
      taskId: this.id,
      requestId: typeof attributes.request_uuid === 'string' ? attributes.request_uuid : undefined,
      characters: this.characters,
      audioBytes: this.audioBytes,
      sentences: [...this.sentences.values()].sort((a, b) => a.index - b.index),
    });
  }

  /** @internal Ends the task with an error; `closeSocket` when the server may still be mid-task. */
  fail(err: DashScopeError, closeSocket: boolean): void {
    if (this.state === 'done') return;
    this.settle();
    this.connection.taskEnded(this, false);
    if (closeSocket) this.connection.close(1000);
    this.handlers.onFailed(err);
  }

  /** Stops at once: no more audio is delivered, and the socket is closed (the only reliable barge-in). */
  cancel(): void {
    if (this.state === 'done') return;
    this.settle();
    this.connection.taskEnded(this, false);
    this.connection.close(1000);
  }

  private settle(): void {
    this.state = 'done';
    this.pending = [];
    this.heldBlank = '';
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }
}

export type ConnectionListener = (connection: CosyVoiceConnection) => void;

/**
 * A CosyVoice WebSocket: one task at a time, any number of tasks one after another. It knows
 * whether it may carry another task (`reusable`) and tells its owner when it closes.
 */
export class CosyVoiceConnection {
  private task: CosyVoiceTask | undefined;
  /**
   * The task the next binary frame belongs to: the task of the last event, or none when that
   * event named another task id. A binary frame carries no id; it belongs to the sentence-synthesis
   * event before it (docs/protocol.md "CosyVoice: framing").
   */
  private audioTask: CosyVoiceTask | undefined;
  private open = true;
  private healthy = true;
  private closeListeners: ConnectionListener[] = [];
  private idleListeners: ConnectionListener[] = [];
  /** When the last task ended (or the socket opened): the service closes 60 s after this. */
  idleSince = Date.now();
  tasksRun = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: CosyVoiceLimits = COSYVOICE_LIMITS,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.handleSocketClose(code, reason.toString('utf8')));
    ws.on('error', () => undefined); // 'close' always follows and carries the outcome
  }

  get busy(): boolean {
    return this.task !== undefined;
  }

  /** Open, idle and never failed: safe to run another task on. */
  get reusable(): boolean {
    return this.open && this.healthy && this.task === undefined;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Called once when the socket closes, for whatever reason. */
  onClose(listener: ConnectionListener): void {
    this.closeListeners.push(listener);
  }

  private handleSocketClose(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.healthy = false;
    const task = this.task;
    // The code and reason say whether to try again: a rate limit may come as a close (docs/protocol.md "CosyVoice: rate limit").
    if (task) task.fail(closedError('task', code, 'the connection closed before the task finished', task.id, reason), false);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    this.idleListeners = [];
    for (const l of listeners) l(this);
  }

  /** Called each time a task ends and the connection is idle again. */
  onIdle(listener: ConnectionListener): void {
    this.idleListeners.push(listener);
  }

  /**
   * Creates a task. `start` false leaves run-task unsent until task.start() is called, so a rate
   * limiter can decide when; text sent meanwhile is held.
   */
  runTask(params: CosyVoiceTaskParams, handlers: TaskHandlers, start = true): CosyVoiceTask {
    if (!this.reusable) throw new Error(this.open ? 'connection is busy or failed' : 'connection is closed');
    const task = new CosyVoiceTask(this, params, handlers, this.limits);
    this.task = task;
    this.tasksRun++;
    if (start) task.start();
    return task;
  }

  /** @internal */
  send(data: string): void {
    if (this.open) this.ws.send(data);
  }

  /** @internal */
  taskEnded(task: CosyVoiceTask, clean: boolean): void {
    if (this.task !== task) return;
    this.task = undefined;
    this.audioTask = undefined;
    if (!clean) this.healthy = false;
    this.idleSince = Date.now();
    if (clean && this.open) for (const l of this.idleListeners) l(this);
  }

  close(code = 1000): void {
    if (!this.open) return;
    this.healthy = false;
    try {
      this.ws.close(code);
    } catch {
      this.ws.terminate();
    }
    // A close handshake that never completes must not keep the socket (and the process) alive.
    const force = setTimeout(() => this.ws.terminate(), 2000);
    force.unref?.();
    this.ws.once('close', () => clearTimeout(force));
  }

  /** Immediate teardown without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.audioTask?.handleAudio(data);
      return;
    }
    const message = parseJsonFrame(data);
    const header = message?.header as Record<string, unknown> | undefined;
    if (!message || !header || typeof header.event !== 'string') {
      this.protocolFailure('the service sent a malformed event');
      return;
    }
    const task = this.task;
    // Another task's event (a late one of an ended task, or a stray): ignored, and so is its audio.
    this.audioTask = task && header.task_id === task.id ? task : undefined;
    if (this.audioTask) this.audioTask.handleEvent(header.event, header, (message.payload ?? {}) as Record<string, unknown>);
  }

  private protocolFailure(message: string): void {
    this.healthy = false;
    const task = this.task;
    const err = new DashScopeError({ code: 'ProtocolError', message, origin: 'protocol', retryable: true, taskId: task?.id });
    if (task) task.fail(err, true);
    else this.close(1000);
  }
}
