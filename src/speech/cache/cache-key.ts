import { createHash } from 'node:crypto';

/**
 * Bumped whenever what the audio depends on, or the entry layout, changes: old entries then simply
 * miss. 2: the summary is sealed (sealed-summary.ts) instead of stored in clear.
 */
const KEY_VERSION = 2;

/** JSON with object keys sorted and undefined dropped, so equal settings always give equal text. */
function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
}

/**
 * The cache key of one utterance: everything that changes the audio. `settings` is the whole
 * resolved synthesis request (model, voice, format, sample rate and every parameter), so a
 * parameter added later is covered without touching this function. `endpoint` keeps the
 * simulator's (or a proxy's) audio apart from the real service's.
 */
export function phraseKey(service: string, endpoint: string, settings: unknown, text: string): string {
  return createHash('sha256').update(stable([KEY_VERSION, service, endpoint, settings, text])).digest('hex');
}
