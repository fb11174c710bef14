/**
 * The frame every probe runs in: its scope (waits, measurements, what it opened), a `report` that
 * hands each finding to the runner, and the rule that every point the probe owns is reported
 * exactly once, answered or with the reason it could not be (never a guess).
 */
import { DashScopeError } from '../../dashscope/errors';
import type { Finding, Probe, PointId, ProbeContext } from '../probe';
import { isKeyRefusal, keyRefusedEvidence } from '../refusals';
import { describeError } from './cosyvoice-run';
import { ProbeAborted, ProbeScope } from './scope';

export type Report = (point: PointId, shown: string | undefined, evidence: string) => void;

export type ProbeBody = (scope: ProbeScope, report: Report) => Promise<void>;

/** A network failure or a connect timeout: nothing was learned, and the next probe would fare no better. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof DashScopeError && (err.code === 'NetworkError' || err.code === 'ConnectTimeout');
}

/**
 * Rethrows what means the service cannot be reached, and a refusal of the user's key (never the
 * service's answer to a point: every probe but the bad-key one speaks with that key, and the
 * runner stops the run on it); returns any other error for the probe to read. `ownKey: false`:
 * the request used the kit's made-up key, whose refusal is the answer.
 */
export function refusalOf(err: unknown, { ownKey = true }: { ownKey?: boolean } = {}): DashScopeError {
  if (err instanceof ProbeAborted || isUnreachable(err) || !(err instanceof DashScopeError)) throw err;
  if (ownKey && isKeyRefusal(err)) throw err;
  return err;
}

/** An error a task or session ran into, read by a probe: a refusal of the user's key is thrown (see `refusalOf`). */
export function readable<E extends DashScopeError | undefined>(err: E): E {
  if (err !== undefined && isKeyRefusal(err)) throw err;
  return err;
}

function reason(err: unknown): string {
  if (err instanceof ProbeAborted) return 'not answered: the probe was stopped (interrupted, or out of time) first';
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
        rest(reason(err));
        // An abort is the runner's own doing; anything else it should see (an unreachable service ends the run early).
        if (!(err instanceof ProbeAborted)) throw err;
      } finally {
        scope.dispose();
      }
    },
  };
}
