import type { ConnectionManager, CosyVoiceLease } from '../connection/connection-manager';
import { COSYVOICE_LIMITS, type CosyVoiceTask, type CosyVoiceTaskParams, type SentenceResult, type TaskHandlers, type TaskResult } from '../dashscope/cosyvoice';
import { backoffDelay } from '../connection/backoff';
import { DashScopeError, isThrottling } from '../dashscope/errors';
import { billedLength, isBlank, splitByBilledLength } from '../dashscope/text';
import { describeAudio } from '../audio/audio-message';
import { ChunkEmitter, durationMs } from './chunk-emitter';
import type { UtteranceSummary } from './utterance';
import type { ActiveSpeech, SpeechEngine } from './speech-queue';
import type { TextListener, Utterance } from './utterance';

/** Output 2 for one finished utterance. */
export interface CosyVoiceSummary extends UtteranceSummary {
  taskIds: string[];
  requestIds: string[];
  characters: number;
  sentences?: SentenceResult[];
}

export function noAudioError(voice: string): DashScopeError {
  return new DashScopeError({
    code: 'NoAudio',
    message: `the service finished without audio: is the custom voice "${voice}" still deploying, or does it belong to another model?`,
    origin: 'task',
    retryable: false,
  });
}

/** Speaks utterances through CosyVoice tasks on sockets borrowed from the connection manager. */
export class CosyVoiceEngine implements SpeechEngine<CosyVoiceTaskParams> {
  constructor(
    private readonly manager: ConnectionManager,
    private readonly maxCharsPerTask = COSYVOICE_LIMITS.maxCharsPerTask,
  ) {}

  speak(utterance: Utterance<CosyVoiceTaskParams>, onOver: () => void): ActiveSpeech {
    const speech = new CosyVoiceSpeech(utterance, this.manager, this.maxCharsPerTask, onOver);
    utterance.attach(speech);
    return speech;
  }
}

/**
 * One utterance. Usually one task; more when the text passes the 200 000-character task limit or
 * when a stream pauses so long that the task had to be finished before the service's 23 s limit.
 * Tasks follow one another on the same socket, so their audio is never reordered.
 */
class CosyVoiceSpeech implements ActiveSpeech, TextListener {
  private lease: CosyVoiceLease | undefined;
  private acquiring = false;
  private task: CosyVoiceTask | undefined;
  private accepting = false;
  private pending: string[] = [];
  private taskText = '';
  private retried = false;
  private throttled = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private over = false;
  private readonly results: TaskResult[] = [];
  private readonly emitter: ChunkEmitter;
  /**
   * wav/mp3: a header may lead a task's later sentences too (undocumented; docs/protocol.md
   * "CosyVoice: audio containers"). A task's first sentence is covered by startTask.
   */
  private readonly onSentenceBegin: ((firstOfTask: boolean) => void) | undefined;

  constructor(
    private readonly utterance: Utterance<CosyVoiceTaskParams>,
    private readonly manager: ConnectionManager,
    private readonly maxCharsPerTask: number,
    private readonly onOver: () => void,
  ) {
    const { format, sampleRate } = utterance.settings;
    this.emitter = new ChunkEmitter(utterance, describeAudio(format, sampleRate));
    this.onSentenceBegin =
      format === 'wav' || format === 'mp3'
        ? (firstOfTask) => {
            if (!firstOfTask) this.emitter.beginSegment();
          }
        : undefined;
  }

  onText(text: string): void {
    if (this.over) return;
    const task = this.task;
    if (task && this.accepting) {
      if (task.billedCharacters + billedLength(text) <= this.maxCharsPerTask && !this.utterance.settings.enableSsml) {
        task.sendText(text);
        this.taskText += text;
        return;
      }
      this.accepting = false;
      task.finish();
    }
    this.pending.push(text);
    this.advance();
  }

  onEnd(): void {
    if (this.over) return;
    if (this.task && this.accepting && this.pending.length === 0) {
      this.accepting = false;
      this.task.finish();
      return;
    }
    this.advance();
  }

  cancel(): void {
    if (this.over) return;
    this.teardown();
    this.emitter.interrupt();
    this.onOver();
  }

  /** Decides what happens next whenever something changed: start a task, or finish the utterance. */
  private advance(): void {
    if (this.over || this.task || this.acquiring || this.retryTimer) return;
    const text = this.pending.join('');
    // SSML is one document in exactly one continue-task: a streamed one is spoken once complete.
    if (this.utterance.settings.enableSsml && !this.utterance.ended) return;
    if (!isBlank(text)) {
      if (this.lease) this.startTask();
      else if (!this.startArmedTask()) this.acquire();
      return;
    }
    if (this.utterance.ended) this.finishUtterance();
    else if (this.lease) {
      // A paused stream: give the socket back; text that comes later borrows one again.
      this.lease.release();
      this.lease = undefined;
    }
  }

