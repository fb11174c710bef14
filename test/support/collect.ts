import type { CosyVoiceConnection, CosyVoiceTask, CosyVoiceTaskParams, SentenceResult, TaskResult } from '../../src/dashscope/cosyvoice';
import type { DashScopeError } from '../../src/dashscope/errors';
import type { QwenRealtimeSession, ResponseResult } from '../../src/dashscope/qwen-realtime';

export interface TaskOutcome {
  audio: Buffer;
  chunks: number;
  result?: TaskResult;
  error?: DashScopeError;
  sentences: SentenceResult[];
}

export interface RunningTask {
  task: CosyVoiceTask;
  outcome: Promise<TaskOutcome>;
}

type TaskStarter = (params: CosyVoiceTaskParams, handlers: Parameters<CosyVoiceConnection['runTask']>[1]) => CosyVoiceTask;

/** Runs one task to its end and gathers everything it produced. */
export function runTask(start: TaskStarter, params: CosyVoiceTaskParams, texts: string[], finish = true): RunningTask {
  const chunks: Buffer[] = [];
  const sentences: SentenceResult[] = [];
  let resolve!: (o: TaskOutcome) => void;
  const outcome = new Promise<TaskOutcome>((r) => (resolve = r));
  const done = (extra: Partial<TaskOutcome>): void =>
    resolve({ audio: Buffer.concat(chunks), chunks: chunks.length, sentences, ...extra });
  const task = start(params, {
    onAudio: (chunk) => chunks.push(chunk),
    onSentenceEnd: (s) => sentences.push(s),
    onFinished: (result) => done({ result }),
    onFailed: (error) => done({ error }),
  });
  for (const t of texts) task.sendText(t);
  if (finish) task.finish();
  return { task, outcome };
}

export interface ResponseOutcome {
  audio: Buffer;
  responses: ResponseResult[];
  errors: DashScopeError[];
  closed?: DashScopeError;
}

/**
 * Listens to a Qwen session until `until` says the utterance is complete (by default: after
 * `responses` response.done events).
 */
export function collectResponses(session: QwenRealtimeSession, responses: number): Promise<ResponseOutcome> {
  const chunks: Buffer[] = [];
  const outcome: ResponseOutcome = { audio: Buffer.alloc(0), responses: [], errors: [] };
  return new Promise((resolve) => {
    const finish = (): void => {
      outcome.audio = Buffer.concat(chunks);
      resolve(outcome);
    };
    session.listener = {
      onAudio: (chunk) => chunks.push(chunk),
      onResponseDone: (r) => {
        outcome.responses.push(r);
        if (outcome.responses.length >= responses) finish();
      },
      onError: (e) => {
        outcome.errors.push(e);
        finish();
      },
      onClosed: (e) => {
        outcome.closed = e;
        finish();
      },
    };
  });
}

export function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}
