/**
 * Deterministic "speech": every character becomes a short chirp whose pitch depends on the code
 * point and on the voice, so tests can predict each byte and a human in demo mode hears
 * something speech-like rather than a flat beep.
 */

const CHAR_SECONDS = 0.06;
const FADE_SECONDS = 0.008;
const AMPLITUDE = 0.3;
const HARMONIC = 0.3;
const CHIRP_RISE = 1.12;

/** Tones are pure per (voice, rate, code point); caching them keeps long texts cheap. */
const toneCache = new Map<string, Buffer>();
const TONE_CACHE_LIMIT = 20_000;

export function samplesPerCharacter(sampleRate: number): number {
  return Math.round(CHAR_SECONDS * sampleRate);
}

/** Milliseconds of audio one character produces (used for word timestamps). */
export function characterDurationMs(): number {
  return CHAR_SECONDS * 1000;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** 150–299 Hz, roughly the span of human speaking voices. */
export function voiceBasePitch(voice: string): number {
  return 150 + (fnv1a(voice) % 150);
}

function tone(codePoint: number, basePitch: number, sampleRate: number): Buffer {
  const n = samplesPerCharacter(sampleRate);
  const fade = Math.max(1, Math.min(Math.floor(n / 2), Math.round(FADE_SECONDS * sampleRate)));
  const semitones = ((codePoint * 7) % 19) - 4;
  const f0 = basePitch * Math.pow(2, semitones / 12);
  const duration = n / sampleRate;
  const sweep = (f0 * CHIRP_RISE - f0) / duration;
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const phase = 2 * Math.PI * (f0 * t + 0.5 * sweep * t * t);
    const envelope = Math.min(1, (i + 1) / fade, (n - i) / fade);
    const v = ((Math.sin(phase) + HARMONIC * Math.sin(2 * phase)) / (1 + HARMONIC)) * AMPLITUDE * envelope;
    out.writeInt16LE(Math.round(v * 32767), i * 2);
  }
  return out;
}

function cachedTone(codePoint: number, voice: string, sampleRate: number): Buffer {
  const key = `${voice}\u0000${sampleRate}\u0000${codePoint}`;
  let t = toneCache.get(key);
  if (!t) {
    if (toneCache.size >= TONE_CACHE_LIMIT) toneCache.clear();
    t = tone(codePoint, voiceBasePitch(voice), sampleRate);
    toneCache.set(key, t);
  }
  return t;
}

/** PCM s16le mono for one sentence; whitespace is voiced too, to keep the function trivial to predict. */
export function sentencePcm(sentence: string, voice: string, sampleRate: number): Buffer {
  const parts: Buffer[] = [];
  for (const ch of sentence) parts.push(cachedTone(ch.codePointAt(0) ?? 0, voice, sampleRate));
  return Buffer.concat(parts);
}
