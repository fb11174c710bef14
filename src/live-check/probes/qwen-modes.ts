/**
 * One Qwen utterance in each mode, and its first-audio latency: cold (connect → first delta, the
 * server_commit utterance) and warm (a session opened ahead: append+commit → first delta, the
 * commit utterance). Qwen documents no latency; the readings compare with the 200–800 ms range
 * CosyVoice documents (docs/protocol.md "Unconfirmed points" cv-pacing), the same promise of
 * "first audio in well under a second" the package's timing tests are built on. They include the
 * network's round trip (the client sees no Qwen event that would measure it alone), so qwen-pacing
 * is informational: every reading is neutral (points.ts), the numbers are in the evidence.
 */
import { isRateLimited, RATE_LIMITED } from '../refusals';
import type { DashScopeError } from '../../dashscope/errors';
import { pacing, speaks } from './classify';
import { describeError, ms } from './cosyvoice-run';
import { defineProbe, readable, refusalOf, type Whose } from './define';
import { finishSession, openQwen, QWEN_MODEL, qwenSettings, type QwenLog } from './qwen-run';
import type { ProbeScope } from './scope';
import { billed, GOOD_EVENING } from './texts';

const FIRST_AUDIO_MS = 15_000;

function heard(log: QwenLog): number {
  return log.responses.reduce((sum, r) => sum + r.bytes, 0);
}

function outcome(log: QwenLog): string {
  const errors = log.errors.map(describeError).join('; ');
  return `${log.responses.length} response(s), ${heard(log)} bytes${errors ? `; ${errors}` : ''}${log.closed?.err ? `; ${describeError(log.closed.err)}` : ''}`;
}

type Spoken = { shown: string | undefined; evidence: string; latency?: number };

/**
 * A model this account may not use is an answer here, as on cv-speaks ("not available to this
 * account", neutral); the account as a whole refused (arrears, a wrong workspace) is not (define.ts).
 */
const MODEL_ASKED: Whose = { model: 'asked' };

async function utterance(scope: ProbeScope, mode: 'server_commit' | 'commit'): Promise<Spoken> {
  const connectAt = scope.now();
  let log: QwenLog;
  try {
    log = await openQwen(scope, qwenSettings(mode));
  } catch (err) {
    const refused = refusalOf(err, MODEL_ASKED);
    const limited = isRateLimited(refused) ? `${RATE_LIMITED}: ` : '';
    return { shown: speaks({ audioBytes: 0, error: refused }), evidence: `${mode}: ${limited}${describeError(refused)}` };
  }
  const sentAt = scope.now();
  log.session.append(GOOD_EVENING);
  if (mode === 'commit') log.session.commit();
  await scope.until(FIRST_AUDIO_MS, () => log.responses.some((r) => r.firstDeltaAt !== undefined) || log.closed !== undefined);
  const first = log.responses.find((r) => r.firstDeltaAt !== undefined)?.firstDeltaAt;
  await finishSession(scope, log);
  const from = mode === 'commit' ? sentAt : connectAt;
  const latency = first === undefined ? undefined : scope.elapsed(from, first);
  const errors = [...log.errors, log.closed?.err].filter((err): err is DashScopeError => err !== undefined);
  for (const err of errors) readable(err, MODEL_ASKED);
  const evidence = `${mode}, "${GOOD_EVENING}": ${outcome(log)}`;
  if (heard(log) > 0 && log.errors.length === 0) return { shown: 'speaks', evidence, latency };
  if (errors.some((err) => isRateLimited(err))) return { shown: undefined, evidence: `${RATE_LIMITED}: ${evidence}`, latency };
  // The first error decides, by the kit's one rule (classify.ts speaks): a model this account may not use is "not available".
  const failure = errors[0];
  return { shown: failure ? speaks({ audioBytes: 0, error: failure }) : 'fails', evidence, latency };
}

export const qwenModes = defineProbe(
  {
    id: 'qwen-modes',
    title: `Qwen (${QWEN_MODEL}): one utterance per mode; first-audio latency cold and warm`,
    maxCharacters: billed([GOOD_EVENING, GOOD_EVENING]),
    points: ['qwen-speaks-server_commit', 'qwen-speaks-commit', 'qwen-pacing'],
  },
  async (scope, report) => {
    scope.ctx.progress(`Qwen server_commit: "${GOOD_EVENING}" on a new connection`);
    const cold = await utterance(scope, 'server_commit');
    report('qwen-speaks-server_commit', cold.shown, cold.evidence);
    scope.ctx.progress(`Qwen commit: "${GOOD_EVENING}" on a session opened ahead`);
    const warm = await utterance(scope, 'commit');
    report('qwen-speaks-commit', warm.shown, warm.evidence);
    report(
      'qwen-pacing',
      pacing(warm.latency),
      `warm ${ms(warm.latency)} (append+commit → first delta, session open, network round trip included), cold ${ms(cold.latency)} (connect → first delta); compared with CosyVoice's documented 200–800 ms (Qwen documents none: informational)`,
    );
  },
);
