import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * The summary of a cached utterance (its output 2) holds what was said: the text, and with word
 * timestamps every sentence and word. On disk it is sealed with AES-256-GCM under a key derived
 * from the phrase's own text, so a reader of the file who does not already know the text learns
 * nothing from it, while a hit (which has the text) opens it and replays the summary exactly.
 * Whoever guesses the text and settings can confirm the guess, as the file name (a hash of them)
 * already allows: the protection is against reading, not against guessing.
 */
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function secretOf(phraseKey: string, text: string): Buffer {
  return createHash('sha256').update('dashscope-tts phrase summary\n').update(phraseKey).update('\n').update(text, 'utf8').digest();
}

/** base64 of iv | tag | ciphertext of the summary's JSON. */
export function sealSummary(summary: Record<string, unknown>, phraseKey: string, text: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, secretOf(phraseKey, text), iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(summary), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
}

/** The summary, or undefined when it cannot be opened (another layout, or not this text): a miss. */
export function openSummary(sealed: unknown, phraseKey: string, text: string): Record<string, unknown> | undefined {
  if (typeof sealed !== 'string') return undefined;
  try {
    const bytes = Buffer.from(sealed, 'base64');
    if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv(ALGORITHM, secretOf(phraseKey, text), bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const json = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    const summary: unknown = JSON.parse(json);
    return summary !== null && typeof summary === 'object' && !Array.isArray(summary) ? (summary as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
