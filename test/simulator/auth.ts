/** API-key check shared by the WebSocket handshakes and the customization endpoint (README §2). */
import type { IncomingHttpHeaders } from 'node:http';

export const INVALID_API_KEY = { code: 'InvalidApiKey', message: 'Invalid API-key provided.' } as const;

/** The scheme is matched case-insensitively: official samples send both `Bearer` and `bearer`. */
export function bearerKey(headers: IncomingHttpHeaders): string | undefined {
  const m = /^bearer\s+(\S.*)$/i.exec(headers.authorization ?? '');
  const key = m?.[1]?.trim();
  return key ? key : undefined;
}

export interface KeyPolicy {
  apiKeys: ReadonlySet<string>;
  acceptAnyKey: boolean;
}

export function isKeyAccepted(key: string | undefined, policy: KeyPolicy): key is string {
  if (!key) return false;
  return policy.acceptAnyKey || policy.apiKeys.has(key);
}
