/**
 * A user's transcript as a regression test (issue 20): every file of test/fixtures/live-check/ is
 * replayed by the simulator (test/simulator/replay/) to the live check's own runner, which must
 * conclude what the recorded run concluded (its `finding` lines). The fixtures the project ships
 * cover every point of docs/protocol.md "Unconfirmed points" the kit answers, each with the reading
 * record-fixtures.ts chose for it; a user's transcript dropped into the folder is replayed too.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveEndpoints, type Region } from '../../src/dashscope/endpoints';
import { pointById } from '../../src/live-check/points';
import type { Finding } from '../../src/live-check/probe';
import { PREFLIGHT_ID } from '../../src/live-check/preflight';
import { PROBES } from '../../src/live-check/probes/index';
import { runLiveCheck, type Asked } from '../../src/live-check/run';
import { TranscriptRecorder } from '../../src/live-check/transcript';
import { parseTranscript, TranscriptError, type FindingLine, type TranscriptLine } from '../../src/live-check/transcript-format';
import { DashScopeSimulator } from '../simulator';
import { parseArgs, simulatorOptions } from '../simulator/cli';
import { waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';
import { FIXTURE_DIR, fixtureFile, fixturePlan, fixturePoints, unconfirmedPointIds } from './record-fixtures';
import { VARIANTS } from './variants';

const KEY = 'sk-test-key';
/**
 * The probes' time scale in a replay: 1 s of the service's time is 50 ms, whatever the recording's
 * scale (a user's run is 1; the shipped fixtures 0.05, the latency ones 0.1). Faster would let a
 * few ms of scheduling noise move a 400 ms first-audio reading over the 800 ms line.
 */
const REPLAY_TIME_SCALE = 0.05;
const REGIONS: readonly Region[] = ['beijing', 'singapore', 'custom'];

interface Fixture {
  name: string;
  transcript: TranscriptLine[];
  /** The time scale the recorded probes ran at (meta `timeScale`; 1 for a run against the service). */
  recordedTimeScale: number;
  /** The region the run named (meta `region`): a probe asks only what the region offers (cv-models). */
  region: Region;
  /** The probes it ran, in order (its `probe` start markers). */
  probes: string[];
  findings: FindingLine[];
}

function fixtureOf(name: string, transcript: TranscriptLine[]): Fixture {
  const meta = transcript[0]?.kind === 'meta' ? transcript[0] : undefined;
  const ts = meta?.timeScale;
  const probes: string[] = [];
  for (const line of transcript) if (line.kind === 'probe' && line.phase === 'start' && !probes.includes(line.probe)) probes.push(line.probe);
  return {
    name,
    transcript,
    recordedTimeScale: typeof ts === 'number' && ts > 0 ? ts : 1,
    region: REGIONS.find((r) => r === meta?.region) ?? 'custom',
    probes,
    findings: transcript.filter((l): l is FindingLine => l.kind === 'finding'),
  };
}

function loadFixture(name: string): Fixture {
  return fixtureOf(name, parseTranscript(readFileSync(join(FIXTURE_DIR, name), 'utf8')));
}

const FILES = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.jsonl'))
  .sort();

/** What a replay disagrees with in the recording: one line per recorded finding not found again with the same reading. */
function compareFindings(recorded: readonly FindingLine[], found: readonly Pick<Asked, 'point' | 'shown' | 'evidence'>[]): string[] {
  const problems: string[] = [];
  for (const want of recorded) {
    const got = found.find((a) => a.point === want.point);
    if (!got) problems.push(`${want.point}: recorded "${want.shown ?? 'not answered'}", not found in the replay`);
    else if ((got.shown ?? null) !== want.shown) {
      problems.push(`${want.point}: recorded "${want.shown ?? 'not answered'}", the replay found "${got.shown ?? 'not answered'}" (${got.evidence})`);
    }
  }
  return problems;
}

interface Replayed {
  asked: Asked[];
  lines: string[];
  replayErrors: DashScopeSimulator['replayErrors'];
  openSockets: number;
  liveTimers: string[];
}

/** Waits for a condition, going on without it after `ms` (the assertions after it say what is wrong). */
function settled(check: () => boolean, ms: number): Promise<void> {
  return waitFor(check, ms).catch(() => undefined);
}