  private acquire(): void {
    this.acquiring = true;
    this.manager.acquireCosyVoice().then(
      (lease) => {
        this.acquiring = false;
        if (this.over) {
          lease.release();
          return;
        }
        this.lease = lease;
        this.advance();
      },
      (err: unknown) => {
        this.acquiring = false;
        this.fail(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  /** keepWarm: a task already started for these settings saves the run-task round trip. */
  private startArmedTask(): boolean {
    const armed = this.manager.takeArmedCosyVoice(this.utterance.settings);
    if (!armed) return false;
    this.lease = armed.lease;
    this.startTask(armed.task);
    return true;
  }

  private startTask(armed?: CosyVoiceTask): void {
    const lease = this.lease as CosyVoiceLease;
    let text = this.pending.join('');
    this.pending = [];
    const ssml = this.utterance.settings.enableSsml === true;
    if (!ssml && billedLength(text) > this.maxCharsPerTask) {
      const [first, ...rest] = splitByBilledLength(text, this.maxCharsPerTask);
      text = first as string;
      this.pending = rest;
    }
    const handlers: TaskHandlers = {
      onAudio: (chunk) => {
        if (!this.over) this.emitter.chunk(chunk);
      },
      onSentenceBegin: this.onSentenceBegin,
      onFinished: (result) => this.onTaskFinished(task, result),
      onFailed: (err) => this.onTaskFailed(task, err),
    };
    // Each task is a whole file with its own wav/mp3 header (docs/protocol.md "CosyVoice: audio
    // containers"); the utterance is one stream, so a task after audio was heard drops its header.
    // Here, not at task-started: a task armed ahead (keepWarm) has started before it is ours.
    this.emitter.beginSegment();
    const task = armed ?? lease.runTask(this.utterance.settings, handlers);
    if (armed) armed.retarget(handlers);
    task.onIdleFinish = () => {
      if (this.task === task) this.accepting = false;
    };
    this.task = task;
    this.taskText = text;
    try {
      task.sendText(text);
    } catch (err) {
      task.cancel();
      this.task = undefined;
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.accepting = this.pending.length === 0 && !ssml && !this.utterance.ended;
    if (!this.accepting) task.finish();
  }

  private onTaskFinished(task: CosyVoiceTask, result: TaskResult): void {
    if (this.task !== task || this.over) return;
    this.task = undefined;
    this.accepting = false;
    this.results.push(result);
    this.advance();
  }

  private onTaskFailed(task: CosyVoiceTask, err: DashScopeError): void {
    if (this.task !== task || this.over) return;
    this.task = undefined;
    this.accepting = false;
    this.lease?.release(); // a failed socket is discarded by the manager
    this.lease = undefined;
    const throttle = this.manager.throttleBackoff;
    if (isThrottling(err) && task.receivedAudioBytes === 0) {
      // Rate limited: queued behind a backoff pause, then tried again (the queue behind waits).
      if (this.throttled >= throttle.maxAttempts) {
        this.fail(err);
        return;
      }
      this.throttled++;
      this.pending.unshift(this.taskText);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.advance();
      }, backoffDelay(throttle, this.throttled));
      return;
    }
    if (!this.retried && err.retryable && task.receivedAudioBytes === 0) {
      // Nothing of this task was heard yet, so it can be tried again without repeating audio.
      this.retried = true;
      this.pending.unshift(this.taskText);
      this.advance();
      return;
    }
    this.fail(err);
  }

  private finishUtterance(): void {
    if (this.results.length === 0 || this.emitter.bytes === 0) {
      this.fail(noAudioError(this.utterance.settings.voice));
      return;
    }
    this.teardown();
    this.emitter.finish(this.summary());
    this.onOver();
  }

  private fail(err: Error): void {
    if (this.over) return;
    this.teardown();
    this.emitter.fail(err);
    this.onOver();
  }

  /** The utterance is over: stop listening, end any task still running, give the socket back. */
  private teardown(): void {
    this.over = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.utterance.detach();
    this.task?.cancel();
    this.task = undefined;
    this.lease?.release();
    this.lease = undefined;
  }

  private summary(): CosyVoiceSummary {
    const s = this.utterance.settings;
    const sentences = this.results.flatMap((r) => r.sentences);
    return {
      text: this.utterance.text,
      model: s.model,
      voice: s.voice,
      format: s.format,
      sampleRate: s.sampleRate,
      bytes: this.emitter.bytes,
      durationMs: durationMs(this.emitter.audio, this.emitter.bytes),
      timeToFirstAudioMs: this.emitter.firstAudioAt === undefined ? undefined : this.emitter.firstAudioAt - this.utterance.receivedAt,
      taskIds: this.results.map((r) => r.taskId),
      requestIds: this.results.map((r) => r.requestId).filter((id): id is string => typeof id === 'string'),
      characters: this.results.reduce((n, r) => n + r.characters, 0),
      sentences: s.wordTimestamps ? sentences : undefined,
    };
  }
}
