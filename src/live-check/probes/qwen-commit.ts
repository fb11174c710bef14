/**
 * commit mode, wav: an empty commit (qwen-empty-commit) and what follows it (qwen-after-error);
 * a commit of two sentences (qwen-responses-per-commit); a commit of one more (qwen-usage); the
 * headers across those responses (qwen-container-headers); text never committed at
 * session.finish (qwen-uncommitted-on-finish).
 */
import { billedLength } from '../../dashscope/text';
import { afterError, containerHeaders, emptyCommit, responsesPerCommit, uncommittedOnFinish, usage } from './classify';
import { describeError } from './cosyvoice-run';
import { defineProbe, readable } from './define';
import { finishSession, openQwen, qwenSettings, settle, type QwenLog } from './qwen-run';
import type { ProbeScope } from './scope';
import { billed, COMMIT_THREE, COMMIT_TWO, UNCOMMITTED } from './texts';

const ANSWER_MS = 2000;
const CLOSE_AFTER_ERROR_MS = 1500;
const QUIET_MS = 1000;
const RESPONSES_MS = 10_000;

function open(scope: ProbeScope): Promise<QwenLog> {
  return openQwen(scope, qwenSettings('commit', { responseFormat: 'wav' }));
}

export const qwenCommit = defineProbe(
  {
    id: 'qwen-commit',
    title: 'Qwen commit mode (wav): empty commit, responses per commit, usage, headers, uncommitted text',
    maxCharacters: billed([COMMIT_TWO, COMMIT_THREE, UNCOMMITTED]),
    points: ['qwen-empty-commit', 'qwen-after-error', 'qwen-responses-per-commit', 'qwen-usage', 'qwen-container-headers', 'qwen-uncommitted-on-finish'],
  },
  async (scope, report) => {
    scope.ctx.progress('Qwen commit: a commit of an empty buffer');
    let log = await open(scope);
    log.session.commit();
    await scope.until(ANSWER_MS, () => log.errors.length > 0 || log.committed > 0 || log.closed !== undefined);
    const error = readable(log.errors[0]);
    report(
      'qwen-empty-commit',
      log.errors.length === 0 && log.committed === 0 && log.closed ? undefined : emptyCommit({ error: error !== undefined, committed: log.committed > 0 }),
      error ? `error ${describeError(error)}` : log.committed > 0 ? 'input_text_buffer.committed' : log.closed ? `the session closed: ${log.closed.err?.message ?? ''}` : `nothing within ${ANSWER_MS / 1000} s`,
    );
    if (error) await scope.until(CLOSE_AFTER_ERROR_MS, () => log.closed !== undefined);
    report(
      'qwen-after-error',
      afterError(error !== undefined, log.closed !== undefined),
      error ? (log.closed ? `closed after the error: ${log.closed.err?.message ?? 'normally'}` : `still open ${CLOSE_AFTER_ERROR_MS / 1000} s after the error`) : 'no error came, so nothing to follow',
    );
    if (log.closed) log = await open(scope);

    scope.ctx.progress(`Qwen commit: "${COMMIT_TWO}", then "${COMMIT_THREE}"`);
    const beforeTwo = log.responses.length;
    log.session.append(COMMIT_TWO);
    log.session.commit();
    await settle(scope, log, QUIET_MS, RESPONSES_MS, beforeTwo);
    const forTwo = log.responses.length - beforeTwo;
    report('qwen-responses-per-commit', log.closed?.err ? undefined : responsesPerCommit(forTwo), `${forTwo} response(s) for one commit of "${COMMIT_TWO}"`);

    const beforeThree = log.responses.length;
    log.session.append(COMMIT_THREE);
    log.session.commit();
    await settle(scope, log, QUIET_MS, RESPONSES_MS, beforeThree);
    const last = log.responses[log.responses.length - 1];
    const reported = log.responses.length > beforeThree ? last?.done?.characters : undefined;
    const own = billedLength(COMMIT_THREE);
    const total = billedLength(COMMIT_TWO) + own;
    report('qwen-usage', usage(reported, own, total), `usage.characters ${reported ?? 'none'} for "${COMMIT_THREE}" (${own} characters; ${total} in the session so far)`);

    const headers = log.responses.filter((r) => r.header).length;
    report(
      'qwen-container-headers',
      containerHeaders(headers, log.responses.length, ['per-session', 'per-response']),
      `${headers} RIFF header(s) over ${log.responses.length} wav response(s)`,
    );

    scope.ctx.progress(`Qwen commit: "${UNCOMMITTED}" appended, never committed, then session.finish`);
    const before = log.responses.length;
    log.session.append(UNCOMMITTED);
    await finishSession(scope, log);
    const after = log.responses.length - before;
    report(
      'qwen-uncommitted-on-finish',
      log.finished || (log.closed && !log.closed.err) ? uncommittedOnFinish(after) : undefined,
      `${after} response(s) after session.finish; ${log.finished ? 'session.finished' : log.closed ? `closed: ${log.closed.err?.message ?? 'normally'}` : 'no end seen'}`,
    );
  },
);
