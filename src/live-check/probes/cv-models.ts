/**
 * One short utterance per CosyVoice model the account may use in the region, and the first-audio
 * latency of the kit's main model over a cold and a warm connection (docs/protocol.md
 * "Unconfirmed points" cv-pacing).
 */
import { modelsOf, regionsOffering, type ModelInfo } from '../../dashscope/catalog';
import { classifyError, type DashScopeError } from '../../dashscope/errors';
import type { Region } from '../../dashscope/endpoints';
import { cosyVoiceSpeaksPoint } from '../points';
import { isRateLimited, RATE_LIMITED } from '../refusals';
import { pacing, speaks } from './classify';
import { describeError, ms, openCosyVoice, speak, taskOutcome, type CosyVoiceLink, type TaskRecord } from './cosyvoice-run';
import { defineProbe, readable, refusalOf, type Whose } from './define';
import type { ProbeScope } from './scope';
import { billed, cosyVoiceVoices, CV_MODEL, HELLO } from './texts';

/** The main model first: its connection also serves the latency measurement. */
const MODELS: readonly ModelInfo[] = [...modelsOf('cosyvoice')].sort((a, b) => Number(b.id === CV_MODEL) - Number(a.id === CV_MODEL));
const CALLABLE = MODELS.filter((m) => m.systemVoices);
/** Voices tried on one model before a refusal is taken as the model's (a voice refused before task-started bills nothing). */
const VOICES_TRIED = 3;
/** Warm tasks for the latency: the best of them, one sample being at the mercy of the network. */
const WARM_TASKS = 2;

/** Why a model is not called in this region, or undefined when it is. */
export function skipReason(model: ModelInfo, region: Region): string | undefined {
  if (!model.systemVoices) return `${model.id} takes custom voices only (the catalog lists no system voice for it): not called`;
  if (region !== 'custom' && !regionsOffering(model.id).includes(region)) return `${model.id} is not offered in ${region} (catalog): not called`;
  return undefined;
}

/**
 * A warm task's first-audio time split into the network's part and the service's. The client
 * sends the text when task-started arrives, so first audio comes one round trip plus the
 * service's time after it; run-task → task-started is one round trip plus the service's start,
 * so taking it off leaves at most the service's time (a lower bound: a "slower" reading is sure).
 */
export interface WarmLatency {
  afterText: number;
  roundTrip: number;
  service: number;
}

export function warmLatency(scope: ProbeScope, record: TaskRecord): WarmLatency | undefined {
  if (record.startedAt === undefined || record.firstAudioAt === undefined) return undefined;
  const afterText = scope.elapsed(record.startedAt, record.firstAudioAt);
  const roundTrip = scope.elapsed(record.runTaskAt, record.startedAt);
  return { afterText, roundTrip, service: Math.max(0, afterText - roundTrip) };
}

interface Utterance {
  record?: TaskRecord;
  voice: string;
  /** Voices refused before `voice` (each one task-failed, no audio). */
  refusedVoices: string[];
  /** The connection was refused (an account refusal; a refused key and an unreachable service are thrown). */
  refused?: DashScopeError;
  /** Service-time ms: connect → first audio; (main model only) the best warm task. */
  cold?: number;
  warm?: WarmLatency;
}

/**
 * A refusal that may be the voice's: the request was refused before task-started. The client sends
 * text only after task-started (docs/protocol.md "CosyVoice: task lifecycle"), so such a task billed
 * nothing, and trying the next voice keeps `maxCharacters` exact; a failure after it is the model's.
 */
function voiceRefused(record: TaskRecord): boolean {
  return record.error !== undefined && record.startedAt === undefined && record.audioBytes === 0 && classifyError(record.error.code).kind === 'request';
}

/** A model this account may not use is this probe's answer ("not available to this account", neutral); the account as a whole refused is not (define.ts). */
const MODEL_ASKED: Whose = { model: 'asked' };