/** Replays a fixture to the runner, `only` its probes, at REPLAY_TIME_SCALE (the recording's gaps scaled to match). */
async function replay(fixture: Fixture): Promise<Replayed> {
  const factor = Math.min(1, REPLAY_TIME_SCALE / fixture.recordedTimeScale);
  const timeScale = fixture.recordedTimeScale * factor;
  const sim = await DashScopeSimulator.start({ replay: { transcript: fixture.transcript, timeScale: factor } });
  const lines: string[] = [];
  const timers = trackSourceTimers();
  try {
    const result = await runLiveCheck({
      endpoints: resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }),
      credentials: { apiKey: KEY },
      region: fixture.region,
      only: fixture.probes,
      // A transcript the command made starts with the free key check (preflight.ts): ask it too, so its recorded request is used.
      preflight: fixture.probes.includes(PREFLIGHT_ID),
      tap: new TranscriptRecorder((l) => lines.push(l), { secrets: [KEY] }),
      timeScale,
    });
    await settled(() => sim.stats.openSockets === 0, 3000);
    await settled(() => timers.live().length === 0, 1000);
    return { asked: result.asked, lines, replayErrors: [...sim.replayErrors], openSockets: sim.stats.openSockets, liveTimers: timers.live() };
  } finally {
    timers.stop();
    await sim.close();
  }
}

/** The fixture with each connection's second container header removed (its audio then starts with no header). */
function withoutRepeatedHeaders(fixture: Fixture): Fixture {
  const seen = new Set<number>();
  const transcript = fixture.transcript.map((line): TranscriptLine => {
    if (line.kind !== 'audio' || line.container === null) return line;
    if (!seen.has(line.conn)) {
      seen.add(line.conn);
      return line;
    }
    return { ...line, container: null };
  });
  return fixtureOf(`${fixture.name} (edited)`, transcript);
}

/**
 * The fixture with the first connection's input_text_buffer.committed moved to just after its
 * session.finish: a service that commits what is left when the session finishes, and never
 * announced a cut of its own.
 */
function committedOnlyAtFinish(fixture: Fixture): Fixture {
  const lines = [...fixture.transcript];
  const at = lines.findIndex((l) => l.kind === 'in' && l.type === 'input_text_buffer.committed');
  const committed = lines[at];
  assert.ok(committed && committed.kind === 'in', `${fixture.name} has an input_text_buffer.committed`);
  lines.splice(at, 1);
  const finish = lines.findIndex((l) => l.kind === 'out' && l.conn === committed.conn && l.type === 'session.finish');
  assert.ok(finish > at, `${fixture.name}: session.finish after the committed`);
  lines.splice(finish + 1, 0, { ...committed, t: (lines[finish] as TranscriptLine).t });
  return fixtureOf(`${fixture.name} (committed at finish)`, lines);
}

