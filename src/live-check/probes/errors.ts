/**
 * Refusals: a bad voice and a bad model on CosyVoice, a bad voice and an unknown model on Qwen, a
 * made-up key. What matters is how the package takes each answer: given up at once (final), or
 * classed as worth retrying although it can never succeed (docs/protocol.md "Errors and retries").
 */
import type { DashScopeError } from '../../dashscope/errors';
import { isRateLimited, RATE_LIMITED } from '../refusals';
import { refusal, unknownModel } from './classify';
import { describeError, openCosyVoice, speak, taskOutcome } from './cosyvoice-run';
import { defineProbe, readable, refusalOf, type Report } from './define';
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

/** A CosyVoice task that should be refused: voice, model or key. */
async function cosyVoiceRefusal(scope: ProbeScope, report: Report, point: string, what: string, params: { model: string; voice: string; apiKey?: string }): Promise<void> {
  scope.ctx.progress(`CosyVoice: ${what}`);
  // Only the bad-key probe's refusal of its made-up key is an answer; a refusal of the user's key stops the probe.
  const ownKey = params.apiKey === undefined;
  let link;
  try {
    link = await openCosyVoice(scope, params.apiKey ? { credentials: { apiKey: params.apiKey } } : {});
  } catch (err) {
    const refused = refusalOf(err, { ownKey });
    report(point, refusal(refused, false), `${what}: handshake ${limited(refused)}${verdict(refused, false)}`);
    return;
  }
  const record = await speak(scope, link, { model: params.model, voice: params.voice, format: 'pcm', sampleRate: 24000 }, [HI]);
  scope.release(link.connection);
  if (ownKey) readable(record.error);
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

export const errorsProbe = defineProbe(
  {
    id: 'errors',
    title: 'Refusals: bad voice, bad model, unknown Qwen model, made-up key',
    // Each CosyVoice refusal, and the Qwen bad voice, would speak "Hi." if the service accepted it after all.
    maxCharacters: billed([HI, HI, HI, HI]),
    points: ['cv-bad-voice', 'cv-bad-model', 'qwen-bad-voice', 'qwen-unknown-model', 'bad-key'],
  },
  async (scope, report) => {
    await cosyVoiceRefusal(scope, report, 'cv-bad-voice', `voice "${BAD_VOICE}" on ${CV_MODEL}`, { model: CV_MODEL, voice: BAD_VOICE });
    await cosyVoiceRefusal(scope, report, 'cv-bad-model', `model "${BAD_CV_MODEL}"`, { model: BAD_CV_MODEL, voice: cosyVoiceVoice() });

    await qwenBadVoice(scope, report);

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
      const refused = refusalOf(err);
      seen.handshakeRefused = refused.origin === 'handshake';
      const events = [seen.sessionCreated ? 'session.created' : '', seen.errorEvent ? 'error event' : '', seen.close].filter(Boolean).join(', ');
      report('qwen-unknown-model', unknownModel(seen), `model "${UNKNOWN_QWEN_MODEL}": ${events || 'nothing'}; ${verdict(refused, false)}`);
    }

    await cosyVoiceRefusal(scope, report, 'bad-key', 'a made-up key', { model: CV_MODEL, voice: cosyVoiceVoice(), apiKey: MADE_UP_KEY });
  },
);
