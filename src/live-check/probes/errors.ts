/**
 * Refusals: a bad voice and a bad model on CosyVoice, a bad voice and an unknown model on Qwen, a
 * made-up key. What matters is how the package takes each answer: given up at once (final), or
 * classed as worth retrying although it can never succeed (docs/protocol.md "Errors and retries").
 */
import type { DashScopeError } from '../../dashscope/errors';
import { accountRefusedEvidence, isAccountRefusal, isArrears, isKeyRefusal, isRateLimited, RATE_LIMITED } from '../refusals';
import { refusal, unknownModel } from './classify';
import { describeError, openCosyVoice, speak, taskOutcome } from './cosyvoice-run';
import { defineProbe, readable, refusalOf, type Report, type Whose } from './define';
import { finishSession, openQwen, qwenSettings, type QwenLog } from './qwen-run';
import type { ProbeScope } from './scope';
import { billed, cosyVoiceVoice, CV_MODEL, HI, MADE_UP_KEY } from './texts';

export const BAD_VOICE = 'live-check-no-such-voice';
export const BAD_CV_MODEL = 'cosyvoice-live-check-no-such-model';
export const UNKNOWN_QWEN_MODEL = 'qwen3-tts-live-check-no-such-model';
/** How long the bad voice's "Hi." may take to be answered (service time). */
const ANSWER_MS = 10_000;

function verdict(err: DashScopeError | undefined, accepted: boolean): string {
  const how = err ? (err.retryable ? 'the package would retry it' : 'the package gives up at once') : accepted ? 'accepted' : 'no answer';
  return err ? `${describeError(err)} (${how})` : how;
}

/**
 * One question of the probe. A refusal of the account or of the model it speaks with (not the key,
 * not arrears: those end the run) leaves only this question unanswered: the others may not need
 * that model (bad-key, the Qwen ones when CosyVoice is refused).
 */
async function asking(scope: ProbeScope, report: Report, point: string, ask: () => Promise<void>): Promise<void> {
  try {
    await ask();
  } catch (err) {
    if (!isAccountRefusal(err) || isArrears(err) || isKeyRefusal(err)) throw err;
    report(point, undefined, accountRefusedEvidence(err, scope.model));
  }
}

/** A CosyVoice task that should be refused: voice, model or key. */
async function cosyVoiceRefusal(scope: ProbeScope, report: Report, point: string, what: string, params: { model: string; voice: string; apiKey?: string }, whose: Whose = {}): Promise<void> {
  scope.ctx.progress(`CosyVoice: ${what}`);
  let link;
  try {
    link = await openCosyVoice(scope, params.apiKey ? { credentials: { apiKey: params.apiKey } } : {});
  } catch (err) {
    const refused = refusalOf(err, whose);
    report(point, refusal(refused, false), `${what}: handshake ${limited(refused)}${verdict(refused, false)}`);
    return;
  }
  const record = await speak(scope, link, { model: params.model, voice: params.voice, format: 'pcm', sampleRate: 24000 }, [HI]);
  scope.release(link.connection);
  readable(record.error, whose);
  const accepted = record.result !== undefined && record.audioBytes > 0;
  report(point, refusal(record.error, accepted), `${what}: ${record.error ? `${limited(record.error)}${verdict(record.error, false)}` : taskOutcome(record)}`);
}

/** Marks a rate limit in the evidence: the refusal says nothing about the request (classify.ts `refusal`). */
function limited(err: DashScopeError): string {
  return isRateLimited(err) ? `${RATE_LIMITED}: ` : '';
}

