// What a live-check run tells (src/live-check/report.ts): a line per point with its mark, a bug
// report per mismatch, the JSON shape of --report, and the exit code.
import assert from 'node:assert/strict';
import type { Point } from '../../src/live-check/probe';
import { bugReport, bugReportTitle, exitCodeOf, jsonReport, matchOf, pointLine, reportEntries, textReport, type ReportContext } from '../../src/live-check/report';
import type { Asked } from '../../src/live-check/run';

const POINTS: Point[] = [
  { id: 'cv-container-headers', question: 'Do later sentences of a task repeat the wav/mp3 header?', packageDefault: 'per-task', readings: ['per-task', 'per-sentence'] },
  { id: 'qwen-empty-commit', question: 'How is a commit of an empty buffer answered?', packageDefault: 'error', readings: ['error', 'committed', 'ignore'] },
  { id: 'cv-blank-text', question: 'Is a whitespace-only continue-task accepted?', packageDefault: 'accept', readings: ['accept', 'fail'] },
  {
    id: 'cv-speaks-cosyvoice-v1',
    question: 'Does cosyvoice-v1 speak a short utterance with a system voice for this account?',
    packageDefault: 'speaks',
    readings: ['speaks', 'not available to this account', 'fails'],
    neutral: ['not available to this account'],
  },
];

const CONTEXT: ReportContext = {
  tool: 'live-check',
  version: '9.8.7',
  region: 'singapore',
  node: 'v20.0.0',
  transcript: 'live-check-20260101T000000Z.jsonl',
  bugsUrl: 'https://example.com/issues',
};

const ASKED: Asked[] = [
  { point: 'cv-container-headers', probe: 'cv-containers', shown: 'per-task', evidence: 'wav: 1 RIFF in 2 sentences' },
  { point: 'qwen-empty-commit', probe: 'qwen-commit', shown: 'committed', evidence: 'input_text_buffer.committed with item_id x' },
  { point: 'cv-blank-text', probe: 'cv-blank', evidence: 'connection refused' },
];

