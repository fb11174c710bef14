/**
 * The live check's probes against the simulator: in every variant the simulator can play, each
 * probe names the reading the simulator played (the "names that variant correctly every
 * time"), within its budget, without the key in anything it writes, and leaving nothing open.
 */
import assert from 'node:assert/strict';
import { startDelayProxy } from '../../bench/delay-proxy';
import { rawCatalog } from '../../src/dashscope/catalog';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import { DashScopeError } from '../../src/dashscope/errors';
import { POINTS, pointById } from '../../src/live-check/points';
import type { Finding, Probe, ProbeContext } from '../../src/live-check/probe';
import * as classify from '../../src/live-check/probes/classify';
import { PROBES } from '../../src/live-check/probes/index';
import { echoedRate } from '../../src/live-check/probes/qwen-rates';
import { cosyVoiceVoice } from '../../src/live-check/probes/texts';
import { ProbeScope } from '../../src/live-check/probes/scope';
import { isKeyRefusal } from '../../src/live-check/refusals';
import { TranscriptRecorder } from '../../src/live-check/transcript';
import { DashScopeSimulator, type Fault, type SimulatorOptions } from '../simulator';
import { trackSourceTimers } from '../support/handles';
import { until } from '../support/until';
import { packageDefaults, PACING_TIME_SCALE, TIME_SCALE, VARIANTS, type Variant } from './variants';

const KEY = 'sk-test-key';
const BUDGET = 2000;

interface Run {
  findings: Finding[];
  lines: string[];
  progress: string[];
  billed: number;
  openSockets: number;
  error?: unknown;
}

function probeFor(point: string): Probe {
  const probe = PROBES.find((p) => p.points.includes(point));
  if (!probe) throw new Error(`no probe answers ${point}`);
  return probe;
}

interface RunOptions {
  /** A network between the kit and the simulator: every chunk delayed this long (run's clock) each way. */
  oneWayMs?: number;
}

/** Runs one probe the way the runner does (`probe.run(ctx, found)`), against a fresh simulator. */
async function runProbe(
  probe: Probe,
  options: SimulatorOptions,
  faults: readonly Fault[] = [],
  timeScale = TIME_SCALE,
  signal = new AbortController().signal,
  { oneWayMs }: RunOptions = {},
): Promise<Run> {
  const sim = await DashScopeSimulator.start(options);
  for (const fault of faults) sim.inject(fault);
  const proxy = oneWayMs === undefined ? undefined : await startDelayProxy(sim.port, oneWayMs);
  const baseUrl = proxy ? `http://127.0.0.1:${proxy.port}` : sim.baseUrl;
  const run: Run = { findings: [], lines: [], progress: [], billed: 0, openSockets: 0 };
  const ctx: ProbeContext = {
    endpoints: resolveEndpoints({ region: 'custom', endpoint: baseUrl }),
    credentials: { apiKey: KEY },
    region: 'custom',
    tap: new TranscriptRecorder((line) => run.lines.push(line), { secrets: [KEY] }),
    signal,
    timeScale,
    progress: (line) => run.progress.push(line),
  };
  try {
    await probe.run(ctx, (finding) => run.findings.push(finding));
  } catch (err) {
    run.error = err;
  } finally {
    await until(() => sim.stats.openSockets === 0, 3000);
    run.openSockets = sim.stats.openSockets;
    run.billed = sim.stats.billedCharacters;
    await proxy?.close();
    await sim.close();
  }
  return run;
}

function shownFor(run: Run, point: string): Finding {
  const found = run.findings.filter((f) => f.point === point);
  assert.equal(found.length, 1, `${point} reported ${found.length} times: ${JSON.stringify(run.findings)}`);
  return found[0] as Finding;
}

