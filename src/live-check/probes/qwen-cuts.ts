/**
 * How server_commit cuts text into responses: at a comma? (qwen-server-cuts) Does it announce
 * its cuts? (qwen-announce-commits) Does a long run without punctuation get cut at some length?
 * (qwen-buffer-limit) All from one session in which the client never commits.
 */
import { billedLength } from '../../dashscope/text';
import { announceCommits, bufferLimit, serverCuts } from './classify';
import { defineProbe, readable } from './define';
import { finishSession, openQwen, qwenSettings, settle } from './qwen-run';
import { billed, CLAUSE_PIECES, UNPUNCTUATED, UNPUNCTUATED_PIECE } from './texts';

const CLAUSE_WAIT_MS = 2000;
const PIECE_WAIT_MS = 300;
const TAIL_WAIT_MS = 2000;

export function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export const qwenCuts = defineProbe(
  {
    id: 'qwen-cuts',
    title: 'Qwen server_commit: cuts at a comma, announced cuts, a long text without punctuation',
    maxCharacters: billed([...CLAUSE_PIECES, UNPUNCTUATED]),
    points: ['qwen-server-cuts', 'qwen-announce-commits', 'qwen-buffer-limit'],
  },
  async (scope, report) => {
    const [clause, rest] = CLAUSE_PIECES;
    scope.ctx.progress(`Qwen server_commit: "${clause}" … ${CLAUSE_WAIT_MS / 1000} s … "${rest}"`);
    const log = await openQwen(scope, qwenSettings('server_commit'));
    log.session.append(clause);
    const atClause = await scope.until(CLAUSE_WAIT_MS, () => log.responses.length > 0 || log.closed !== undefined);
    const clauseResponses = log.responses.length;
    log.session.append(rest);
    const answered = await settle(scope, log, 1000, 10_000, 0);
    // Counted before session.finish: a service that commits what is left when asked to finish has not announced a cut of its own.
    const committed = log.committed;
    await finishSession(scope, log);
    for (const err of [...log.errors, log.closed?.err]) readable(err);
    // Every response, late ones included: a distant service answers the clause after the rest was sent (classify.ts serverCuts).
    const responses = log.responses.length;
    const afterFinish = log.committed > committed ? `; ${log.committed - committed} more after session.finish (not counted)` : '';
    if (!answered) {
      // Nothing at all: neither reading can be told, and a late answer must not be taken for a cut below.
      const why = log.closed?.err ? `the session closed: ${log.closed.err.message}` : 'no response to either clause within 10 s';
      report('qwen-server-cuts', undefined, why);
      report('qwen-announce-commits', undefined, why);
    } else {
      report(
        'qwen-server-cuts',
        serverCuts(atClause && clauseResponses > 0, responses),
        `"${clause}": ${clauseResponses > 0 ? 'a response started' : `no response within ${CLAUSE_WAIT_MS / 1000} s`}; after "${rest}": ${responses} response(s) in all`,
      );
      report('qwen-announce-commits', announceCommits(committed, responses), `${committed} input_text_buffer.committed for ${responses} response(s) the service cut itself${afterFinish}`);
    }

    // A fresh session: nothing of the clause part (a response still on its way) can be taken for a cut here.
    scope.ctx.progress(`Qwen server_commit: ${billedLength(UNPUNCTUATED)} characters without punctuation, ${UNPUNCTUATED_PIECE} at a time`);
    const plain = await openQwen(scope, qwenSettings('server_commit'));
    let appended = 0;
    let cutAt: number | undefined;
    for (const piece of pieces(UNPUNCTUATED, UNPUNCTUATED_PIECE)) {
      plain.session.append(piece);
      appended += billedLength(piece);
      if (await scope.until(PIECE_WAIT_MS, () => plain.responses.length > 0 || plain.closed !== undefined)) break;
    }
    if (plain.responses.length === 0 && !plain.closed) await scope.until(TAIL_WAIT_MS, () => plain.responses.length > 0 || plain.closed !== undefined);
    if (plain.responses.length > 0) cutAt = appended;
    await finishSession(scope, plain);
    for (const err of [...plain.errors, plain.closed?.err]) readable(err);
    // A session that failed before any cut tells nothing about a limit.
    const failed = plain.closed?.err !== undefined || plain.errors.length > 0;
    report(
      'qwen-buffer-limit',
      failed && cutAt === undefined ? undefined : bufferLimit(cutAt),
      cutAt === undefined
        ? `no response after ${appended} characters without punctuation (appended ${UNPUNCTUATED_PIECE} at a time, then ${TAIL_WAIT_MS / 1000} s)`
        : `a response started after ${cutAt} characters without punctuation (N ≈ ${cutAt})`,
    );
  },
);