describe('live-check fixtures: a transcript replayed must conclude what it recorded', function () {
  this.timeout(60_000);

  describe('the folder', () => {
    it('holds one fixture per unconfirmed point the kit answers, each with the reading the recorder chose', () => {
      const points = fixturePoints();
      // The docs and the kit agree on a good part of the list (a parser that found nothing would pass vacuously).
      assert.ok(unconfirmedPointIds().length >= 40, 'docs/protocol.md "Unconfirmed points" has its anchors');
      assert.ok(points.length >= 20, `the kit answers ${points.length} unconfirmed points`);
      assert.ok(points.includes('cv-container-headers') && points.includes('qwen-empty-commit'));
      for (const point of points) {
        const name = `${point}.jsonl`;
        assert.ok(FILES.includes(name), `${name} is missing (npx tsx test/live-check/record-fixtures.ts ${point})`);
        const fixture = loadFixture(name);
        const plan = fixturePlan(point);
        const mine = fixture.findings.filter((f) => f.point === point);
        assert.equal(mine.length, 1, `${name} holds one finding for ${point}`);
        assert.equal(mine[0]?.shown, plan.reading, `${name} holds "${plan.reading}" (the reading record-fixtures.ts plays)`);
        // Made as the command makes a transcript: the free key check first, then the probe.
        assert.deepEqual(fixture.probes, [PREFLIGHT_ID, plan.probe.id], `${name} records the key check and the probe that answers ${point}`);
      }
    });

    it('the recorder plays a reading other than the default wherever the simulator can play one', () => {
      const atDefault = fixturePoints().filter((p) => fixturePlan(p).reading === pointById(p)?.packageDefault);
      // These two have no variant (test/live-check/variants.ts): the default is all the simulator plays.
      assert.deepEqual(atDefault.sort(), ['cv-opus-rates', 'cv-word-times']);
      for (const point of atDefault) assert.ok(!VARIANTS.some((v) => v.point === point), `${point} has a variant to record`);
    });

    it('every file is a transcript with its findings and its probes, and no key', () => {
      assert.ok(FILES.length > 0);
      for (const name of FILES) {
        const text = readFileSync(join(FIXTURE_DIR, name), 'utf8');
        assert.ok(!text.includes(KEY), `${name} holds the key`);
        assert.doesNotMatch(text, /\bsk-[A-Za-z0-9]{20,}\b/, `${name} holds something like a DashScope key`);
        const fixture = loadFixture(name);
        assert.ok(fixture.findings.length > 0, `${name} has finding lines`);
        assert.ok(fixture.probes.length > 0, `${name} has probe markers`);
        for (const id of fixture.probes) assert.ok(id === PREFLIGHT_ID || PROBES.some((p) => p.id === id), `${name}: probe ${id} exists`);
      }
    });
  });

  describe('replayed', () => {
    for (const name of FILES) {
      it(`${name}: the runner finds every recorded reading again, the replay is followed, nothing is left open`, async () => {
        const fixture = loadFixture(name);
        const run = await replay(fixture);
        assert.deepEqual(compareFindings(fixture.findings, run.asked), []);
        assert.deepEqual(run.replayErrors, [], 'the client followed the recording');
        assert.equal(run.openSockets, 0, 'every socket closed');
        assert.deepEqual(run.liveTimers, [], 'no timer left');
        // The replay's own transcript says the same: what a user would send back after the fix.
        const again = parseTranscript(run.lines.join('\n')).filter((l): l is FindingLine => l.kind === 'finding');
        assert.deepEqual(compareFindings(fixture.findings, again.map((f) => ({ ...f, shown: f.shown ?? undefined }))), []);
      });
    }
  });

  describe('edited transcripts', () => {
    it('qwen-announce-commits: a committed that comes only after session.finish is no announced cut ("not sent")', async () => {
      const recorded = loadFixture('qwen-announce-commits.jsonl');
      assert.equal(recorded.findings.find((f) => f.point === 'qwen-announce-commits')?.shown, 'sent', 'the fixture records an announced cut');
      const run = await replay(committedOnlyAtFinish(recorded));
      const found = run.asked.find((a) => a.point === 'qwen-announce-commits');
      assert.equal(found?.shown, 'not sent', found?.evidence);
      assert.match(found?.evidence ?? '', /^0 input_text_buffer\.committed for 1 response\(s\) the service cut itself; 1 more after session\.finish \(not counted\)$/);
      assert.deepEqual(run.replayErrors, [], 'the client followed the recording');
      assert.equal(run.openSockets, 0);
    });
  });

  describe('the comparison can fail', () => {
    const fixture = (): Fixture => loadFixture('cv-container-headers.jsonl');

    it('a recorded reading the replay does not find is named, with what was found instead', () => {
      const recorded = fixture().findings;
      const found = recorded.map((f) => ({ point: f.point, shown: f.shown ?? undefined, evidence: f.evidence }));
      assert.deepEqual(compareFindings(recorded, found), []);
      const edited = recorded.map((f) => (f.point === 'cv-container-headers' ? { ...f, shown: 'per-task' } : f));
      assert.deepEqual(compareFindings(edited, found), [
        `cv-container-headers: recorded "per-task", the replay found "per-sentence" (${found.find((f) => f.point === 'cv-container-headers')?.evidence ?? ''})`,
      ]);
      assert.match(compareFindings(recorded, found.filter((f) => f.point !== 'cv-opus-rates'))[0] ?? '', /^cv-opus-rates: .*not found in the replay$/);
      const unanswered = found.map((f) => (f.point === 'cv-opus-rates' ? { ...f, shown: undefined } : f));
      assert.match(compareFindings(recorded, unanswered)[0] ?? '', /recorded "accepted", the replay found "not answered"/);
    });

    it('a recording whose service frames say otherwise is replayed to the other reading (second headers removed: per-task)', async () => {
      const original = fixture();
      const edited = withoutRepeatedHeaders(original);
      assert.notDeepEqual(edited.transcript, original.transcript, 'the edit changed the recording');
      const run = await replay(edited);
      assert.deepEqual(run.replayErrors, [], 'the client still followed the recording');
      const problems = compareFindings(edited.findings, run.asked);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', /^cv-container-headers: recorded "per-sentence", the replay found "per-task"/);
    });
  });

  describe('self-describing transcripts', () => {
    it('the runner writes each finding into a recording tap as it learns it, among the frames it came from', async () => {
      const fixture = loadFixture('cv-blank-text.jsonl');
      const run = await replay(fixture);
      const lines = parseTranscript(run.lines.join('\n'));
      const kinds = lines.map((l) => (l.kind === 'probe' ? `${l.probe} ${l.phase}` : l.kind));
      const finding = kinds.indexOf('finding');
      assert.ok(finding > kinds.indexOf('cv-blank start') && finding < kinds.indexOf('cv-blank end'), kinds.join(' '));
      assert.ok(kinds.slice(0, finding).includes('in'), 'after the frames it was learned from');
      const written = lines.find((l): l is FindingLine => l.kind === 'finding');
      const asked = run.asked.find((a) => a.point === 'cv-blank-text');
      assert.deepEqual(written && { point: written.point, shown: written.shown, evidence: written.evidence }, asked && { point: asked.point, shown: asked.shown, evidence: asked.evidence });
    });

    it('a finding line is redacted like every line, and "could not tell" is null', () => {
      const lines: string[] = [];
      const recorder = new TranscriptRecorder((l) => lines.push(l), { secrets: [KEY] });
      const findings: Finding[] = [
        { point: 'bad-key', shown: 'refused, final', evidence: `401 for ${KEY} at https://oss.example.com/f?Signature=abc&OSSAccessKeyId=x` },
        { point: 'cv-pacing', evidence: 'no audio' },
      ];
      for (const f of findings) recorder.finding(f);
      assert.ok(!lines.join('\n').includes(KEY) && !lines.join('\n').includes('Signature=abc'), lines.join('\n'));
      const parsed = parseTranscript(lines.join('\n'));
      assert.deepEqual(
        parsed.map((l) => l.kind === 'finding' && [l.point, l.shown]),
        [
          ['bad-key', 'refused, final'],
          ['cv-pacing', null],
        ],
      );
    });

    it('parseTranscript checks a finding line', () => {
      const ok = '{"t":1,"kind":"finding","point":"qwen-usage","shown":"cumulative","evidence":"6, then 15"}';
      assert.equal(parseTranscript(ok)[0]?.kind, 'finding');
      const bad: [string, RegExp][] = [
        ['{"t":1,"kind":"finding","shown":"x","evidence":"e"}', /line 1: finding: "point" must be text/],
        ['{"t":1,"kind":"finding","point":"p","shown":3,"evidence":"e"}', /"shown" must be text or null/],
        ['{"t":1,"kind":"finding","point":"p","evidence":"e"}', /"shown" must be text or null/],
        ['{"t":1,"kind":"finding","point":"p","shown":null}', /"evidence" must be text/],
      ];
      for (const [line, message] of bad) assert.throws(() => parseTranscript(line), (e: unknown) => e instanceof TranscriptError && message.test(e.message), line);
    });
  });

  describe('the simulator CLI replays a transcript by hand', () => {
    it('--replay FILE [--time-scale X] reads and checks the transcript', () => {
      const file = fixtureFile('qwen-usage');
      const options = simulatorOptions(parseArgs(['--replay', file, '--time-scale', '0.5', '--port', '0']));
      assert.equal(options.replay?.timeScale, 0.5);
      assert.deepEqual(options.replay?.transcript, loadFixture('qwen-usage.jsonl').transcript);
      assert.equal(simulatorOptions(parseArgs(['--replay', file])).replay?.timeScale, 1);
      assert.equal(simulatorOptions(parseArgs([])).replay, undefined);
      assert.throws(() => parseArgs(['--time-scale', '2']), /--time-scale goes with --replay/);
      assert.throws(() => parseArgs(['--replay']), /--replay needs a transcript file/);
      assert.throws(() => simulatorOptions(parseArgs(['--replay', 'x.jsonl']), () => '{"t":0,"kind":"nope"}'), /transcript line 1: unknown kind "nope"/);
      assert.throws(() => simulatorOptions(parseArgs(['--replay', join(FIXTURE_DIR, 'no-such.jsonl')])), /cannot read .*no-such\.jsonl/);
    });
  });
});