async function utterance(scope: ProbeScope, model: string): Promise<Utterance> {
  const voices = cosyVoiceVoices(model).slice(0, VOICES_TRIED);
  const refusedVoices: string[] = [];
  let link: CosyVoiceLink | undefined;
  let record: TaskRecord | undefined;
  let voice = voices[0] ?? '';
  for (const candidate of voices) {
    voice = candidate;
    // A failed task leaves its connection unusable (the package opens a new one: docs/protocol.md "CosyVoice: task lifecycle").
    if (!link || !link.connection.reusable) {
      if (link) scope.release(link.connection);
      try {
        link = await openCosyVoice(scope);
      } catch (err) {
        return { voice, refusedVoices, refused: refusalOf(err, MODEL_ASKED) };
      }
    }
    record = await speak(scope, link, { model, voice, format: 'pcm', sampleRate: 24000 }, [HELLO]);
    readable(record.error, MODEL_ASKED);
    if (!voiceRefused(record)) break;
    refusedVoices.push(voice);
  }
  if (!link || !record) return { voice, refusedVoices };
  const cold = record.firstAudioAt === undefined ? undefined : scope.elapsed(link.connectAt, record.firstAudioAt);
  let warm: WarmLatency | undefined;
  if (model === CV_MODEL && record.result) {
    for (let i = 0; i < WARM_TASKS && link.connection.reusable; i++) {
      const again = await speak(scope, link, { model, voice, format: 'pcm', sampleRate: 24000 }, [HELLO]);
      readable(again.error, MODEL_ASKED);
      const latency = warmLatency(scope, again);
      if (latency && (!warm || latency.service < warm.service)) warm = latency;
    }
  }
  scope.release(link.connection);
  return { record, voice, refusedVoices, cold, warm };
}

function evidenceOf(outcome: Utterance): string {
  const tried = outcome.refusedVoices.length > 0 ? `voice(s) ${outcome.refusedVoices.join(', ')} refused; ` : '';
  if (outcome.refused) return `connection refused: ${describeError(outcome.refused)}`;
  if (!outcome.record) return 'no voice to try (catalog)';
  const limited = isRateLimited(outcome.record.error) ? `${RATE_LIMITED}: ` : '';
  return `${limited}${tried}voice ${outcome.voice}: ${taskOutcome(outcome.record)}`;
}

export const cvModels = defineProbe(
  {
    id: 'cv-models',
    title: 'CosyVoice: one short utterance per model; first-audio latency cold and warm',
    // The most it can cost: every model with a system voice (a refused voice bills nothing), plus the main model's warm tasks.
    maxCharacters: billed([HELLO]) * (CALLABLE.length + WARM_TASKS),
    points: [...MODELS.map((m) => cosyVoiceSpeaksPoint(m.id)), 'cv-pacing'],
  },
  async (scope, report) => {
    let cold: number | undefined;
    let warm: WarmLatency | undefined;
    for (const model of MODELS) {
      const point = cosyVoiceSpeaksPoint(model.id);
      const skip = skipReason(model, scope.ctx.region);
      if (skip) {
        report(point, undefined, skip);
        continue;
      }
      scope.ctx.progress(`CosyVoice ${model.id}: "${HELLO}"`);
      const outcome = await utterance(scope, model.id);
      const error = outcome.record?.error ?? outcome.refused;
      report(point, outcome.record || outcome.refused ? speaks({ audioBytes: outcome.record?.audioBytes ?? 0, error }) : undefined, evidenceOf(outcome));
      if (model.id === CV_MODEL) {
        cold = outcome.cold;
        warm = outcome.warm;
      }
    }
    const split = warm
      ? `first audio ${ms(warm.afterText)} after the text, network round trip ~${ms(warm.roundTrip)} (run-task → task-started), so ~${ms(warm.service)} in the service (best of ${WARM_TASKS} warm tasks)`
      : 'no warm task gave first audio';
    report('cv-pacing', pacing(warm?.service), `${CV_MODEL}: ${split}; cold ${ms(cold)} (connect → first audio); documented 200–800 ms`);
  },
);