/** What every run must hold, whatever the variant. */
function checkRun(probe: Probe, run: Run): void {
  assert.equal(run.error, undefined, `${probe.id} threw: ${String(run.error)}`);
  assert.deepEqual(run.findings.map((f) => f.point).sort(), [...probe.points].sort(), `${probe.id} reports each of its points once`);
  for (const f of run.findings) {
    const point = pointById(f.point);
    assert.ok(point, `${f.point} is in POINTS`);
    if (f.shown !== undefined) assert.ok(point.readings.includes(f.shown), `${f.point}: "${f.shown}" is one of its readings`);
    assert.ok(f.evidence.length > 0, `${f.point} has evidence`);
  }
  assert.ok(run.billed <= probe.maxCharacters, `${probe.id} billed ${run.billed} > its maxCharacters ${probe.maxCharacters}`);
  assert.equal(run.openSockets, 0, `${probe.id} left sockets open`);
  const everything = [...run.lines, ...run.progress, ...run.findings.map((f) => JSON.stringify(f))].join('\n');
  assert.ok(!everything.includes(KEY), `${probe.id}: the key appears in its output`);
}

/** The findings the package-defaults simulator cannot settle, and why they stay unanswered. */
const UNANSWERED_BY_DEFAULT: Record<string, RegExp> = {
  'cv-throttle-answer': /no start was refused/,
  'cv-speaks-cosyvoice-v3.5-plus': /custom voices only/,
  'cv-speaks-cosyvoice-v3.5-flash': /custom voices only/,
};

