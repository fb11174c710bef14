/**
 * The free request a run makes before any probe: is the key accepted where the run is going? A key
 * belongs to one region (docs/protocol.md "Endpoints and regions"), so a Singapore key at the
 * Beijing host is refused — and every probe after would read that refusal as the service's answer
 * to its point. The upload policy for voice-enrollment costs no characters and needs nothing but
 * the key (docs/protocol.md "Temporary file upload"); nothing is uploaded.
 */
import type { Region } from '../dashscope/endpoints';
import type { DashScopeError } from '../dashscope/errors';
import { requestUploadPolicy } from '../dashscope/temporary-upload';
import type { Probe } from './probe';
import { guardMs } from './probes/cosyvoice-run';

/** Its id in the transcript's probe marks (never a `--only` name: it is not one of PROBES). */
export const PREFLIGHT_ID = 'preflight';
const MODEL = 'voice-enrollment';
/** Service time, as the probes' connect timeout: an answer this slow means the probes would fail anyway. */
const PREFLIGHT_TIMEOUT_MS = 10_000;

export const preflight: Probe = {
  id: PREFLIGHT_ID,
  title: `Key check: one request for the upload policy of ${MODEL} (free; nothing is uploaded)`,
  maxCharacters: 0,
  points: [],
  async run(ctx) {
    // Any failure is the runner's to read: a refused key ends the run, an unreachable host too, and
    // anything else (a proxy without this path, say) leaves the question to the probes.
    await requestUploadPolicy({ endpoints: ctx.endpoints, credentials: ctx.credentials }, MODEL, {
      tap: ctx.tap,
      signal: ctx.signal,
      // A guard, not a measurement: never below a second, as the probes' own (probes/cosyvoice-run.ts guardMs).
      timeoutMs: guardMs({ ctx }, PREFLIGHT_TIMEOUT_MS),
    });
  },
};

const OTHER_REGION: Readonly<Record<Exclude<Region, 'custom'>, Exclude<Region, 'custom'>>> = { beijing: 'singapore', singapore: 'beijing' };

/** How the refusal reads: `HTTP 401 InvalidApiKey`, or the code alone when no status came with it. */
function refusalOf(err: DashScopeError): string {
  return err.status !== undefined ? `HTTP ${err.status} ${err.code}` : err.code;
}

/**
 * Why the run stopped, and what to try. Before any probe the likeliest cause is a key of the other
 * region; a key accepted before and refused now was revoked or disabled in between.
 */
export function keyRefusedMessage(host: string, region: Region, err: DashScopeError, acceptedBefore: boolean): string {
  const what = `the key was refused at ${host} (${refusalOf(err)})`;
  if (acceptedBefore) return `${what} after it had been accepted: was it revoked or disabled? Check it in the console`;
  if (region === 'custom') return `${what}: check the key and the endpoint`;
  const other = OTHER_REGION[region];
  return `${what}: is it a key of the ${other} region? try --region ${other}`;
}
