/**
 * The readings, from what a probe saw: small pure functions, one per kind of point, so the
 * talking (the probes) and the judging (here) can be read and tested apart. Each returns the
 * reading (one of the point's readings, points.ts) or undefined when what was seen cannot tell.
 */
import { isThrottling, type DashScopeError } from '../../dashscope/errors';
import { accountRefused, keyRefused, rateLimited, type RefusalLike } from '../refusals';

export type Reading = string | undefined;

/**
 * cv-speaks-*, qwen-speaks-*: did an utterance come back as audio. The refusals read by the kit's
 * one rule (refusals.ts, the code before the status): a rate limit tells nothing (the account's
 * budget, shared with the user's own flows, not the model); a refused key never reaches here (the
 * probe stops on it); a refusal of the account or the model is "not available to this account".
 */
export function speaks(outcome: { audioBytes: number; error?: RefusalLike }): Reading {
  if (!outcome.error) return outcome.audioBytes > 0 ? 'speaks' : 'fails';
  if (rateLimited(outcome.error) || keyRefused(outcome.error)) return undefined;
  if (accountRefused(outcome.error)) return 'not available to this account';
  return 'fails';
}

/** The documented first-audio range (docs/protocol.md "Unconfirmed points" cv-pacing). */
export const PACING_RANGE_MS: readonly [number, number] = [200, 800];

/** cv-pacing, qwen-pacing: a first-audio latency (ms, service clock) against the documented range. */
export function pacing(latencyMs: number | undefined): Reading {
  if (latencyMs === undefined || !Number.isFinite(latencyMs)) return undefined;
  return latencyMs > PACING_RANGE_MS[1] ? 'slower than documented' : '800 ms or less, as documented';
}

/** cv-stream-pause: a task streamed in two pieces with a pause; `minCharacters` billed means every word was spoken. */
export function streamedWhole(outcome: { ended: boolean; error?: unknown; audioBytes: number; characters: number }, minCharacters: number): Reading {
  if (outcome.error || !outcome.ended) return 'failed';
  return outcome.audioBytes > 0 && outcome.characters >= minCharacters ? 'spoken whole' : 'cut short';
}

/** cv-sentence-split: how many sentences the service made of a text with `sentenceEnds` sentence ends and a comma in the first. */
export function sentenceSplit(sentences: number, sentenceEnds: number): Reading {
  if (sentences > sentenceEnds) return 'at commas too';
  if (sentences === sentenceEnds) return 'at sentence ends only';
  // Fewer: the service merged sentences, which says nothing about commas.
  return undefined;
}

/**
 * cv-container-headers, qwen-container-headers: headers counted over the segments (sentences of
 * a task, responses of a session) of one stream. One header for several segments: one per stream.
 */
export function containerHeaders(headers: number, segments: number, names: readonly [single: string, each: string]): Reading {
  if (segments < 2 || headers === 0) return undefined;
  if (headers === 1) return names[0];
  return headers >= segments ? names[1] : undefined;
}

/** cv-opus-rates, qwen-extra-rates: was a setting taken. */
export function accepted(ok: boolean | undefined): Reading {
  if (ok === undefined) return undefined;
  return ok ? 'accepted' : 'refused';
}

/** cv-words-in: where word lists with words in them travelled. */
export function wordsIn(inSentenceEnd: number, inTaskFinished: number): Reading {
  if (inSentenceEnd > 0 && inTaskFinished > 0) return 'both';
  if (inSentenceEnd > 0) return 'sentence-end';
  if (inTaskFinished > 0) return 'task-finished';
  return undefined;
}

/**
 * cv-word-times: the second sentence's first word starts near 0 (relative to its sentence) or
 * after the first sentence's end (relative to the task).
 */
export function wordTimes(secondFirstBeginMs: number | undefined, firstSentenceEndMs: number | undefined): Reading {
  if (secondFirstBeginMs === undefined || firstSentenceEndMs === undefined || firstSentenceEndMs <= 0) return undefined;
  if (secondFirstBeginMs < firstSentenceEndMs / 2) return 'sentence';
  return 'task';
}

/** cv-blank-text: the task around a whitespace-only continue-task. */
export function blankText(outcome: { error?: unknown; ended: boolean; audioBytes: number }): Reading {
  if (outcome.error) return 'fail';
  return outcome.ended && outcome.audioBytes > 0 ? 'accept' : undefined;
}

/** cv-run-task-busy: what a second run-task on a busy socket got. */
export function runTaskBusy(outcome: { secondStarted: boolean; failed: boolean }): Reading {
  if (outcome.secondStarted) return 'replace';
  if (outcome.failed) return 'reject';
  return undefined;
}

/** cv-throttle-answer: how refused starts came back; undefined when none was refused. */
export function throttleAnswer(refusals: readonly { throttled: boolean; by: 'task-failed' | 'close' }[]): Reading {
  const throttled = refusals.filter((r) => r.throttled);
  if (throttled.length === 0) return undefined;
  return throttled.some((r) => r.by === 'task-failed') ? 'task-failed' : 'close';
}

/**
 * cv-bad-voice, cv-bad-model, qwen-bad-voice, bad-key: how the package takes the refusal. A
 * retryable class for a request that can never succeed is the package's bug, so it is a reading;
 * a rate limit is not the service's answer to the request (cannot tell).
 */
