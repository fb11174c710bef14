// Whole runs (the free preflight, then every quick probe) against a simulator whose account is
// short of something: no Qwen (a model quota used up, refused at every Qwen upgrade with 403
// AllocationQuota.FreeTierOnly), no cosyvoice-v3-flash (Model.AccessDenied on every task), or in
// arrears. The account's refusals are never a reading of the package (no ✗, no false ✓); a quota
// at an upgrade after the key was taken is not the key's refusal (the run goes on); arrears stop
// the run, exit 2, as a refused key does.
import assert from 'node:assert/strict';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import { POINTS } from '../../src/live-check/points';
import { PROBES } from '../../src/live-check/probes/index';
import { exitCodeOf, reportEntries, textReport, type ReportEntry } from '../../src/live-check/report';
import { runLiveCheck, selectProbes, type RunResult } from '../../src/live-check/run';
import { TranscriptRecorder } from '../../src/live-check/transcript';
import { DashScopeSimulator, type Fault } from '../simulator';
import { until } from '../support/until';
import { packageDefaults, TIME_SCALE } from './variants';

const KEY = 'sk-test-key';
const QUICK = selectProbes(PROBES, {}).map((p) => p.id);
const CONTEXT = { tool: 't', version: '0', region: 'custom', node: process.version, transcript: 't.jsonl', bugsUrl: 'https://example.com/issues' };

interface Whole {
  result: RunResult;
  entries: ReportEntry[];
  started: string[];
  lines: string[];
}

async function wholeRun(faults: readonly Fault[]): Promise<Whole> {
  const sim = await DashScopeSimulator.start(packageDefaults(TIME_SCALE));
  for (const fault of faults) sim.inject(fault);
  const lines: string[] = [];
  const started: string[] = [];
  try {
    const result = await runLiveCheck({
      endpoints: resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }),
      credentials: { apiKey: KEY },
      region: 'custom',
      tap: new TranscriptRecorder((l) => lines.push(l), { secrets: [KEY] }),
      timeScale: TIME_SCALE,
      preflight: true,
      probeStarted: (p) => started.push(p.id),
    });
    await until(() => sim.stats.openSockets === 0, 3000);
    assert.equal(sim.stats.openSockets, 0, 'every socket closed');
    return { result, entries: reportEntries(result, POINTS), started, lines };
  } finally {
    await sim.close();
  }
}

const entry = (run: Whole, point: string): ReportEntry => {
  const found = run.entries.find((e) => e.point === point);
  assert.ok(found, point);
  return found;
};

function noMismatch(run: Whole): void {
  const wrong = run.entries.filter((e) => e.matches === false);
  assert.deepEqual(wrong.map((e) => `${e.point}: ${e.shown} (${e.evidence})`), [], 'no ✗: an account refusal is never a reading');
  assert.ok(!run.lines.join('\n').includes(KEY));
}

describe('live-check: an account short of something (whole runs)', function () {
  this.timeout(120_000);

  it('no Qwen (403 AllocationQuota.FreeTierOnly at every Qwen upgrade, after the preflight took the key): the run goes on, the Qwen points are "?"', async () => {
    const run = await wholeRun([{ kind: 'http-error', status: 403, code: 'AllocationQuota.FreeTierOnly', message: 'The free tier of the model has been exhausted.', service: 'qwen', times: Infinity }]);
    assert.equal(run.result.keyRefused, undefined, 'a quota refused at an upgrade is not the key');
    assert.equal(run.result.accountRefused, undefined);
    assert.deepEqual(run.started, QUICK, 'every quick probe was asked');
    noMismatch(run);
    for (const point of ['qwen-speaks-server_commit', 'qwen-speaks-commit']) {
      assert.equal(entry(run, point).shown, 'not available to this account', entry(run, point).evidence);
      assert.equal(entry(run, point).matches, null);
    }
    for (const e of run.entries.filter((x) => x.point.startsWith('qwen-') && !x.point.startsWith('qwen-speaks-'))) {
      assert.equal(e.shown, null, `${e.point}: ${e.evidence}`);
      if (e.point !== 'qwen-pacing') assert.match(e.evidence, /^not answered: this account may not use qwen3-tts-/, `${e.point}: ${e.evidence}`);
    }
    assert.match(entry(run, 'qwen-extra-rates').evidence, /^not answered: this account may not use qwen3-tts-flash-realtime \(HTTP 403 AllocationQuota\.FreeTierOnly\)$/);
    // The rest was read as usual.
    assert.equal(entry(run, 'cv-speaks-cosyvoice-v3-flash').matches, true);
    assert.equal(entry(run, 'bad-key').matches, true, 'the made-up key is still asked after the Qwen questions were refused');
    assert.equal(exitCodeOf(run.result, run.entries), 0);
  });

  it('no cosyvoice-v3-flash (Model.AccessDenied on every task): the points asked of it are "?", never "failed", "fail", "refused" or a ✓ for the bad voice', async () => {
    const run = await wholeRun([{ kind: 'fail-task', code: 'Model.AccessDenied', message: 'Model access denied.', times: Infinity }]);
    assert.equal(run.result.keyRefused, undefined);
    assert.equal(run.result.accountRefused, undefined);
    noMismatch(run);
    assert.equal(entry(run, 'cv-speaks-cosyvoice-v3-flash').shown, 'not available to this account');
    for (const point of ['cv-stream-pause', 'cv-blank-text', 'cv-opus-rates', 'cv-container-headers', 'cv-bad-voice', 'cv-words-in', 'cv-run-task-busy']) {
      assert.equal(entry(run, point).shown, null, `${point}: ${entry(run, point).evidence}`);
      assert.match(entry(run, point).evidence, /this account may not use cosyvoice-v3-flash \(Model\.AccessDenied\)/, point);
    }
    // Qwen is another model: still read.
    assert.equal(entry(run, 'qwen-speaks-commit').matches, true);
  });

  it('in arrears (Arrearage): the run stops at the first probe that meets it, exit 2, a clear message, no ✗', async () => {
    const run = await wholeRun([{ kind: 'fail-task', code: 'Arrearage', message: 'Access denied, please make sure your account is in good standing.', times: Infinity }]);
    assert.equal(run.result.keyRefused, undefined);
    assert.match(run.result.accountRefused ?? '', /^the account is in arrears at 127\.0\.0\.1:\d+ \(Arrearage\): top it up in the console/);
    assert.deepEqual(run.started, [QUICK[0]], 'no probe after the one that met it');
    noMismatch(run);
    assert.ok(run.entries.every((e) => e.shown === null || e.matches === null), 'nothing read as an answer');
    assert.match(entry(run, 'cv-speaks-cosyvoice-v3-flash').evidence, /in arrears/);
    assert.equal(entry(run, 'qwen-speaks-commit').evidence, `not asked: ${run.result.accountRefused}`);
    assert.equal(exitCodeOf(run.result, run.entries), 2);
    const text = textReport(run.result, run.entries, CONTEXT);
    assert.ok(text.endsWith(`Stopped early: ${run.result.accountRefused}.`), text);
    assert.doesNotMatch(text, /open an issue/);
  });
});