describe('live-check probes', function () {
  this.timeout(60_000);

  describe('the list', () => {
    it('PROBES answer only points of POINTS, each point by exactly one probe, with unique ids', () => {
      const ids = PROBES.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length);
      const answered = PROBES.flatMap((p) => p.points);
      assert.equal(new Set(answered).size, answered.length, 'no point is answered twice');
      for (const point of answered) assert.ok(pointById(point), `${point} is in POINTS`);
      assert.deepEqual([...answered].sort(), POINTS.map((p) => p.id).sort(), 'every point is asked by a probe');
    });

    it('each point names its default among its readings', () => {
      for (const p of POINTS) assert.ok(p.readings.includes(p.packageDefault), `${p.id}: default "${p.packageDefault}"`);
    });

    it('the long probes come last, and the budget is under 2,000 characters with and without --long', () => {
      const firstLong = PROBES.findIndex((p) => p.long);
      assert.ok(firstLong > 0 && PROBES.slice(firstLong).every((p) => p.long), 'long probes last');
      const quick = PROBES.filter((p) => !p.long).reduce((n, p) => n + p.maxCharacters, 0);
      const all = PROBES.reduce((n, p) => n + p.maxCharacters, 0);
      assert.ok(quick > 0 && quick < BUDGET, `default run: ${quick}`);
      assert.ok(all < BUDGET, `with --long: ${all}`);
    });
  });

  describe('against the simulator playing every package default', () => {
    for (const probe of PROBES) {
      it(`${probe.id} names the package's default for each of its points`, async () => {
        const run = await runProbe(probe, packageDefaults(TIME_SCALE));
        checkRun(probe, run);
        for (const id of probe.points) {
          const finding = shownFor(run, id);
          const unanswered = UNANSWERED_BY_DEFAULT[id];
          if (unanswered) {
            assert.equal(finding.shown, undefined, `${id}: ${finding.evidence}`);
            assert.match(finding.evidence, unanswered);
          } else assert.equal(finding.shown, pointById(id)?.packageDefault, `${id}: ${finding.evidence}`);
        }
      });
    }
  });

  describe('against the simulator playing each other reading', () => {
    const byPoint = new Map<string, Variant[]>();
    for (const v of VARIANTS) byPoint.set(v.point, [...(byPoint.get(v.point) ?? []), v]);
    for (const v of VARIANTS) {
      it(`${v.point}: names "${v.reading}"`, async () => {
        const point = pointById(v.point);
        assert.ok(point, `${v.point} is in POINTS`);
        assert.ok(point.readings.includes(v.reading), `"${v.reading}" is a reading of ${v.point}`);
        // A default reading is listed only when the package-defaults simulator cannot play it.
        assert.ok(v.reading !== point.packageDefault || UNANSWERED_BY_DEFAULT[v.point], 'a reading the defaults run does not cover');
        const probe = probeFor(v.point);
        const timeScale = v.timeScale ?? TIME_SCALE;
        const run = await runProbe(probe, v.sim(timeScale), v.faults, timeScale);
        checkRun(probe, run);
        const finding = shownFor(run, v.point);
        assert.equal(finding.shown, v.reading, finding.evidence);
      });
    }
  });

  describe('interrupted', () => {
    for (const id of ['cv-stream', 'qwen-cuts', 'cv-idle']) {
      it(`${id}: an abort mid-probe returns promptly, reports its points unanswered, and leaves no socket and no timer`, async () => {
        const probe = PROBES.find((p) => p.id === id) as Probe;
        const controller = new AbortController();
        const timers = trackSourceTimers();
        try {
          // Abort once the probe has a socket open and is waiting.
          const aborting = (async () => {
            await new Promise((r) => setTimeout(r, 60));
            controller.abort();
            return Date.now();
          })();
          const run = await runProbe(probe, packageDefaults(1), [], 1, controller.signal);
          const abortedAt = await aborting;
          assert.equal(run.error, undefined);
          assert.ok(run.lines.some((l) => l.includes('"kind":"opened"')), 'the abort came with a socket open');
          assert.equal(run.openSockets, 0);
          assert.deepEqual(run.findings.map((f) => f.point).sort(), [...probe.points].sort());
          for (const f of run.findings) {
            assert.equal(f.shown, undefined, `${f.point}: ${f.evidence}`);
            assert.match(f.evidence, /stopped \(interrupted/);
          }
          assert.ok(Date.now() - abortedAt < 3500, 'returned promptly');
          await until(() => timers.live().length === 0, 2500);
          assert.deepEqual(timers.live(), []);
        } finally {
          timers.stop();
        }
      });
    }

    it('a probe given an aborted signal opens nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      const run = await runProbe(PROBES[0] as Probe, packageDefaults(TIME_SCALE), [], TIME_SCALE, controller.signal);
      assert.equal(run.error, undefined);
      assert.equal(run.lines.filter((l) => l.includes('"open"')).length, 0);
      assert.ok(run.findings.every((f) => f.shown === undefined));
    });
  });

  describe("the review's cases: no wrong reading against the real service", () => {
    const speaksPoint = 'cv-speaks-cosyvoice-v3-flash';
    const byId = (id: string): Probe => PROBES.find((p) => p.id === id) as Probe;

    for (const probe of PROBES) {
      it(`${probe.id}: a refused key is never a reading: every point unanswered ("the key was refused"), the refusal thrown for the runner`, async () => {
        const run = await runProbe(probe, packageDefaults(TIME_SCALE, { apiKeys: ['sk-another-key'] }));
        assert.ok(isKeyRefusal(run.error), `${probe.id} threw ${String(run.error)}`);
        assert.deepEqual(run.findings.map((f) => f.point).sort(), [...probe.points].sort());
        for (const f of run.findings) {
          assert.equal(f.shown, undefined, `${f.point}: ${f.evidence}`);
          // The v3.5 models are never called (custom voices only): they say so, not that the key was refused.
          if (!/custom voices only/.test(f.evidence)) assert.match(f.evidence, /the key was refused \(HTTP 401/, f.point);
        }
        assert.equal(run.openSockets, 0);
        assert.ok(![...run.lines, ...run.findings.map((f) => f.evidence)].join('\n').includes(KEY));
      });
    }

    it('"not available to this account" is neutral on every cv-speaks point; qwen-pacing is informational', () => {
      const speaking = POINTS.filter((p) => p.id.startsWith('cv-speaks-'));
      assert.ok(speaking.length >= 4);
      for (const p of speaking) assert.deepEqual(p.neutral, ['not available to this account'], p.id);
      assert.deepEqual(pointById('qwen-pacing')?.neutral, pointById('qwen-pacing')?.readings);
      assert.equal(pointById('cv-pacing')?.neutral, undefined, 'cv-pacing keeps its verdict: the round trip is taken off');
    });

    it('cv-pacing: a distant service (500 ms round trip) with a 400 ms first audio reads as documented, the round trip in the evidence', async () => {
      const run = await runProbe(byId('cv-models'), packageDefaults(PACING_TIME_SCALE), [], PACING_TIME_SCALE, undefined, { oneWayMs: 250 * PACING_TIME_SCALE });
      checkRun(byId('cv-models'), run);
      const finding = shownFor(run, 'cv-pacing');
      assert.equal(finding.shown, '800 ms or less, as documented', finding.evidence);
      const m = /network round trip ~(\d+) ms .*so ~(\d+) ms in the service/.exec(finding.evidence);
      assert.ok(m, finding.evidence);
      assert.ok(Number(m[1]) >= 450, `round trip ${m[1]} ms`);
      assert.ok(Math.abs(Number(m[2]) - 400) < 250, `service ${m[2]} ms`);
    });

    it('cv-pacing: a slow service is still slow behind the same network', async () => {
      const run = await runProbe(byId('cv-models'), packageDefaults(PACING_TIME_SCALE, { firstAudioLatencyMs: 1500 * PACING_TIME_SCALE }), [], PACING_TIME_SCALE, undefined, {
        oneWayMs: 250 * PACING_TIME_SCALE,
      });
      assert.equal(shownFor(run, 'cv-pacing').shown, 'slower than documented', shownFor(run, 'cv-pacing').evidence);
    });

    it('qwen-cuts behind a distant network (3 s round trip): a late answer is no buffer cut', async () => {
      const run = await runProbe(byId('qwen-cuts'), packageDefaults(TIME_SCALE), [], TIME_SCALE, undefined, { oneWayMs: 1500 * TIME_SCALE });
      checkRun(byId('qwen-cuts'), run);
      for (const id of byId('qwen-cuts').points) assert.equal(shownFor(run, id).shown, pointById(id)?.packageDefault, `${id}: ${shownFor(run, id).evidence}`);
    });

    it('qwen-cuts behind a distant network: a cut at the comma answered late is still a cut at the comma', async () => {
      const run = await runProbe(byId('qwen-cuts'), packageDefaults(TIME_SCALE, { qwen: { serverCuts: 'clause' } }), [], TIME_SCALE, undefined, { oneWayMs: 1500 * TIME_SCALE });
      checkRun(byId('qwen-cuts'), run);
      assert.equal(shownFor(run, 'qwen-server-cuts').shown, 'clause', shownFor(run, 'qwen-server-cuts').evidence);
      assert.equal(shownFor(run, 'qwen-buffer-limit').shown, 'none within 150 characters', shownFor(run, 'qwen-buffer-limit').evidence);
    });

    it('qwen-cuts: no response at all leaves qwen-server-cuts unanswered', async () => {
      // Every response fails before its first delta, and is never created: a service that says nothing to the clauses.
      const run = await runProbe(byId('qwen-cuts'), packageDefaults(TIME_SCALE, { qwen: { sentenceTerminators: '\n' } }));
      checkRun(byId('qwen-cuts'), run);
      const cuts = shownFor(run, 'qwen-server-cuts');
      assert.equal(cuts.shown, undefined, cuts.evidence);
      assert.match(cuts.evidence, /no response/);
    });

    it('a rate limit outside cv-throttle is "cannot tell", never a refusal reading or "fails"', async () => {
      const throttled: Fault = { kind: 'fail-task', code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' };
      const errors = await runProbe(byId('errors'), packageDefaults(TIME_SCALE), [throttled]);
      checkRun(byId('errors'), errors);
      assert.equal(shownFor(errors, 'cv-bad-voice').shown, undefined);
      assert.match(shownFor(errors, 'cv-bad-voice').evidence, /rate-limited/);
      const models = await runProbe(byId('cv-models'), packageDefaults(TIME_SCALE), [throttled]);
      checkRun(byId('cv-models'), models);
      assert.equal(shownFor(models, speaksPoint).shown, undefined);
      assert.match(shownFor(models, speaksPoint).evidence, /rate-limited/);
    });

    it('cv-throttle is the last quick probe, says it goes over the rate, and cools down', () => {
      const quick = PROBES.filter((p) => !p.long);
      assert.equal(quick[quick.length - 1]?.id, 'cv-throttle');
      assert.match(byId('cv-throttle').title, /over the account's rate/);
    });

    it('qwen-extra-rates: a rate taken but not kept (session.updated echoes another) is "refused", accepted as that rate', async () => {
      const run = await runProbe(byId('qwen-rates'), packageDefaults(TIME_SCALE, { qwen: { otherSampleRates: 'keep' } }));
      checkRun(byId('qwen-rates'), run);
      const finding = shownFor(run, 'qwen-extra-rates');
      assert.equal(finding.shown, 'refused', finding.evidence);
      assert.match(finding.evidence, /accepted as 24000/);
    });

    it('qwen-bad-voice: a voice taken at session.update and refused when it would speak is "refused", not "accepted"', async () => {
      const run = await runProbe(byId('errors'), packageDefaults(TIME_SCALE, { qwen: { voiceCheckedAt: 'response' } }));
      checkRun(byId('errors'), run);
      const finding = shownFor(run, 'qwen-bad-voice');
      assert.equal(finding.shown, 'refused, final', finding.evidence);
      assert.match(finding.evidence, /session\.updated, then/);
    });

    it('cv-models: a model that fails after task-started is not tried with another voice (a retry would bill again)', async () => {
      const failing: Fault = { kind: 'fail-task', code: 'InvalidParameter', message: 'Invalid parameter.', after: 'first-text', times: Infinity };
      const run = await runProbe(byId('cv-models'), packageDefaults(TIME_SCALE), [failing]);
      checkRun(byId('cv-models'), run);
      const tried = run.findings.filter((f) => f.point.startsWith('cv-speaks-') && f.shown !== undefined);
      assert.ok(tried.length >= 2, JSON.stringify(run.findings));
      for (const f of tried) {
        assert.equal(f.shown, 'fails', `${f.point}: ${f.evidence}`);
        assert.doesNotMatch(f.evidence, /refused;/, `${f.point}: one voice only`);
      }
      const runTasks = run.lines.filter((l) => l.includes('"kind":"out"') && l.includes('"run-task"')).length;
      assert.equal(runTasks, tried.length, 'one task per model');
    });

    it('cv-sentence-split is read from a task sent whole (cv-words), not from the task with the pause', () => {
      assert.equal(PROBES.find((p) => p.points.includes('cv-sentence-split'))?.id, 'cv-words');
    });

    it('the CosyVoice voice: word timestamps, not marked Beijing-only; a refused voice is followed by the next', async () => {
      const voices = (rawCatalog().cosyvoice_system_voices as { voices: { voice: string; word_timestamp?: boolean; note?: string; models: string[] }[] }).voices;
      const chosen = voices.find((v) => v.voice === cosyVoiceVoice());
      assert.ok(chosen, cosyVoiceVoice());
      assert.equal(chosen.word_timestamp, true);
      assert.doesNotMatch(chosen.note ?? '', /beijing region only/i);
      assert.ok(chosen.models.includes('cosyvoice-v3-plus'), 'the same voice on both v3 models');
      const run = await runProbe(byId('cv-models'), packageDefaults(TIME_SCALE), [{ kind: 'fail-task', code: 'InvalidParameter', message: 'Voice not found.' }]);
      checkRun(byId('cv-models'), run);
      const finding = shownFor(run, speaksPoint);
      assert.equal(finding.shown, 'speaks', finding.evidence);
      assert.match(finding.evidence, new RegExp(`voice\\(s\\) ${cosyVoiceVoice()} refused; voice \\w+`));
    });

    it('an open that resolves after the probe ended is closed at once, never kept', async () => {
      const scope = new ProbeScope({
        endpoints: resolveEndpoints({ region: 'custom', endpoint: 'http://127.0.0.1:1' }),
        credentials: { apiKey: KEY },
        region: 'custom',
        tap: new TranscriptRecorder(() => undefined, { secrets: [KEY] }),
        signal: new AbortController().signal,
        timeScale: TIME_SCALE,
        progress: () => undefined,
      });
      const seen: string[] = [];
      const thing = { close: () => seen.push('close'), terminate: () => seen.push('terminate') };
      let open!: (t: typeof thing) => void;
      const late = scope.opening(new Promise<typeof thing>((resolve) => (open = resolve)));
      late.catch(() => undefined);
      scope.dispose();
      open(thing);
      await assert.rejects(late, /interrupted/);
      assert.deepEqual(seen, ['terminate']);
      assert.deepEqual(scope.track({ close: () => seen.push('close 2'), terminate: () => seen.push('terminate 2') }) && seen, ['terminate', 'terminate 2']);
    });

    it('cv-throttle: an upgrade refused (429) ends with every socket closed, the others read', async () => {
      const run = await runProbe(byId('cv-throttle'), packageDefaults(TIME_SCALE, { cosyvoice: { rateLimitPerSecond: 3 } }), [
        { kind: 'http-error', status: 429, code: 'Throttling', message: 'Too many requests.', service: 'cosyvoice' },
      ]);
      checkRun(byId('cv-throttle'), run);
      const finding = shownFor(run, 'cv-throttle-answer');
      assert.equal(finding.shown, 'task-failed', finding.evidence);
      assert.match(finding.evidence, /1 connection\(s\) refused at the upgrade/);
    });
  });

  describe('classifiers', () => {
    it('pacing', () => {
      const table: [number | undefined, string | undefined][] = [
        [undefined, undefined],
        [0, '800 ms or less, as documented'],
        [800, '800 ms or less, as documented'],
        [801, 'slower than documented'],
      ];
      for (const [ms, reading] of table) assert.equal(classify.pacing(ms), reading, String(ms));
    });

    it('speaks', () => {
      assert.equal(classify.speaks({ audioBytes: 10 }), 'speaks');
      assert.equal(classify.speaks({ audioBytes: 0 }), 'fails');
      // A refused key or a rate limit is never a reading (the probe stops on the key; refusals.ts).
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'InvalidApiKey' } }), undefined);
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'Whatever', status: 401 } }), undefined);
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'Throttling.RateQuota' } }), undefined);
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'Arrearage' } }), 'not available to this account');
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'Model.AccessDenied' } }), 'not available to this account');
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'ModelNotFound' } }), 'not available to this account');
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'AccessDenied.Unpurchased', status: 400 } }), 'not available to this account');
      // The code decides, not the status: a 403 at the upgrade naming the model or its quota is the account's (refusals.ts).
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'Model.AccessDenied', status: 403 } }), 'not available to this account');
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'AllocationQuota.FreeTierOnly', status: 403 } }), 'not available to this account');
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'InternalError' } }), 'fails');
      assert.equal(classify.speaks({ audioBytes: 0, error: { code: 'InvalidParameter' } }), 'fails');
    });

    it('container headers, sentence split, words', () => {
      const names = ['one', 'each'] as const;
      assert.equal(classify.containerHeaders(1, 2, names), 'one');
      assert.equal(classify.containerHeaders(2, 2, names), 'each');
      assert.equal(classify.containerHeaders(3, 3, names), 'each');
      assert.equal(classify.containerHeaders(2, 3, names), undefined);
      assert.equal(classify.containerHeaders(1, 1, names), undefined);
      assert.equal(classify.containerHeaders(0, 2, names), undefined);
      assert.equal(classify.sentenceSplit(3, 2), 'at commas too');
      assert.equal(classify.sentenceSplit(2, 2), 'at sentence ends only');
      assert.equal(classify.sentenceSplit(1, 2), undefined, 'merged sentences say nothing about commas');
      assert.equal(classify.sentenceSplit(0, 2), undefined);
      assert.equal(classify.wordsIn(2, 0), 'sentence-end');
      assert.equal(classify.wordsIn(0, 1), 'task-finished');
      assert.equal(classify.wordsIn(2, 1), 'both');
      assert.equal(classify.wordsIn(0, 0), undefined);
      assert.equal(classify.wordTimes(0, 800), 'sentence');
      assert.equal(classify.wordTimes(850, 800), 'task');
      assert.equal(classify.wordTimes(undefined, 800), undefined);
    });

    it('refusals and the unknown Qwen model', () => {
      const err = (code: string, retryable: boolean, extra: { status?: number; closeCode?: number; closeReason?: string } = {}): DashScopeError =>
        new DashScopeError({ code, message: code, origin: 'task', retryable, ...extra });
      assert.equal(classify.refusal(err('InvalidParameter', false), false), 'refused, final');
      assert.equal(classify.refusal(err('InternalError', true), false), 'refused, retried');
      // A rate limit is the account's budget, not the answer to the request.
      assert.equal(classify.refusal(err('Throttling.RateQuota', true), false), undefined);
      assert.equal(classify.refusal(err('Unknown', true, { status: 429 }), false), undefined);
      assert.equal(classify.refusal(err('ConnectionClosed', true, { closeCode: 1013, closeReason: 'Throttling.RateQuota' }), false), undefined);
      assert.equal(classify.refusal(undefined, true), 'accepted');
      assert.equal(classify.refusal(undefined, false), undefined);
      const base = { sessionCreated: false, errorEvent: false, handshakeRefused: false, closed: false, accepted: false };
      assert.equal(classify.unknownModel({ ...base, handshakeRefused: true }), 'handshake refused');
      assert.equal(classify.unknownModel({ ...base, sessionCreated: true, errorEvent: true, closed: true }), 'error event');
      assert.equal(classify.unknownModel({ ...base, sessionCreated: true, closed: true }), 'session.created, then close');
      assert.equal(classify.unknownModel({ ...base, closed: true }), undefined);
    });

    it('Qwen readings', () => {
      assert.equal(classify.emptyCommit({ error: true, committed: false }), 'error');
      assert.equal(classify.emptyCommit({ error: false, committed: true }), 'committed');
      assert.equal(classify.emptyCommit({ error: false, committed: false }), 'ignore');
      assert.equal(classify.afterError(true, true), 'closes');
      assert.equal(classify.afterError(true, false), 'stays open');
      assert.equal(classify.afterError(false, false), undefined);
      assert.equal(classify.responsesPerCommit(1), 'one');
      assert.equal(classify.responsesPerCommit(2), 'per-sentence');
      assert.equal(classify.responsesPerCommit(0), undefined);
      assert.equal(classify.usage(6, 6, 15), 'per-response');
      assert.equal(classify.usage(15, 6, 15), 'cumulative');
      assert.equal(classify.usage(7, 6, 15), undefined);
      assert.equal(classify.usage(undefined, 6, 15), undefined);
      assert.equal(classify.announceCommits(1, 2), 'sent');
      assert.equal(classify.announceCommits(0, 2), 'not sent');
      assert.equal(classify.announceCommits(0, 0), undefined);
      assert.equal(classify.bufferLimit(60), 'a limit');
      assert.equal(classify.bufferLimit(undefined), 'none within 150 characters');
      assert.equal(classify.serverCuts(true, 1), 'clause');
      assert.equal(classify.serverCuts(false, 2), 'clause', 'two responses for two clauses, however late');
      assert.equal(classify.serverCuts(false, 1), 'sentence');
      assert.equal(classify.serverCuts(false, 0), undefined);
      assert.deepEqual(echoedRate(22050).shown, 'accepted');
      assert.deepEqual(echoedRate(24000), { shown: 'refused', evidence: 'sample_rate 22050: not refused, but accepted as 24000 (session.updated)' });
      assert.equal(echoedRate(undefined).shown, undefined);
      assert.equal(classify.uncommittedOnFinish(0), 'discard');
      assert.equal(classify.uncommittedOnFinish(1), 'synthesize');
    });

    it('the slow readings and the upload size', () => {
      const idle: [number | undefined, string][] = [
        [undefined, 'none within 90 s'],
        [59.4, 'other'],
        [59.6, '60 s'],
        [60.4, '60 s'],
        [60.6, '61 s'],
        [61.4, '61 s'],
        [61.6, 'other'],
      ];
      for (const [s, reading] of idle) assert.equal(classify.idleClose(s), reading, String(s));
      // The service's clock may start at finish-task: 59.2 s after task-finished is 60.0 s after finish-task.
      assert.equal(classify.idleClose(59.2, 60.0), '60 s');
      assert.equal(classify.idleClose(60.1, 61.0), '61 s', 'nearer 61 s from finish-task than 60 s from either');
      assert.equal(classify.idleClose(60.0, 60.4), '60 s');
      assert.equal(classify.idleClose(58.0, 58.6), 'other');
      assert.equal(classify.idleClose(undefined, undefined), 'none within 90 s');
      assert.equal(classify.taskClock(23.4), '23 s after the last instruction');
      assert.equal(classify.taskClock(18), 'other');
      assert.equal(classify.taskClock(undefined), undefined);
      assert.equal(classify.timeoutCode('InvalidParameter'), 'InvalidParameter');
      assert.equal(classify.timeoutCode('CLIENT_ERROR'), 'CLIENT_ERROR');
      assert.equal(classify.timeoutCode('RequestTimeOut'), 'other');
      assert.equal(classify.idleTimeout(30), 'a limit');
      assert.equal(classify.idleTimeout(undefined), 'none within 120 s');
      assert.equal(classify.uploadSize(10), '10 MB');
      assert.equal(classify.uploadSize(20), 'other');
      assert.equal(classify.uploadSize(undefined), undefined);
      assert.equal(classify.streamedWhole({ ended: true, audioBytes: 10, characters: 31 }, 31), 'spoken whole');
      assert.equal(classify.streamedWhole({ ended: true, audioBytes: 10, characters: 11 }, 31), 'cut short');
      assert.equal(classify.streamedWhole({ ended: true, error: new Error('x'), audioBytes: 0, characters: 0 }, 31), 'failed');
      assert.equal(classify.throttleAnswer([]), undefined);
      assert.equal(classify.throttleAnswer([{ throttled: false, by: 'task-failed' }]), undefined);
      assert.equal(classify.throttleAnswer([{ throttled: true, by: 'close' }]), 'close');
      assert.equal(classify.throttleAnswer([{ throttled: true, by: 'task-failed' }]), 'task-failed');
      assert.equal(classify.blankText({ ended: true, audioBytes: 5 }), 'accept');
      assert.equal(classify.blankText({ ended: true, error: new Error('x'), audioBytes: 0 }), 'fail');
      assert.equal(classify.runTaskBusy({ secondStarted: true, failed: false }), 'replace');
      assert.equal(classify.runTaskBusy({ secondStarted: false, failed: true }), 'reject');
      assert.equal(classify.runTaskBusy({ secondStarted: false, failed: false }), undefined);
    });
  });
});
