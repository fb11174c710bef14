/**
 * One CosyVoice WebSocket: the duplex-task state machine of cosyvoice.md §4 —
 * idle → (run-task) → starting → (task-started) → running → (finish-task) → finishing →
 * (task-finished) → idle; any task-failed closes the connection.
 */
import { randomUUID } from 'node:crypto';
import type { FaultQueue } from '../faults';
import type { JsonObject } from '../json';
import type { ResolvedOptions } from '../options';
import { PacedQueue, type PacedStep } from '../paced-queue';
import type { RollingRateLimiter } from '../rate-window';
import { sentenceFrames, type AudioShape } from '../sentence-audio';
import { splitSentences } from '../sentences';
import type { ClientFrame, SimConnection } from '../sim-connection';
import type { SimulatorStats } from '../stats';
import { billedCharacters, stripSsmlTags } from '../text-count';
import { TimerBag } from '../timer-bag';
import type { VoiceStore } from '../voice-store';
import { wordTimestamps } from '../word-timestamps';
import * as ev from './events';
import { parseInstruction, type Instruction } from './instruction-shape';
import { validateRunTask, type TaskSettings } from './run-task-validation';

export interface CosyVoiceEnv {
  options: ResolvedOptions;
  faults: FaultQueue;
  stats: SimulatorStats;
  voices: VoiceStore;
  rateLimiter: RollingRateLimiter;
  /** Called whenever the connection becomes idle (lets a pending idle-close fault strike). */
  onIdle: (session: CosyVoiceSession) => void;
}

type Phase = 'idle' | 'starting' | 'running' | 'finishing' | 'closing';

interface Task {
  id: string;
  settings: TaskSettings;
  shape: AudioShape;
  silent: boolean;
  failOnFirstText?: { code: string; message: string };
  buffer: string;
  nextIndex: number;
  billed: number;
  textChars: number;
  continues: number;
  headerPending: boolean;
  /** A stray-task-events fault waits for this task's first audio frame. */
  stray: boolean;
  prevFrameMs: number;
  last?: ev.LastSentence;
}

const MAX_CHARS_PER_CONTINUE = 20_000;
const MAX_CHARS_PER_TASK = 200_000;
const TIMEOUT_MESSAGE = 'request timeout after 23 seconds.';
const THROTTLE_CODE = 'Throttling.RateQuota';
const THROTTLE_MESSAGE = 'Requests rate limit exceeded, please try again later.';
/** RFC 6455 "Try Again Later": the close the 'close' throttle answer uses (§6.5, unconfirmed on WS). */
const CLOSE_TRY_AGAIN_LATER = 1013;

function invalidAction(action: string): string {
  return `Invalid action('${action}')! Please follow the protocol!`;
}

export class CosyVoiceSession {
  private phase: Phase = 'idle';
  private task: Task | undefined;
  private readonly usedTaskIds = new Set<string>();
  private readonly queue = new PacedQueue();
  private readonly timers = new TimerBag();
  private cancelGap: () => void = () => undefined;
  private cancelIdle: () => void = () => undefined;

  constructor(
    readonly conn: SimConnection,
    private readonly env: CosyVoiceEnv,
  ) {
    conn.onFrame((f) => this.onFrame(f));
    conn.onClose(() => this.dispose());
    this.becomeIdle();
  }

  isIdle(): boolean {
    return this.phase === 'idle' && this.conn.isOpen;
  }

  /** The 60 s idle close (also used by the idle-close fault). */
  idleClose(): void {
    if (this.phase !== 'idle') return;
    this.shutdown();
    this.conn.close(1000, 'connection idle timeout');
  }

  dispose(): void {
    this.phase = 'closing';
    this.queue.dispose();
    this.timers.clearAll();
  }

  private shutdown(): void {
    this.phase = 'closing';
    this.task = undefined;
    this.queue.clear();
    this.timers.clearAll();
  }

  private onFrame(frame: ClientFrame): void {
    if (this.phase === 'closing') return;
    if (frame.binary) return this.protocolClose('binary frames are not accepted');
    const parsed = parseInstruction(frame.text);
    if (!parsed.ok) return this.protocolClose(parsed.reason);
    const ins = parsed.instruction;
    switch (ins.action) {
      case 'run-task':
        return this.runTask(ins);
      case 'continue-task':
        return this.continueTask(ins);
      case 'finish-task':
        return this.finishTask(ins);
      default:
        return this.failTask(ins.taskId, 'InvalidParameter', invalidAction(ins.action));
    }
  }

  /** §6.5: malformed instructions are answered with close code 1007, not an event. */
  private protocolClose(reason: string): void {
    this.shutdown();
    this.conn.close(1007, reason.slice(0, 120));
  }

  private failTask(taskId: string, code: string, message: string): void {
    if (this.phase === 'closing') return;
    this.shutdown();
    this.conn.sendEvent(ev.taskFailed(taskId, code, message));
    this.env.stats.tasks.failed += 1;
    this.conn.close(1000, 'task failed');
  }

