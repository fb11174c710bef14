// `node scripts/make-chimes.mjs [outDir]` (default <repo>/chimes): writes the built-in chimes that
// pcm-speaker plays before an announcement (src/audio/chime.ts), as 16-bit mono 24 kHz WAV.
//
// They are made here, from arithmetic alone, so the project owns them (MIT, like the package) and
// anyone can see how: no recording, no randomness, no dependencies. The same script writes the
// same bytes every time; test/audio/chime.test.ts checks that chimes/ is exactly what it writes.
// 24 kHz is DashScope's default output rate (a chime then needs no resampling before most speech)
// and keeps the package small.
//
// Every chime:
// - starts with a short raised-cosine attack from exactly 0 (no click when it starts),
// - rings out with an exponential decay per partial (higher partials die first, like metal),
// - is faded to exactly 0 and followed by CLOSING_SILENCE_MS of true silence, so the speech after
//   it is separated by a breath but never by a gap the player would have to fill,
// - peaks at PEAK_DBFS, which leaves room for the node's volume up to 141 % without clipping.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RATE = 24000;
const PEAK_DBFS = -4;
const CLOSING_SILENCE_MS = 120;
const FADE_OUT_MS = 60;

/**
 * A partial of a struck sound: `ratio` times the strike's frequency, `amp` relative to the others,
 * `decay` its time constant in seconds.
 * @typedef {{ ratio: number, amp: number, decay: number }} Partial
 */

/** A struck bar or small bell: the fundamental rings longest. */
const BELL = [
  { ratio: 1, amp: 1, decay: 0.3 },
  { ratio: 2, amp: 0.32, decay: 0.18 },
  { ratio: 3.01, amp: 0.13, decay: 0.1 },
  { ratio: 4.24, amp: 0.07, decay: 0.06 },
];
/** A doorbell's tone bars: a free bar's overtones are inharmonic (2.756 and 5.404 times the fundamental). */
const TONE_BAR = [
  { ratio: 1, amp: 1, decay: 0.34 },
  { ratio: 2.756, amp: 0.22, decay: 0.12 },
  { ratio: 5.404, amp: 0.07, decay: 0.05 },
];
/** Soft and round, like a vibraphone (its bars are tuned so the second mode is four times the first). */
const SOFT_BAR = [
  { ratio: 1, amp: 1, decay: 0.26 },
  { ratio: 4, amp: 0.12, decay: 0.09 },
];
/** A beep with a little edge (a weak third harmonic), held rather than struck. */
const BEEP = [
  { ratio: 1, amp: 1, decay: Infinity },
  { ratio: 3, amp: 0.12, decay: Infinity },
];

/**
 * The chimes, in the order the editor lists them. `strikes` start at `at` seconds; a strike with
 * `holdMs` is a tone of that length (beep) rather than a ring that decays. `toneMs` is where the
 * sound is faded out; the closing silence follows.
 */
const CHIMES = [
  { name: 'ding', toneMs: 560, strikes: [{ at: 0, freq: 880, partials: BELL, attackMs: 4 }] },
  {
    name: 'ding-dong',
    toneMs: 920,
    strikes: [
      { at: 0, freq: 659.26, partials: TONE_BAR, attackMs: 3 }, // E5
      { at: 0.36, freq: 523.25, partials: TONE_BAR, attackMs: 3 }, // C5
    ],
  },
  {
    name: 'three-tone',
    toneMs: 860,
    strikes: [
      { at: 0, freq: 523.25, partials: SOFT_BAR, attackMs: 8 }, // C5
      { at: 0.22, freq: 659.26, partials: SOFT_BAR, attackMs: 8 }, // E5
      { at: 0.44, freq: 783.99, partials: SOFT_BAR, attackMs: 8 }, // G5
    ],
  },
  {
    name: 'alert',
    toneMs: 340,
    strikes: [
      { at: 0, freq: 987.77, partials: BEEP, attackMs: 6, holdMs: 120 }, // B5
      { at: 0.2, freq: 987.77, partials: BEEP, attackMs: 6, holdMs: 120 },
    ],
  },
];

/** 0 → 1 along half a cosine: the smoothest start (and, reversed, end) a sound can have. */
function raisedCosine(x) {
  return x <= 0 ? 0 : x >= 1 ? 1 : 0.5 - 0.5 * Math.cos(Math.PI * x);
}

/** The chime as samples from -1 to 1 (before scaling), with its closing silence. */
function render(chime) {
  const toneSamples = Math.round((chime.toneMs * RATE) / 1000);
  const total = toneSamples + Math.round((CLOSING_SILENCE_MS * RATE) / 1000);
  const out = new Float64Array(total);
  for (const strike of chime.strikes) {
    const start = Math.round(strike.at * RATE);
    const attack = (strike.attackMs * RATE) / 1000;
    const hold = strike.holdMs === undefined ? Infinity : (strike.holdMs * RATE) / 1000;
    for (let n = 0; start + n < toneSamples; n++) {
      // A held tone ends with the same raised cosine it starts with.
      const release = n < hold - attack ? 1 : raisedCosine((hold - n) / attack);
      if (release === 0) break;
      const t = n / RATE;
      let v = 0;
      for (const p of strike.partials) v += p.amp * Math.exp(-t / p.decay) * Math.sin(2 * Math.PI * strike.freq * p.ratio * t);
      out[start + n] += v * raisedCosine(n / attack) * release;
    }
  }
  const fade = Math.round((FADE_OUT_MS * RATE) / 1000);
  for (let i = 0; i < fade; i++) out[toneSamples - 1 - i] *= raisedCosine(i / fade);
  return out;
}

/** 16-bit samples peaking at PEAK_DBFS. */
function toPcm16(samples) {
  let peak = 0;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  const scale = (32767 * 10 ** (PEAK_DBFS / 20)) / peak;
  const pcm = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) pcm.writeInt16LE(Math.round(samples[i] * scale), i * 2);
  return pcm;
}

/** The canonical 44-byte header of a mono 16-bit WAV (the same one src/audio/resample.ts writes). */
function wav(pcm) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + pcm.length, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // integer PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}

const outDir = resolve(process.argv[2] ?? join(root, 'chimes'));
mkdirSync(outDir, { recursive: true });
for (const chime of CHIMES) {
  const file = join(outDir, `${chime.name}.wav`);
  const bytes = wav(toPcm16(render(chime)));
  writeFileSync(file, bytes);
  console.error(`${file}: ${((bytes.length - 44) / 2 / RATE).toFixed(3)} s`);
}
