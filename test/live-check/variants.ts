/**
 * Which simulator plays which reading of each live-check point (src/live-check/points.ts): the
 * simulator options (and faults) under which the kit, run against the simulator, must name that
 * reading. Waits the service would make are shortened by the same time scale the probes run at,
 * so a probe that measures them (× 1 / timeScale) reads the real value. Shared by the probe tests
 * and by anything that records a fixture per reading.
 */
import type { Fault, SimulatorOptions } from '../simulator';

export interface Variant {
  point: string;
  reading: string;
  /** The simulator for this reading at a given time scale. */
  sim(timeScale: number): SimulatorOptions;
  faults?: Fault[];
  /** A time scale this variant needs (latency readings want more headroom against scheduling noise). */
  timeScale?: number;
}

/** The time scale the probe tests run at: 1 s of the service's time is 50 ms. */
export const TIME_SCALE = 0.05;
/** For the latency readings: a millisecond of scheduling noise is 10 ms of reported latency. */
export const PACING_TIME_SCALE = 0.1;

/**
 * A simulator that plays every package default (docs/protocol.md "Unconfirmed points"): the
 * switches' own defaults, a first-audio latency inside the documented 200–800 ms, and the
 * service's clocks (60 s idle close, 23 s task clock) at the given scale. It has no rate limit, so
 * cv-throttle-answer is left unanswered ("no start was refused").
 */
export function packageDefaults(timeScale: number, over: SimulatorOptions = {}): SimulatorOptions {
  return {
    ...over,
    firstAudioLatencyMs: over.firstAudioLatencyMs ?? 400 * timeScale,
    cosyvoice: { idleCloseMs: 60_000 * timeScale, taskTimeoutMs: 23_000 * timeScale, ...over.cosyvoice },
    qwen: { ...over.qwen },
  };
}

const cv = (cosyvoice: NonNullable<SimulatorOptions['cosyvoice']>) => (ts: number) => packageDefaults(ts, { cosyvoice });
const qwen = (q: NonNullable<SimulatorOptions['qwen']>) => (ts: number) => packageDefaults(ts, { qwen: q });
const same = (ts: number): SimulatorOptions => packageDefaults(ts);