export function refusal(err: DashScopeError | undefined, accepted: boolean): Reading {
  if (err && isThrottling(err)) return undefined;
  if (err) return err.retryable ? 'refused, retried' : 'refused, final';
  return accepted ? 'accepted' : undefined;
}

/** qwen-unknown-model: what the service does with a model it does not know. */
export function unknownModel(seen: { sessionCreated: boolean; errorEvent: boolean; handshakeRefused: boolean; closed: boolean; accepted: boolean }): Reading {
  if (seen.handshakeRefused) return 'handshake refused';
  if (seen.errorEvent) return 'error event';
  if (seen.sessionCreated && seen.closed && !seen.accepted) return 'session.created, then close';
  return undefined;
}

/**
 * qwen-server-cuts: a response started on the clause alone, or the two clauses became two
 * responses (a slow or distant service answers the clause after the rest was sent); no response
 * at all tells nothing.
 */
export function serverCuts(responseAtClause: boolean, responses: number): Reading {
  if (responseAtClause || responses >= 2) return 'clause';
  return responses === 1 ? 'sentence' : undefined;
}

/** qwen-announce-commits: committed events in a session where the client never committed. */
export function announceCommits(committed: number, responses: number): Reading {
  if (committed > 0) return 'sent';
  return responses > 0 ? 'not sent' : undefined;
}

/** qwen-buffer-limit: characters appended without a cut point when the first response started; none is a bound, not "no limit" (the kit sends 150). */
export function bufferLimit(charsAtFirstResponse: number | undefined): Reading {
  return charsAtFirstResponse === undefined ? 'none within 150 characters' : 'a limit';
}

/** qwen-empty-commit: the answer to a commit of an empty buffer. */
export function emptyCommit(seen: { error: boolean; committed: boolean }): Reading {
  if (seen.error) return 'error';
  if (seen.committed) return 'committed';
  return 'ignore';
}

/** qwen-after-error: was the session closed soon after an error. */
export function afterError(errorSeen: boolean, closed: boolean): Reading {
  if (!errorSeen) return undefined;
  return closed ? 'closes' : 'stays open';
}

/** qwen-responses-per-commit: responses to one commit of two sentences. */
export function responsesPerCommit(responses: number): Reading {
  if (responses === 1) return 'one';
  if (responses >= 2) return 'per-sentence';
  return undefined;
}

/** qwen-usage: the last response's usage.characters against its own text and the session's total. */
export function usage(reported: number | undefined, own: number, total: number): Reading {
  if (reported === undefined) return undefined;
  if (reported === own) return 'per-response';
  if (reported === total) return 'cumulative';
  return undefined;
}

/** qwen-uncommitted-on-finish: did anything speak after session.finish. */
export function uncommittedOnFinish(responsesAfterFinish: number): Reading {
  return responsesAfterFinish > 0 ? 'synthesize' : 'discard';
}

/** upload-size: the policy's size limit for voice-enrollment. */
export function uploadSize(maxMb: number | undefined): Reading {
  if (maxMb === undefined) return undefined;
  return maxMb === 10 ? '10 MB' : 'other';
}

/** How far (s) a clock's reading may stray from a documented value (scheduling, one network hop). */
const IDLE_TOLERANCE_S = 0.5;

/**
 * cv-idle-close: seconds from task-finished and from the finish-task send to the service's close.
 * The service's idle clock may start at either (its task-finished, or the client's last
 * instruction), so a documented value counts when it lies between the two (± the tolerance); of
 * 60 and 61 s, the one nearer either reading.
 */
export function idleClose(afterFinished: number | undefined, afterFinishSent: number | undefined = afterFinished): Reading {
  if (afterFinished === undefined || afterFinishSent === undefined) return 'none within 90 s';
  const low = Math.min(afterFinished, afterFinishSent) - IDLE_TOLERANCE_S;
  const high = Math.max(afterFinished, afterFinishSent) + IDLE_TOLERANCE_S;
  const distance = (s: number): number => Math.min(Math.abs(afterFinished - s), Math.abs(afterFinishSent - s));
  const fits = [60, 61].filter((s) => s >= low && s < high).sort((a, b) => distance(a) - distance(b));
  return fits[0] === undefined ? 'other' : `${fits[0]} s`;
}

/** cv-task-clock: seconds from the last instruction to the timeout's task-failed. */
export function taskClock(secondsAfterLastInstruction: number | undefined): Reading {
  if (secondsAfterLastInstruction === undefined) return undefined;
  return Math.abs(secondsAfterLastInstruction - 23) <= 1 ? '23 s after the last instruction' : 'other';
}

/** cv-timeout-code: the error_code of that timeout. */
export function timeoutCode(code: string | undefined): Reading {
  if (code === undefined) return undefined;
  return code === 'InvalidParameter' || code === 'CLIENT_ERROR' ? code : 'other';
}

/** qwen-idle-timeout: did the service end a session that was left alone (the kit waits 120 s: none is a bound, not "no limit"). */
export function idleTimeout(endedAfterSeconds: number | undefined): Reading {
  return endedAfterSeconds === undefined ? 'none within 120 s' : 'a limit';
}
