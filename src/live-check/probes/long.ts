/**
 * The slow questions (only with --long): the idle close of a CosyVoice connection
 * (cv-idle-close), the 23 s task clock and its error code (cv-task-clock, cv-timeout-code), and
 * whether a Qwen session left alone is ended (qwen-idle-timeout). Every wait is on the run's
 * clock (× timeScale) and every time reported is the service's.
 */
import { COSYVOICE_LIMITS } from '../../dashscope/cosyvoice';
import { idleClose, idleTimeout, taskClock, timeoutCode } from './classify';
import { awaitStarted, describeError, openCosyVoice, speak, startTask, taskOutcome } from './cosyvoice-run';
import { defineProbe, readable } from './define';
import { openQwen, qwenSettings } from './qwen-run';
import { billed, cosyVoiceVoice, CV_MODEL, HI } from './texts';

const IDLE_WAIT_MS = 90_000;
/** Between task-started and the text: shows whether the clock ran from run-task or from the last instruction. */
const BEFORE_TEXT_MS = 5000;
const TIMEOUT_WAIT_MS = 40_000;
const QWEN_IDLE_WAIT_MS = 120_000;
const CLIENT_TEXT = 'Hi';

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export const cvIdle = defineProbe(
  {
    id: 'cv-idle',
    title: 'CosyVoice: how long an idle connection stays open (up to 90 s)',
    long: true,
    maxCharacters: billed([HI]),
    points: ['cv-idle-close'],
  },
  async (scope, report) => {
    scope.ctx.progress(`CosyVoice: "${HI}", then up to ${IDLE_WAIT_MS / 1000} s of silence`);
    const link = await openCosyVoice(scope);
    const record = await speak(scope, link, { model: CV_MODEL, voice: cosyVoiceVoice(), format: 'pcm', sampleRate: 24000 }, [HI]);
    readable(record.error);
    if (!record.result || record.endedAt === undefined || record.finishAt === undefined) {
      report('cv-idle-close', undefined, `the task did not finish: ${taskOutcome(record)}`);
      return;
    }
    // The service's idle clock may start at its task-finished or at the client's last instruction
    // (finish-task): both are measured, and the reading allows either (classify.ts idleClose).
    const finishedAt = record.endedAt;
    const finishSentAt = record.finishAt;
    await scope.until(IDLE_WAIT_MS - scope.elapsed(finishedAt), () => link.closed !== undefined);
    const closed = link.closed;
    const afterFinished = closed ? scope.elapsed(finishedAt, closed.at) : undefined;
    const afterFinishSent = closed ? scope.elapsed(finishSentAt, closed.at) : undefined;
    report(
      'cv-idle-close',
      idleClose(afterFinished === undefined ? undefined : afterFinished / 1000, afterFinishSent === undefined ? undefined : afterFinishSent / 1000),
      closed && afterFinished !== undefined && afterFinishSent !== undefined
        ? `closed ${seconds(afterFinished)} after task-finished, ${seconds(afterFinishSent)} after finish-task was sent (code ${closed.code}${closed.reason ? ` ${closed.reason}` : ''})`
        : `still open ${IDLE_WAIT_MS / 1000} s after task-finished`,
    );
  },
);

export const cvTimeout = defineProbe(
  {
    id: 'cv-timeout',
    title: 'CosyVoice: a task left without instructions (the 23 s clock)',
    long: true,
    maxCharacters: billed([CLIENT_TEXT]),
    points: ['cv-task-clock', 'cv-timeout-code'],
  },
  async (scope, report) => {
    scope.ctx.progress(`CosyVoice: run-task, "${CLIENT_TEXT}" ${BEFORE_TEXT_MS / 1000} s later, then silence (up to ${TIMEOUT_WAIT_MS / 1000} s)`);
    // The client would finish the task itself after 20 s (idleFinishMs): here it must not.
    const link = await openCosyVoice(scope, { limits: { ...COSYVOICE_LIMITS, idleFinishMs: 10 * 60_000 } });
    const record = await startTask(scope, link, { model: CV_MODEL, voice: cosyVoiceVoice(), format: 'pcm', sampleRate: 24000 });
    if (!(await awaitStarted(scope, record))) {
      readable(record.error);
      report('cv-task-clock', undefined, `the task did not start: ${taskOutcome(record)}`);
      return;
    }
    await scope.sleep(BEFORE_TEXT_MS);
    const lastAt = scope.now();
    record.task.sendText(CLIENT_TEXT);
    await scope.until(TIMEOUT_WAIT_MS, () => record.ended);
    scope.release(link.connection);
    const err = readable(record.error);
    if (!err || record.endedAt === undefined) {
      report('cv-task-clock', undefined, record.ended ? `the task ended otherwise: ${taskOutcome(record)}` : `no failure within ${TIMEOUT_WAIT_MS / 1000} s of silence`);
      report('cv-timeout-code', undefined, 'no timeout seen');
      return;
    }
    const afterLast = scope.elapsed(lastAt, record.endedAt);
    const afterRun = scope.elapsed(record.runTaskAt, record.endedAt);
    const fromTask = err.origin === 'task';
    report(
      'cv-task-clock',
      fromTask ? taskClock(afterLast / 1000) : undefined,
      `${describeError(err)}: ${seconds(afterLast)} after the last instruction, ${seconds(afterRun)} after run-task`,
    );
    report('cv-timeout-code', fromTask ? timeoutCode(err.code) : undefined, describeError(err));
  },
);

export const qwenIdle = defineProbe(
  {
    id: 'qwen-idle',
    title: 'Qwen: a session left idle (up to 120 s)',
    long: true,
    maxCharacters: 0,
    points: ['qwen-idle-timeout'],
  },
  async (scope, report) => {
    scope.ctx.progress(`Qwen: a session left idle for up to ${QWEN_IDLE_WAIT_MS / 1000} s`);
    const log = await openQwen(scope, qwenSettings('server_commit'));
    const from = scope.now();
    await scope.until(QWEN_IDLE_WAIT_MS, () => log.closed !== undefined || log.errors.length > 0);
    const endedAt = log.errors.length > 0 || log.closed ? scope.now() : undefined;
    await scope.until(1000, () => log.closed !== undefined);
    scope.release(log.session);
    for (const err of [...log.errors, log.closed?.err]) readable(err);
    const after = endedAt === undefined ? undefined : scope.elapsed(from, endedAt);
    const what = [log.errors[0] ? describeError(log.errors[0]) : '', log.closed ? `closed${log.closed.err ? `: ${log.closed.err.message}` : ''}` : ''].filter(Boolean).join('; ');
    report(
      'qwen-idle-timeout',
      idleTimeout(after === undefined ? undefined : after / 1000),
      after === undefined ? `none within ${QWEN_IDLE_WAIT_MS / 1000} s: still open with no client event` : `ended ${seconds(after)} after the last client event: ${what}`,
    );
  },
);
