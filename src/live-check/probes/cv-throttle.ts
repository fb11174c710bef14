/**
 * Six task starts at the same moment, over the 3 a second the account may make: how is the
 * refusal sent (docs/protocol.md "Unconfirmed points" cv-throttle-answer)? The one probe that
 * goes over the account's rate on purpose: it runs last of the quick ones, and cools down after,
 * so that no other probe reads a lingering rate limit as the service's answer.
 */
import { isThrottling } from '../../dashscope/errors';
import { throttleAnswer } from './classify';
import { describeError, finishTask, openCosyVoice, startTaskNow, type CosyVoiceLink, type TaskRecord } from './cosyvoice-run';
import { defineProbe, readable, refusalOf } from './define';
import { billed, cosyVoiceVoice, CV_MODEL, HI } from './texts';

const STARTS = 6;
/** After the burst (service time): the service's limiter may hold the account longer than its one-second window. */
export const COOL_DOWN_MS = 5000;

export const cvThrottle = defineProbe(
  {
    id: 'cv-throttle',
    title: `CosyVoice: ${STARTS} task starts in the same moment (briefly over the account's rate of 3 a second; stop flows using this key while it runs)`,
    maxCharacters: billed(Array.from({ length: STARTS }, () => HI)),
    points: ['cv-throttle-answer'],
  },
  async (scope, report) => {
    scope.ctx.progress(`CosyVoice: ${STARTS} connections, a run-task on each at once`);
    // Every open settles before the probe goes on: none may resolve after the probe ended and stay open.
    const opened = await Promise.allSettled(Array.from({ length: STARTS }, () => openCosyVoice(scope)));
    const links: CosyVoiceLink[] = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failedOpens = opened.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    // An unreachable service or a refused key goes on as an error (the scope closes the links that opened); any other refusal is evidence.
    const refusedOpens = failedOpens.map((reason) => refusalOf(reason));
    // All at once, on purpose: the one place the kit exceeds the rate (counted, so the next probe waits).
    const records: TaskRecord[] = links.map((link) => {
      scope.noteStart();
      const record = startTaskNow(scope, link, { model: CV_MODEL, voice: cosyVoiceVoice(), format: 'pcm', sampleRate: 24000 });
      record.task.sendText(HI);
      return record;
    });
    await Promise.all(records.map((record) => finishTask(scope, record)));
    for (const link of links) scope.release(link.connection);
    for (const record of records) readable(record.error);
    const refusals = records.flatMap((r) => (r.error ? [{ throttled: isThrottling(r.error), by: r.error.closeCode !== undefined ? ('close' as const) : ('task-failed' as const), err: r.error }] : []));
    const finished = records.filter((r) => r.result).length;
    const described = refusals.map((r) => (r.by === 'close' ? `close ${r.err.closeCode ?? ''} ${r.err.closeReason ?? ''}` : `task-failed ${r.err.code}`).trim());
    const atConnect = refusedOpens.length > 0 ? `; ${refusedOpens.length} connection(s) refused at the upgrade (${refusedOpens.map(describeError).join('; ')})` : '';
    const shown = throttleAnswer(refusals);
    report(
      'cv-throttle-answer',
      shown,
      shown
        ? `${links.length} starts: ${finished} finished; refused: ${described.join('; ')}${atConnect}`
        : `${links.length} starts: ${finished} finished; no start was refused${described.length ? ` (other failures: ${described.join('; ')})` : ''}${atConnect}`,
    );
    scope.ctx.progress(`CosyVoice: ${COOL_DOWN_MS / 1000} s of cool-down after going over the rate`);
    await scope.sleep(COOL_DOWN_MS);
  },
);
