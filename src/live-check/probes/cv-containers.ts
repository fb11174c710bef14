/**
 * Container headers per task or per sentence (docs/protocol.md "Unconfirmed points"
 * cv-container-headers), from a two-sentence wav task and a two-sentence mp3 task; and opus at
 * 22050 Hz (cv-opus-rates).
 */
import type { AudioFormat } from '../../audio/audio-message';
import { accepted, containerHeaders } from './classify';
import { openCosyVoice, speak, taskOutcome, type TaskRecord } from './cosyvoice-run';
import { isRateLimited, RATE_LIMITED } from '../refusals';
import { defineProbe, readable, refusalOf } from './define';
import type { ProbeScope } from './scope';
import { billed, cosyVoiceVoice, CV_MODEL, HI, TWO_SENTENCES } from './texts';

const HEADER_NAMES = ['per-task', 'per-sentence'] as const;

async function task(scope: ProbeScope, format: AudioFormat, sampleRate: number, text: string): Promise<TaskRecord> {
  const link = await openCosyVoice(scope);
  const record = await speak(scope, link, { model: CV_MODEL, voice: cosyVoiceVoice(), format, sampleRate }, [text]);
  scope.release(link.connection);
  readable(record.error);
  return record;
}

/** The two formats' readings together: one that tells wins; two that disagree tell nothing. */
export function combine(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined || a === b) return a;
  return undefined;
}

export const cvContainers = defineProbe(
  {
    id: 'cv-containers',
    title: 'CosyVoice: wav and mp3 headers per task; opus at 22050 Hz',
    maxCharacters: billed([TWO_SENTENCES, TWO_SENTENCES, HI]),
    points: ['cv-container-headers', 'cv-opus-rates'],
  },
  async (scope, report) => {
    scope.ctx.progress(`CosyVoice: "${TWO_SENTENCES}" as wav, then as mp3`);
    const wav = await task(scope, 'wav', 24000, TWO_SENTENCES);
    const mp3 = await task(scope, 'mp3', 24000, TWO_SENTENCES);
    const read = (r: TaskRecord): string | undefined => (r.error ? undefined : containerHeaders(r.headers, r.sentencesBegun, HEADER_NAMES));
    const line = (name: string, r: TaskRecord): string => `${name}: ${r.headers} header(s) in ${r.frames} frames over ${r.sentencesBegun} sentence(s)${r.error ? ` (${taskOutcome(r)})` : ''}`;
    report('cv-container-headers', combine(read(wav), read(mp3)), `"${TWO_SENTENCES}": ${line('wav', wav)}; ${line('mp3', mp3)}`);

    scope.ctx.progress(`CosyVoice: "${HI}" as opus at 22050 Hz`);
    try {
      const opus = await task(scope, 'opus', 22050, HI);
      // A final refusal is a refused rate; a lost connection or a rate limit tells nothing.
      const ok = opus.error ? (opus.error.retryable ? undefined : false) : opus.result ? opus.audioBytes > 0 : undefined;
      report('cv-opus-rates', accepted(ok), `opus 22050 Hz: ${opus.error && isRateLimited(opus.error) ? `${RATE_LIMITED}: ` : ''}${taskOutcome(opus)}`);
    } catch (err) {
      const refusal = refusalOf(err);
      report('cv-opus-rates', undefined, `opus 22050 Hz: connection refused: ${refusal.code}: ${refusal.message}`);
    }
  },
);
