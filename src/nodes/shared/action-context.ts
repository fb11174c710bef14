/** What the create/update work of both voice nodes needs from the node, and the CosyVoice wait they share. */
import type { CustomizationClient, CustomVoice } from '../../dashscope/customization';
import type { HttpAccess } from '../../dashscope/http-json';
import { waitUntilDeployed } from '../../dashscope/voice-deployment';

export interface ActionContext {
  http: HttpAccess;
  signal: AbortSignal;
  progress(text: string): void;
}

export interface Polling {
  intervalMs: number;
  timeoutMs: number;
}

/** Waits until a CosyVoice custom voice is OK, showing how long it has been deploying. */
export function waitForCosyVoice(ctx: ActionContext, client: CustomizationClient, voiceId: string, polling: Polling): Promise<CustomVoice> {
  return waitUntilDeployed(voiceId, () => client.query('voice-enrollment', voiceId), {
    ...polling,
    signal: ctx.signal,
    onStatus: (v, waitedMs) => {
      if (v.status === 'DEPLOYING') ctx.progress(`deploying (${Math.round(waitedMs / 1000)} s)`);
    },
  });
}