/** A voice the service took at session.update may still be refused when it would speak: "Hi." committed shows which. */
async function qwenBadVoice(scope: ProbeScope, report: Report): Promise<void> {
  const what = `voice "${BAD_VOICE}"`;
  scope.ctx.progress(`Qwen: ${what}, then "${HI}" committed`);
  let log: QwenLog;
  try {
    log = await openQwen(scope, qwenSettings('commit', { voice: BAD_VOICE }));
  } catch (err) {
    const refused = refusalOf(err);
    report('qwen-bad-voice', refusal(refused, false), `${what}: at session.update: ${limited(refused)}${verdict(refused, false)}`);
    return;
  }
  log.session.append(HI);
  log.session.commit();
  const heard = (): boolean => log.responses.some((r) => r.bytes > 0);
  await scope.until(ANSWER_MS, () => log.errors.length > 0 || log.closed !== undefined || heard() || log.responses.some((r) => r.done));
  await finishSession(scope, log);
  const err = readable(log.errors[0] ?? log.closed?.err);
  const spoke = heard();
  const how = err ? `${limited(err)}${verdict(err, false)}` : spoke ? `"${HI}" was spoken` : `no answer to "${HI}" within ${ANSWER_MS / 1000} s`;
  report('qwen-bad-voice', refusal(spoke ? undefined : err, spoke), `${what}: session.updated, then ${how}`);
}

/** A model the service does not know: how it answers (the made-up model's refusal is the answer: `model: 'made-up'`). */
async function qwenUnknownModel(scope: ProbeScope, report: Report): Promise<void> {
  scope.ctx.progress(`Qwen: model "${UNKNOWN_QWEN_MODEL}"`);
  const seen = { sessionCreated: false, errorEvent: false, handshakeRefused: false, closed: false, accepted: false, close: '' };
  try {
    const log = await openQwen(scope, qwenSettings('server_commit'), {
      model: UNKNOWN_QWEN_MODEL,
      watcher: {
        event: (frame) => {
          if (frame.type === 'session.created') seen.sessionCreated = true;
          if (frame.type === 'error') seen.errorEvent = true;
        },
        closed: (code, reason) => {
          seen.closed = true;
          seen.close = `close ${code}${reason ? ` ${reason}` : ''}`;
        },
      },
    });
    seen.accepted = true;
    await finishSession(scope, log);
    report('qwen-unknown-model', undefined, `model "${UNKNOWN_QWEN_MODEL}": session.updated, the model was taken`);
  } catch (err) {
    const refused = refusalOf(err, { model: 'made-up' });
    seen.handshakeRefused = refused.origin === 'handshake';
    const events = [seen.sessionCreated ? 'session.created' : '', seen.errorEvent ? 'error event' : '', seen.close].filter(Boolean).join(', ');
    report('qwen-unknown-model', unknownModel(seen), `model "${UNKNOWN_QWEN_MODEL}": ${events || 'nothing'}; ${verdict(refused, false)}`);
  }
}

export const errorsProbe = defineProbe(
  {
    id: 'errors',
    title: 'Refusals: bad voice, bad model, unknown Qwen model, made-up key',
    // Each CosyVoice refusal, and the Qwen bad voice, would speak "Hi." if the service accepted it after all.
    maxCharacters: billed([HI, HI, HI, HI]),
    points: ['cv-bad-voice', 'cv-bad-model', 'qwen-bad-voice', 'qwen-unknown-model', 'bad-key'],
  },
  async (scope, report) => {
    await asking(scope, report, 'cv-bad-voice', () => cosyVoiceRefusal(scope, report, 'cv-bad-voice', `voice "${BAD_VOICE}" on ${CV_MODEL}`, { model: CV_MODEL, voice: BAD_VOICE }));
    // The made-up model's refusal is the answer, even one saying the account may not use it.
    await asking(scope, report, 'cv-bad-model', () =>
      cosyVoiceRefusal(scope, report, 'cv-bad-model', `model "${BAD_CV_MODEL}"`, { model: BAD_CV_MODEL, voice: cosyVoiceVoice() }, { model: 'made-up' }),
    );
    await asking(scope, report, 'qwen-bad-voice', () => qwenBadVoice(scope, report));
    await asking(scope, report, 'qwen-unknown-model', () => qwenUnknownModel(scope, report));
    // Only this refusal of the made-up key is an answer; a refusal of the user's key stops the probe.
    await asking(scope, report, 'bad-key', () =>
      cosyVoiceRefusal(scope, report, 'bad-key', 'a made-up key', { model: CV_MODEL, voice: cosyVoiceVoice(), apiKey: MADE_UP_KEY }, { ownKey: false }),
    );
  },
);