/** Every reading the simulator can play that is not the package's default (the defaults: packageDefaults). */
export const VARIANTS: readonly Variant[] = [
  { point: 'cv-speaks-cosyvoice-v3-flash', reading: 'not available to this account', sim: same, faults: [{ kind: 'fail-task', code: 'Model.AccessDenied', message: 'Model access denied.' }] },
  { point: 'cv-speaks-cosyvoice-v3-flash', reading: 'fails', sim: same, faults: [{ kind: 'fail-task', code: 'InternalError', message: 'Internal error.' }] },
  { point: 'cv-pacing', reading: 'slower than documented', sim: (ts) => packageDefaults(ts, { firstAudioLatencyMs: 1500 * ts }), timeScale: PACING_TIME_SCALE },
  // The service's 23 s clock shorter than the 3 s pause: the task fails in it.
  { point: 'cv-stream-pause', reading: 'failed', sim: (ts) => packageDefaults(ts, { cosyvoice: { taskTimeoutMs: 1000 * ts } }) },
  { point: 'cv-sentence-split', reading: 'at sentence ends only', sim: cv({ sentenceTerminators: '。！？!?；;\n' }) },
  { point: 'cv-container-headers', reading: 'per-sentence', sim: cv({ containerHeaders: 'per-sentence' }) },
  { point: 'cv-words-in', reading: 'task-finished', sim: cv({ wordsIn: 'task-finished' }) },
  { point: 'cv-words-in', reading: 'both', sim: cv({ wordsIn: 'both' }) },
  { point: 'cv-blank-text', reading: 'fail', sim: cv({ blankContinueTask: 'fail' }) },
  { point: 'cv-run-task-busy', reading: 'replace', sim: cv({ runTaskWhileRunning: 'replace' }) },
  { point: 'cv-throttle-answer', reading: 'task-failed', sim: cv({ rateLimitPerSecond: 3 }) },
  { point: 'cv-throttle-answer', reading: 'close', sim: cv({ rateLimitPerSecond: 3, throttleAnswer: 'close' }) },
  // "Voice does not exist" as InternalError (docs/protocol.md "Errors and retries"): the package would retry it.
  { point: 'cv-bad-voice', reading: 'refused, retried', sim: same, faults: [{ kind: 'fail-task', code: 'InternalError', message: 'Remote cancelled grpc stream.' }] },
  { point: 'cv-bad-model', reading: 'refused, retried', sim: same, faults: [{ kind: 'fail-task', code: 'InternalError', message: 'Remote cancelled grpc stream.', times: 2 }] },
  { point: 'qwen-bad-voice', reading: 'refused, retried', sim: same, faults: [{ kind: 'qwen-error', code: 'InternalError', message: 'Internal error.', on: 'session.update' }] },
  { point: 'qwen-unknown-model', reading: 'error event', sim: qwen({ unknownModel: 'error' }) },
  { point: 'qwen-unknown-model', reading: 'handshake refused', sim: same, faults: [{ kind: 'http-error', status: 404, code: 'ModelNotFound', message: 'Model not found.', service: 'qwen', times: 2 }] },
  { point: 'bad-key', reading: 'refused, retried', sim: same, faults: [{ kind: 'http-error', status: 503, code: 'ServiceUnavailable', message: 'Service unavailable.', service: 'cosyvoice', times: 3 }] },
  { point: 'bad-key', reading: 'accepted', sim: (ts) => packageDefaults(ts, { acceptAnyKey: true }) },
  { point: 'qwen-speaks-server_commit', reading: 'fails', sim: same, faults: [{ kind: 'qwen-error', code: 'InternalError', message: 'Internal error.', on: 'session.update' }] },
  { point: 'qwen-speaks-commit', reading: 'fails', sim: same, faults: [{ kind: 'qwen-error', code: 'InternalError', message: 'Internal error.', on: 'commit' }] },
  { point: 'qwen-pacing', reading: 'slower than documented', sim: (ts) => packageDefaults(ts, { firstAudioLatencyMs: 1500 * ts }), timeScale: PACING_TIME_SCALE },
  { point: 'qwen-server-cuts', reading: 'clause', sim: qwen({ serverCuts: 'clause' }) },
  { point: 'qwen-announce-commits', reading: 'sent', sim: qwen({ announceServerCommits: true }) },
  { point: 'qwen-buffer-limit', reading: 'a limit', sim: qwen({ maxBufferChars: 60 }) },
  { point: 'qwen-empty-commit', reading: 'committed', sim: qwen({ emptyCommit: 'committed' }) },
  { point: 'qwen-empty-commit', reading: 'ignore', sim: qwen({ emptyCommit: 'ignore' }) },
  { point: 'qwen-after-error', reading: 'closes', sim: same, faults: [{ kind: 'qwen-error', code: 'invalid_value', message: 'Error committing input text buffer: buffer is empty.', on: 'commit', fatal: true }] },
  { point: 'qwen-responses-per-commit', reading: 'per-sentence', sim: qwen({ responsesPerCommit: 'per-sentence' }) },
  { point: 'qwen-usage', reading: 'cumulative', sim: qwen({ usage: 'cumulative' }) },
  { point: 'qwen-container-headers', reading: 'per-session', sim: qwen({ containerHeaders: 'per-session' }) },
  { point: 'qwen-uncommitted-on-finish', reading: 'synthesize', sim: qwen({ uncommittedOnFinish: 'synthesize' }) },
  { point: 'qwen-extra-rates', reading: 'accepted', sim: qwen({ extraSampleRates: [22050] }) },
  { point: 'upload-size', reading: 'other', sim: (ts) => packageDefaults(ts, { uploads: { maxFileSizeMb: { 'voice-enrollment': 20 } } }) },
  { point: 'cv-idle-close', reading: '61 s', sim: (ts) => packageDefaults(ts, { cosyvoice: { idleCloseMs: 61_000 * ts } }) },
  { point: 'cv-idle-close', reading: 'other', sim: (ts) => packageDefaults(ts, { cosyvoice: { idleCloseMs: 30_000 * ts } }) },
  { point: 'cv-idle-close', reading: 'none within 90 s', sim: (ts) => packageDefaults(ts, { cosyvoice: { idleCloseMs: 200_000 * ts } }) },
  { point: 'cv-task-clock', reading: 'other', sim: (ts) => packageDefaults(ts, { cosyvoice: { taskTimeoutMs: 10_000 * ts } }) },
  { point: 'cv-timeout-code', reading: 'CLIENT_ERROR', sim: cv({ timeoutErrorCode: 'CLIENT_ERROR' }) },
  { point: 'cv-timeout-code', reading: 'other', sim: cv({ timeoutErrorCode: 'RequestTimeOut' }) },
  { point: 'qwen-idle-timeout', reading: 'a limit', sim: (ts) => packageDefaults(ts, { qwen: { idleTimeoutMs: 30_000 * ts } }) },
];
