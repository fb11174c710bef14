/**
 * A Qwen session at 22050 Hz, no text (docs/protocol.md "Unconfirmed points" qwen-extra-rates).
 * Not refused is not enough: the service may take the update and keep another rate, so the rate
 * session.updated echoes (the session in effect) decides.
 */
import { isRateLimited, RATE_LIMITED } from '../refusals';
import { describeError } from './cosyvoice-run';
import { defineProbe, refusalOf } from './define';
import { finishSession, openQwen, qwenSettings } from './qwen-run';

const RATE = 22050;

/** qwen-extra-rates from the rate session.updated echoed: kept → accepted, another → refused (taken as that), none → cannot tell. */
export function echoedRate(echoed: unknown): { shown: string | undefined; evidence: string } {
  if (typeof echoed !== 'number') return { shown: undefined, evidence: `sample_rate ${RATE}: session.updated carried no sample_rate` };
  if (echoed === RATE) return { shown: 'accepted', evidence: `sample_rate ${RATE}: session.updated echoes ${RATE}` };
  return { shown: 'refused', evidence: `sample_rate ${RATE}: not refused, but accepted as ${echoed} (session.updated)` };
}

export const qwenRates = defineProbe(
  {
    id: 'qwen-rates',
    title: `Qwen: session.update with sample_rate ${RATE} (no text)`,
    maxCharacters: 0,
    points: ['qwen-extra-rates'],
  },
  async (scope, report) => {
    scope.ctx.progress(`Qwen: sample_rate ${RATE}`);
    let echoed: unknown;
    try {
      const log = await openQwen(scope, qwenSettings('server_commit', { sampleRate: RATE }), {
        watcher: {
          event: (frame) => {
            if (frame.type !== 'session.updated') return;
            const session = frame.session as Record<string, unknown> | undefined;
            echoed = session?.sample_rate;
          },
        },
      });
      await finishSession(scope, log);
      const { shown, evidence } = echoedRate(echoed);
      report('qwen-extra-rates', shown, evidence);
    } catch (err) {
      const refused = refusalOf(err);
      if (isRateLimited(refused)) report('qwen-extra-rates', undefined, `sample_rate ${RATE}: ${RATE_LIMITED}: ${describeError(refused)}`);
      // Only a refusal in the service's words counts; a lost connection tells nothing.
      else report('qwen-extra-rates', refused.retryable ? undefined : 'refused', `sample_rate ${RATE}: ${describeError(refused)}`);
    }
  },
);
