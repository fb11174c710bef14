/**
 * A CosyVoice custom voice starts DEPLOYING and is silent until it is OK. This waits for it the
 * way the official sample does (query, then every 10 s, 30 times), but abortably and with a clear
 * error for UNDEPLOYED and for running out of time (docs/protocol.md "Custom voices: CosyVoice
 * status").
 */
import type { CustomizationClient, CustomVoice } from '../dashscope/customization';
import { DashScopeError } from '../dashscope/errors';
import { stoppedError } from '../dashscope/http-json';
import type { ActionContext } from './context';

/** How a CosyVoice voice is waited for: a query every intervalMs, for at most timeoutMs. */
export interface Polling {
  intervalMs: number;
  timeoutMs: number;
}

export interface DeploymentWait extends Polling {
  signal?: AbortSignal;
  /** Each status seen, with the time waited so far (for the node's status line). */
  onStatus?(voice: CustomVoice, waitedMs: number): void;
}

export const DEPLOY_POLL_INTERVAL_MS = 10_000;
export const DEPLOY_TIMEOUT_MS = 300_000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(stoppedError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(stoppedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retryable failures of a single query (a network blip, a 5xx) do not end the wait. */
function isTransient(err: unknown): boolean {
  const e = err as Partial<DashScopeError>;
  return e.retryable === true && e.code !== 'Closed';
}

export async function waitUntilDeployed(voiceId: string, query: () => Promise<CustomVoice>, wait: DeploymentWait): Promise<CustomVoice> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    const waited = Date.now() - started;
    try {
      const voice = await query();
      lastError = undefined;
      wait.onStatus?.(voice, waited);
      if (voice.status === 'OK') return voice;
      if (voice.status === 'UNDEPLOYED') {
        throw new DashScopeError({
          code: 'VoiceUndeployed',
          message: `the service rejected voice ${voiceId} (status UNDEPLOYED): the sample is probably unusable (needs 10 to 20 s of clear speech by one speaker, no music or noise); delete the voice and try another sample`,
          origin: 'http',
          retryable: false,
        });
      }
    } catch (err) {
      if (!isTransient(err)) throw err;
      lastError = err;
    }
    if (Date.now() - started + wait.intervalMs > wait.timeoutMs) {
      const why = lastError instanceof Error ? ` (last query failed: ${lastError.message})` : '';
      throw new DashScopeError({
        code: 'DeployTimeout',
        message: `voice ${voiceId} is still DEPLOYING after ${Math.round((Date.now() - started) / 1000)} s${why}; it may become usable later: query it, or raise the wait`,
        origin: 'client',
        retryable: true,
      });
    }
    await sleep(wait.intervalMs, wait.signal);
  }
}

/** Waits until a CosyVoice custom voice is OK, showing how long it has been deploying. */
export function waitForCosyVoice(ctx: ActionContext, client: CustomizationClient, voiceId: string, polling: Polling): Promise<CustomVoice> {
  return waitUntilDeployed(voiceId, () => client.query('voice-enrollment', voiceId), {
    ...polling,
    signal: ctx.signal,
    onStatus: (v, waitedMs) => {
      if (v.status === 'DEPLOYING') ctx.progress('deploying', { seconds: Math.round(waitedMs / 1000) });
    },
  });
}