const RESULT = { started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:01:00.000Z', interrupted: false, unreachable: undefined };

describe('live-check report', () => {
  const entries = reportEntries({ asked: ASKED }, POINTS);

  it('compares what the service showed with the package default: true, false, or null when not answered', () => {
    assert.deepEqual(
      entries.map((e) => [e.point, e.shown, e.packageDefault, e.matches]),
      [
        ['cv-container-headers', 'per-task', 'per-task', true],
        ['qwen-empty-commit', 'committed', 'error', false],
        ['cv-blank-text', null, 'accept', null],
      ],
    );
    assert.equal(entries[0]?.question, POINTS[0]?.question);
    assert.equal(entries[1]?.probe, 'qwen-commit');
  });

  it('a point the kit does not list is never counted as an answer', () => {
    const [entry] = reportEntries({ asked: [{ point: 'mystery', probe: 'x', shown: 'y', evidence: '' }] }, POINTS);
    assert.equal(entry?.matches, null);
  });

  it('prints one line per point: mark, id, question, what the service showed, the package default', () => {
    assert.equal(pointLine(entries[0]!), '✓ cv-container-headers: Do later sentences of a task repeat the wav/mp3 header? — service: per-task; package: per-task');
    assert.equal(pointLine(entries[1]!), '✗ qwen-empty-commit: How is a commit of an empty buffer answered? — service: committed; package: error');
    assert.equal(pointLine(entries[2]!), '? cv-blank-text: Is a whitespace-only continue-task accepted? — service: not answered; package: accept\n    connection refused');
  });

  it('a mismatch becomes a fenced, copy-pasteable bug report with every fact and the transcript to attach', () => {
    const block = bugReport(entries[1]!, CONTEXT);
    const lines = block.split('\n');
    assert.equal(lines[0], '```markdown');
    assert.equal(lines.at(-1), '```');
    assert.equal(lines.filter((l) => l.startsWith('```')).length, 2, 'no fence inside the block');
    assert.equal(lines[1], `### ${bugReportTitle(entries[1]!)}`);
    assert.equal(bugReportTitle(entries[1]!), "live-check: qwen-empty-commit differs from the package's default");
    for (const fact of [
      '- region: singapore',
      '- package version: 9.8.7',
      '- node version: v20.0.0',
      '- point: qwen-empty-commit',
      '- question: How is a commit of an empty buffer answered?',
      '- service showed: committed',
      '- package assumes: error',
      '- evidence: input_text_buffer.committed with item_id x',
      '- transcript: attach live-check-20260101T000000Z.jsonl',
    ]) {
      assert.ok(lines.includes(fact), `missing "${fact}" in\n${block}`);
    }
  });

  it('the text report lists every point, counts them, and gives a bug report only for each mismatch, with where to send it', () => {
    const text = textReport(RESULT, entries, CONTEXT);
    for (const e of entries) assert.ok(text.includes(pointLine(e)), `line of ${e.point}`);
    assert.match(text, /1 as assumed, 1 different, 1 could not tell\./);
    assert.equal(text.split('```markdown').length - 1, 1, 'one bug report');
    assert.ok(text.includes(bugReport(entries[1]!, CONTEXT)));
    assert.match(text, /open an issue at https:\/\/example\.com\/issues/);
    assert.doesNotMatch(text, /Interrupted|Stopped early/);
  });

  it('no mismatch, no bug report and no request to open an issue', () => {
    const text = textReport(RESULT, [entries[0]!, entries[2]!], CONTEXT);
    assert.doesNotMatch(text, /```|open an issue/);
  });

  it('a run stopped early: the points it never asked come as one line with their one reason, not one line each', () => {
    const stopped = 'not asked: the key was refused at h (HTTP 401 InvalidApiKey): try --region beijing';
    const many = reportEntries(
      { asked: [ASKED[0]!, ...POINTS.slice(1).map((p) => ({ point: p.id, probe: 'x', evidence: stopped }))] },
      POINTS,
    );
    const text = textReport({ ...RESULT, keyRefused: 'the key was refused at h' }, many, CONTEXT);
    assert.ok(text.includes(pointLine(many[0]!)), 'an answered point keeps its line');
    assert.ok(text.includes(`? 3 points not answered: qwen-empty-commit, cv-blank-text, cv-speaks-cosyvoice-v1\n    ${stopped}`), text);
    assert.equal(text.split(stopped).length - 1, 1, 'the reason once');
    // Two unanswered points with one reason are still two lines: a group is for a stopped run's many.
    const two = reportEntries({ asked: POINTS.slice(1, 3).map((p) => ({ point: p.id, probe: 'x', evidence: stopped })) }, POINTS);
    assert.equal(textReport(RESULT, two, CONTEXT).split(stopped).length - 1, 2);
  });

  it('says when the run was interrupted or could not reach the service', () => {
    assert.match(textReport({ ...RESULT, interrupted: true }, entries, CONTEXT), /^Interrupted: /);
    assert.match(textReport({ ...RESULT, unreachable: 'cannot reach h: ECONNREFUSED' }, entries, CONTEXT), /^Stopped early: cannot reach h: ECONNREFUSED\./);
  });

  it('the JSON report: the run facts and one entry per point asked, in the documented shape', () => {
    const json = JSON.parse(JSON.stringify(jsonReport(RESULT, entries, CONTEXT, 1234))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), ['accountRefused', 'findings', 'finished', 'interrupted', 'keyRefused', 'maxCharacters', 'region', 'started', 'tool', 'unreachable', 'version']);
    assert.equal(json.tool, 'live-check');
    assert.equal(json.version, '9.8.7');
    assert.equal(json.region, 'singapore');
    assert.equal(json.started, RESULT.started);
    assert.equal(json.finished, RESULT.finished);
    assert.equal(json.interrupted, false);
    assert.equal(json.unreachable, null);
    assert.equal(json.keyRefused, null);
    assert.equal(json.accountRefused, null);
    assert.equal(json.maxCharacters, 1234);
    const findings = json.findings as Record<string, unknown>[];
    assert.equal(findings.length, ASKED.length);
    for (const f of findings) assert.deepEqual(Object.keys(f).sort(), ['evidence', 'matches', 'packageDefault', 'point', 'probe', 'question', 'shown']);
    assert.deepEqual(findings[2], {
      point: 'cv-blank-text',
      question: 'Is a whitespace-only continue-task accepted?',
      shown: null,
      packageDefault: 'accept',
      matches: null,
      evidence: 'connection refused',
      probe: 'cv-blank',
    });
  });

  it('exit code: 0 all as assumed (unanswered included), 1 a mismatch or no service, 2 the key refused, 130 interrupted', () => {
    assert.equal(exitCodeOf(RESULT, [entries[0]!, entries[2]!]), 0);
    assert.equal(exitCodeOf(RESULT, entries), 1);
    assert.equal(exitCodeOf({ ...RESULT, unreachable: 'cannot reach h' }, [entries[2]!]), 1);
    assert.equal(exitCodeOf({ ...RESULT, keyRefused: 'the key was refused at h (HTTP 401 InvalidApiKey)' }, [entries[2]!]), 2);
    assert.equal(exitCodeOf({ ...RESULT, keyRefused: 'the key was refused at h (HTTP 401 InvalidApiKey)' }, entries), 2, 'the key, not the package, is the problem to fix first');
    assert.equal(exitCodeOf({ ...RESULT, accountRefused: 'the account is in arrears at h (Arrearage)' }, entries), 2, 'the account, not the package, is the problem to fix first');
    assert.equal(exitCodeOf({ ...RESULT, interrupted: true }, entries), 130);
  });

  it('an account in arrears: the report says so first and last, and the JSON carries it', () => {
    const arrears = { ...RESULT, accountRefused: 'the account is in arrears at h (Arrearage): top it up in the console, then run the check again' };
    const text = textReport(arrears, [entries[2]!], CONTEXT);
    assert.match(text, /^Stopped early: the account is in arrears at h \(Arrearage\)/);
    assert.ok(text.endsWith(`could not tell.\nStopped early: ${arrears.accountRefused}.`), text);
    assert.equal(jsonReport(arrears, [entries[2]!], CONTEXT, 0).accountRefused, arrears.accountRefused);
  });

  it('a refused key: the report says so first, and the JSON carries it', () => {
    const refused = { ...RESULT, keyRefused: 'the key was refused at h (HTTP 401 InvalidApiKey): is it a key of the singapore region? try --region singapore' };
    const text = textReport(refused, [entries[2]!], CONTEXT);
    assert.match(text, /^Stopped early: the key was refused at h \(HTTP 401 InvalidApiKey\): is it a key of the singapore region\? try --region singapore\./);
    assert.ok(text.endsWith(`could not tell.\nStopped early: ${refused.keyRefused}.`), 'and again at the end, where the eye lands');
    assert.equal(jsonReport(refused, [entries[2]!], CONTEXT, 0).keyRefused, refused.keyRefused);
  });

  describe('a neutral reading (Point.neutral): it says nothing about the package', () => {
    const neutral: Asked = { point: 'cv-speaks-cosyvoice-v1', probe: 'cv-models', shown: 'not available to this account', evidence: 'Model.AccessDenied: the model is not open to this account' };
    const [entry] = reportEntries({ asked: [neutral] }, POINTS);

    it('matchOf: null for no answer, an unknown point or a neutral reading; otherwise whether it is the default', () => {
      const speaks = POINTS[3];
      assert.equal(matchOf(speaks, 'not available to this account'), null);
      assert.equal(matchOf(speaks, 'speaks'), true);
      assert.equal(matchOf(speaks, 'fails'), false, 'only the neutral readings are spared');
      assert.equal(matchOf(speaks, undefined), null);
      assert.equal(matchOf(undefined, 'speaks'), null);
      assert.equal(matchOf(POINTS[1], 'committed'), false);
    });

    it('is reported "?" with its reading and evidence, matches null in the JSON, and gets no bug report', () => {
      assert.equal(entry?.matches, null);
      assert.equal(entry?.shown, 'not available to this account');
      assert.equal(
        pointLine(entry!),
        '? cv-speaks-cosyvoice-v1: Does cosyvoice-v1 speak a short utterance with a system voice for this account? — service: not available to this account; package: speaks\n    Model.AccessDenied: the model is not open to this account',
      );
      const text = textReport(RESULT, [entry!], CONTEXT);
      assert.doesNotMatch(text, /```|open an issue/);
      assert.match(text, /0 as assumed, 0 different, 1 could not tell\./);
      assert.equal(jsonReport(RESULT, [entry!], CONTEXT, 0).findings[0]?.matches, null);
      assert.equal(exitCodeOf(RESULT, [entry!]), 0);
    });
  });
});