  /** A run-task beyond the account's rate, refused the way `throttleAnswer` says. */
  private throttle(taskId: string): void {
    if (this.env.options.cosyvoice.throttleAnswer === 'task-failed') return this.failTask(taskId, THROTTLE_CODE, THROTTLE_MESSAGE);
    this.shutdown();
    this.env.stats.tasks.failed += 1;
    this.conn.close(CLOSE_TRY_AGAIN_LATER, `${THROTTLE_CODE}: ${THROTTLE_MESSAGE}`);
  }

  private becomeIdle(): void {
    this.phase = 'idle';
    this.task = undefined;
    this.cancelIdle();
    this.cancelIdle = this.timers.after(this.env.options.cosyvoice.idleCloseMs, () => this.idleClose());
    this.env.onIdle(this);
  }

  private armGapTimer(task: Task): void {
    this.cancelGap();
    this.cancelGap = this.timers.after(this.env.options.cosyvoice.taskTimeoutMs, () =>
      this.failTask(task.id, this.env.options.cosyvoice.timeoutErrorCode, TIMEOUT_MESSAGE),
    );
  }

  private runTask(ins: Instruction): void {
    const { faults, options, stats } = this.env;
    if (this.phase !== 'idle') {
      if (options.cosyvoice.runTaskWhileRunning === 'reject') return this.failTask(ins.taskId, 'InvalidParameter', invalidAction('run-task'));
      // 'replace': the running task ends silently, its remaining audio is dropped (§5.4).
      this.queue.clear();
      this.cancelGap();
      this.task = undefined;
    }
    this.cancelIdle();
    if (this.usedTaskIds.has(ins.taskId)) {
      return this.failTask(ins.taskId, 'InvalidParameter', `Duplicate task_id '${ins.taskId}'! Please follow the protocol!`);
    }
    this.usedTaskIds.add(ins.taskId);

    const injected = faults.take('fail-task', (f) => (f.after ?? 'run-task') === 'run-task');
    if (injected) return this.failTask(ins.taskId, injected.code, injected.message);
    if (!this.env.rateLimiter.tryAcquire(this.conn.info.apiKey)) return this.throttle(ins.taskId);
    const v = validateRunTask(ins.payload, this.env.voices);
    if (!v.ok) return this.failTask(ins.taskId, v.code, v.message);

    const settings = v.settings;
    const later = faults.take('fail-task', (f) => f.after === 'first-text');
    const task: Task = {
      id: ins.taskId,
      settings,
      shape: { voice: settings.voice, sampleRate: settings.sampleRate, format: settings.format, chunkMs: options.chunkMs },
      silent: settings.silent || faults.take('empty-audio') !== undefined,
      failOnFirstText: later ? { code: later.code, message: later.message } : undefined,
      buffer: '',
      nextIndex: 0,
      billed: 0,
      textChars: 0,
      continues: 0,
      headerPending: true,
      stray: faults.take('stray-task-events') !== undefined,
      prevFrameMs: 0,
    };
    this.task = task;
    this.phase = 'starting';
    const delay = faults.take('delay-task-started');
    this.queue.push({
      notBefore: delay ? Date.now() + delay.ms : undefined,
      tag: task.id,
      run: () => {
        this.conn.sendEvent(ev.taskStarted(task.id));
        stats.tasks.started += 1;
        this.phase = 'running';
        this.armGapTimer(task);
        if (settings.initialText) this.acceptText(task, settings.initialText);
      },
    });
  }

  /** Common guard of continue-task / finish-task (§4 rules 2 and 3). */
  private runningTaskFor(ins: Instruction): Task | undefined {
    const task = this.task;
    if (!task || this.phase === 'idle') {
      this.failTask(ins.taskId, 'InvalidParameter', invalidAction(ins.action));
      return undefined;
    }
    if (ins.taskId !== task.id) {
      this.failTask(task.id, 'InvalidParameter', `task_id '${ins.taskId}' does not match the running task! Please follow the protocol!`);
      return undefined;
    }
    if (this.phase === 'starting') {
      this.failTask(task.id, 'InvalidParameter', `${invalidAction(ins.action)} (task not started yet)`);
      return undefined;
    }
    if (this.phase === 'finishing') {
      this.failTask(task.id, 'InvalidParameter', invalidAction(ins.action));
      return undefined;
    }
    return task;
  }

  private continueTask(ins: Instruction): void {
    const task = this.runningTaskFor(ins);
    if (!task) return;
    const input = ins.payload.input as JsonObject;
    const flush = input.flush === true;
    const text = input.text;
    if (text === undefined && flush) {
      this.armGapTimer(task);
      return this.flushTail(task);
    }
    if (typeof text !== 'string' || text === '' || (this.env.options.cosyvoice.blankContinueTask === 'fail' && text.trim() === '')) {
      return this.failTask(task.id, 'InvalidParameter', 'Please ensure input text is valid.');
    }
    if (task.failOnFirstText) return this.failTask(task.id, task.failOnFirstText.code, task.failOnFirstText.message);
    task.continues += 1;
    if (task.settings.enableSsml && task.continues > 1) return this.failTask(task.id, 'InvalidParameter', 'Text request limit violated, expected 1.');
    const count = billedCharacters(task.settings.enableSsml ? stripSsmlTags(text) : text);
    if (count > MAX_CHARS_PER_CONTINUE) {
      return this.failTask(task.id, 'InvalidParameter', `Text length ${count} exceeds the limit of ${MAX_CHARS_PER_CONTINUE} characters per request.`);
    }
    task.textChars += count;
    if (task.textChars > MAX_CHARS_PER_TASK) {
      return this.failTask(task.id, 'InvalidParameter', `Text length exceeds the limit of ${MAX_CHARS_PER_TASK} characters per task.`);
    }
    this.armGapTimer(task);
    this.acceptText(task, text);
    if (flush) this.flushTail(task);
  }

