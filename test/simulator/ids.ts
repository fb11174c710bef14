/** Identifier shapes the real services use (README, qwen-realtime.md §3, voice-customization.md). */
import { randomBytes, randomUUID } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

export function requestId(): string {
  return randomUUID();
}

export function hex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

/** Qwen server ids look like `event_QzAVZRVa9hKqM5VOaHunh`: a prefix plus 21 alphanumerics. */
export function qwenId(prefix: 'event' | 'sess' | 'resp' | 'item'): string {
  return `${prefix}_${alnum(21)}`;
}
