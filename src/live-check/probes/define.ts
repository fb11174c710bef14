/**
 * The frame every probe runs in: its scope (waits, measurements, what it opened), a `report` that
 * hands each finding to the runner, and the rule that every point the probe owns is reported
 * exactly once, answered or with the reason it could not be (never a guess).
 */
import { DashScopeError } from '../../dashscope/errors';
import type { Finding, Probe, PointId, ProbeContext } from '../probe';
import { accountRefusedEvidence, isAccountRefusal, isArrears, isKeyRefusal, keyRefusedEvidence, modelRefused, modelUnavailable } from '../refusals';
import { describeError } from './cosyvoice-run';
import { ProbeAborted, ProbeScope } from './scope';

export type Report = (point: PointId, shown: string | undefined, evidence: string) => void;

export type ProbeBody = (scope: ProbeScope, report: Report) => Promise<void>;

/** A network failure or a connect timeout: nothing was learned, and the next probe would fare no better. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof DashScopeError && (err.code === 'NetworkError' || err.code === 'ConnectTimeout');
}

export interface Whose {
  /** false: the request used the kit's made-up key, whose refusal is the answer (bad-key). */
  ownKey?: boolean;
  /**
   * What the model the request named is to the question, and so which refusal of the account is
   * the answer (refusals.ts):
   * - `used` (default): only the means of asking; any refusal of the account is thrown.
   * - `asked`: whether the account may use it is the question (cv-speaks-*, qwen-speaks-*): a
   *   refusal of that model (`modelUnavailable`) is the answer.
   * - `made-up`: how a model that does not exist is refused is the question (cv-bad-model,
   *   qwen-unknown-model): a permission or a missing model (`modelRefused`) is the answer.
   * Arrears and a refused workspace are the account as a whole: thrown whatever the model.
   */
  model?: 'used' | 'asked' | 'made-up';
}

/**
 * Rethrows what no point may read as the service's answer: a service that cannot be reached, a
 * refusal of the user's key (every probe but the bad-key one speaks with that key, and the runner
 * stops the run on it), the account in arrears (the runner stops on it too), and a refusal of the
 * account that is not the question (`Whose.model`; the probe's points are left unanswered, saying
 * so). Returns any other error for the probe to read.
 */
export function refusalOf(err: unknown, whose: Whose = {}): DashScopeError {
  if (err instanceof ProbeAborted || isUnreachable(err) || !(err instanceof DashScopeError)) throw err;
  return readable(err, whose);
}

/** An error a task or session ran into, read by a probe: what is never an answer is thrown (see `refusalOf`). */
export function readable<E extends DashScopeError | undefined>(err: E, { ownKey = true, model = 'used' }: Whose = {}): E {
  if (err === undefined) return err;
  if (isKeyRefusal(err)) {
    if (ownKey) throw err;
    return err;
  }
  if (isArrears(err)) throw err;
  if (!isAccountRefusal(err)) return err;
  if (model === 'asked' && modelUnavailable(err)) return err;
  if (model === 'made-up' && modelRefused(err)) return err;
  throw err;
}

function reason(err: unknown, model: string | undefined): string {
  if (err instanceof ProbeAborted) return 'not answered: the probe was stopped (interrupted, or out of time) first';
  if (isKeyRefusal(err, { accepted: true })) return keyRefusedEvidence(err);
  if (isAccountRefusal(err)) return accountRefusedEvidence(err, model);
  if (isKeyRefusal(err)) return keyRefusedEvidence(err);
  if (err instanceof DashScopeError) return `not answered: ${describeError(err)}`;
  return `not answered: ${err instanceof Error ? err.message : String(err)}`;
}

export function defineProbe(spec: Omit<Probe, 'run'>, body: ProbeBody): Probe {
  return {
    ...spec,
    async run(ctx: ProbeContext, found: (finding: Finding) => void): Promise<void> {
      const scope = new ProbeScope(ctx);
      const reported = new Set<PointId>();
      const report: Report = (point, shown, evidence) => {
        if (reported.has(point)) return;
        reported.add(point);
        found(shown === undefined ? { point, evidence } : { point, shown, evidence });
      };
      const rest = (why: string): void => {
        for (const point of spec.points) report(point, undefined, why);
      };
      try {
        await body(scope, report);
        rest('not answered: the probe ended without seeing it');
      } catch (err) {
        rest(reason(err, scope.model));
        // An abort is the runner's own doing; anything else it should see (an unreachable service ends the run early).
        if (!(err instanceof ProbeAborted)) throw err;
      } finally {
        scope.dispose();
      }
    },
  };
}