  private finishTask(ins: Instruction): void {
    const task = this.runningTaskFor(ins);
    if (!task) return;
    this.cancelGap();
    this.phase = 'finishing';
    const input = ins.payload.input as JsonObject;
    if (input.directive === 'cancel') {
      // Java's cancel variant (§5.3, behaviour unconfirmed): drop what is not sent yet.
      this.queue.drop(task.id);
      task.buffer = '';
    } else {
      this.flushTail(task);
    }
    const { wordsIn } = this.env.options.cosyvoice;
    const last = wordsIn !== 'sentence-end' && task.settings.wordTimestamps ? task.last : undefined;
    const billed = task.billed;
    this.queue.push({
      tag: `${task.id}:end`,
      run: () => {
        this.conn.sendEvent(ev.taskFinished(task.id, randomUUID(), billed, last));
        this.env.stats.tasks.finished += 1;
        this.becomeIdle();
      },
    });
  }

  private acceptText(task: Task, text: string): void {
    task.buffer += task.settings.enableSsml ? stripSsmlTags(text) : text;
    const { sentences, rest } = splitSentences(task.buffer, this.env.options.cosyvoice.sentenceTerminators);
    task.buffer = rest;
    for (const s of sentences) this.enqueueSentence(task, s);
  }

  private flushTail(task: Task): void {
    if (!task.buffer) return;
    const tail = task.buffer;
    task.buffer = '';
    this.enqueueSentence(task, tail);
  }

  /** §6.2: sentence-begin, N × (sentence-synthesis + binary), sentence-end with cumulative usage. */
  private enqueueSentence(task: Task, sentence: string): void {
    if (task.silent) return;
    const { firstAudioLatencyMs, realTimeFactor, cosyvoice } = this.env.options;
    const index = task.nextIndex++;
    const sentenceChars = billedCharacters(sentence);
    task.billed += sentenceChars;
    this.env.stats.billedCharacters += sentenceChars;
    const billed = task.billed;
    const words = task.settings.wordTimestamps ? wordTimestamps(sentence) : [];
    task.last = { index, words };
    const frames = sentenceFrames(sentence, task.shape, task.headerPending || cosyvoice.containerHeaders === 'per-sentence');
    task.headerPending = false;
    const readyAt = Date.now();
    const steps: PacedStep[] = frames.map((frame, i) => ({
      tag: task.id,
      notBefore: i === 0 ? readyAt + firstAudioLatencyMs : undefined,
      gapMs: (i === 0 ? task.prevFrameMs : (frames[i - 1]?.durationMs ?? 0)) * realTimeFactor,
      run: () => {
        if (i === 0) this.conn.sendEvent(ev.sentenceBegin(task.id, index, sentence));
        const alive = this.conn.emitAudioFrame(() => {
          this.conn.sendEvent(ev.sentenceSynthesis(task.id, index));
          this.conn.sendBinary(frame.data);
        });
        if (!alive) this.shutdown();
      },
    }));
    if (task.stray && steps.length > 0) {
      task.stray = false;
      steps.splice(1, 0, { tag: task.id, run: () => this.sendStrayEvents() });
    }
    task.prevFrameMs = frames[frames.length - 1]?.durationMs ?? 0;
    const endWords = cosyvoice.wordsIn === 'task-finished' ? [] : words;
    steps.push({ tag: task.id, run: () => this.conn.sendEvent(ev.sentenceEnd(task.id, index, sentence, endWords, billed)) });
    this.queue.push(...steps);
  }

  /**
   * The stray-task-events fault: a whole task's worth of events under another task id, audio frame
   * included, in the middle of this task's audio. A client must ignore all of it (§4 rule 3: events
   * carry the task id they belong to; the binary frame belongs to the sentence-synthesis before it).
   */
  private sendStrayEvents(): void {
    const stranger = randomUUID().replace(/-/g, '');
    this.conn.sendEvent(ev.sentenceBegin(stranger, 0, 'stray'));
    this.conn.sendEvent(ev.sentenceSynthesis(stranger, 0));
    this.conn.sendBinary(Buffer.alloc(640, 0x5a));
    this.conn.sendEvent(ev.sentenceEnd(stranger, 0, 'stray', [], 5));
    this.conn.sendEvent(ev.taskFinished(stranger, randomUUID(), 5));
    this.conn.sendEvent(ev.taskFailed(stranger, 'InvalidParameter', 'a stray event of another task'));
  }
}
