/**
 * Records the live check's replay fixtures (test/fixtures/live-check/<point>.jsonl): one transcript
 * per point of docs/protocol.md "Unconfirmed points" that the kit answers, made the way a user's
 * run makes one (runLiveCheck, `only` the probe that answers the point, a real TranscriptRecorder)
 * against the simulator playing a reading of that point: a reading other than the package's
 * default where the simulator can play one (variants.ts VARIANTS), the default otherwise.
 *
 *   npx tsx test/live-check/record-fixtures.ts            # every fixture
 *   npx tsx test/live-check/record-fixtures.ts cv-pacing  # only these points
 *
 * A recording is kept only when the run found the reading the simulator played (else the script
 * says so and exits 1, writing nothing for that point). Re-recording changes only times, task and
 * event ids, hashes and the simulator's port: the texts, the frames and the readings are fixed.
 * test/live-check/fixtures.test.ts replays every file of the folder.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import { POINTS, pointById } from '../../src/live-check/points';
import type { Probe } from '../../src/live-check/probe';
import { PROBES } from '../../src/live-check/probes/index';
import { runLiveCheck, type Asked } from '../../src/live-check/run';
import { TranscriptRecorder } from '../../src/live-check/transcript';
import { DashScopeSimulator, type Fault, type SimulatorOptions } from '../simulator';
import { waitFor } from '../support/collect';
import { packageDefaults, TIME_SCALE, VARIANTS } from './variants';

export const FIXTURE_DIR = join(__dirname, '..', 'fixtures', 'live-check');
const PROTOCOL_MD = join(__dirname, '..', '..', 'docs', 'protocol.md');
const KEY = 'sk-test-key';
/**
 * Audio frames of a second: a fixture holds a line per frame, and the readings count headers per
 * sentence or response, not frames, so fewer frames only keep the files small.
 */
const CHUNK_MS = 1000;

/** The ids docs/protocol.md "Unconfirmed points" gives an anchor (`<a id="…">`), in its order. */
export function unconfirmedPointIds(markdown = readFileSync(PROTOCOL_MD, 'utf8')): string[] {
  const start = markdown.indexOf('\n## Unconfirmed points');
  if (start < 0) throw new Error('docs/protocol.md has no "Unconfirmed points" section');
  const next = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/<a id="([^"]+)">/g)].map((m) => m[1] as string);
}

/** The unconfirmed points the kit answers: a fixture each. */
export function fixturePoints(): string[] {
  const asked = new Set(POINTS.map((p) => p.id));
  return unconfirmedPointIds().filter((id) => asked.has(id));
}

/** What one fixture records: the probe that answers the point, and the simulator that plays the chosen reading. */
export interface FixturePlan {
  point: string;
  reading: string;
  probe: Probe;
  timeScale: number;
  sim: SimulatorOptions;
  faults: readonly Fault[];
}

export function fixtureFile(point: string): string {
  return join(FIXTURE_DIR, `${point}.jsonl`);
}

/** The reading a point's fixture plays: its first variant that is not the default, else a variant the defaults cannot play, else the default. */
export function fixturePlan(point: string): FixturePlan {
  const info = pointById(point);
  if (!info) throw new Error(`${point} is not a live-check point`);
  const probe = PROBES.find((p) => p.points.includes(point));
  if (!probe) throw new Error(`no probe answers ${point}`);
  const variants = VARIANTS.filter((v) => v.point === point);
  const variant = variants.find((v) => v.reading !== info.packageDefault) ?? variants[0];
  const timeScale = variant?.timeScale ?? TIME_SCALE;
  const sim = variant ? variant.sim(timeScale) : packageDefaults(timeScale);
  return { point, reading: variant?.reading ?? info.packageDefault, probe, timeScale, sim: { ...sim, chunkMs: CHUNK_MS }, faults: variant?.faults ?? [] };
}

export interface Recorded {
  /** The transcript, a line each, newline-terminated. */
  text: string;
  /** What the run found for the planned point. */
  asked: Asked | undefined;
}

/** Runs the plan's probe against a fresh simulator, recording the transcript as the live check does (meta, marks, frames, findings). */
export async function recordFixture(plan: FixturePlan): Promise<Recorded> {
  const sim = await DashScopeSimulator.start(plan.sim);
  for (const fault of plan.faults) sim.inject(fault);
  const lines: string[] = [];
  let closed = false;
  const recorder = new TranscriptRecorder((line) => {
    if (!closed) lines.push(line);
  }, { secrets: [KEY] });
  try {
    // As the CLI's meta (region, checks), plus what a replay needs: the scale the probes ran at, and the reading played.
    recorder.meta({ tool: 'record-fixtures', region: 'custom', checks: plan.probe.id, timeScale: plan.timeScale, point: plan.point, reading: plan.reading });
    const result = await runLiveCheck({
      endpoints: resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }),
      credentials: { apiKey: KEY },
      region: 'custom',
      only: [plan.probe.id],
      long: plan.probe.long,
      // As the command does: a fixture is what a user's transcript looks like.
      preflight: true,
      tap: recorder,
      timeScale: plan.timeScale,
    });
    // The last close frames cross before the file is cut, as the CLI's transcript would have them.
    await waitFor(() => sim.stats.openSockets === 0, 3000, 'every socket closed');
    await new Promise((r) => setTimeout(r, 20));
    closed = true;
    return { text: lines.map((l) => `${l}\n`).join(''), asked: result.asked.find((a) => a.point === plan.point) };
  } finally {
    closed = true;
    await sim.close();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const all = fixturePoints();
  const unknown = argv.filter((p) => !all.includes(p));
  if (unknown.length > 0) {
    process.stderr.write(`record-fixtures: not a fixture point: ${unknown.join(', ')} (points: ${all.join(', ')})\n`);
    return 2;
  }
  let failed = 0;
  for (const point of argv.length > 0 ? argv : all) {
    const plan = fixturePlan(point);
    const { text, asked } = await recordFixture(plan);
    if (asked?.shown !== plan.reading) {
      failed++;
      process.stderr.write(`record-fixtures: ${point}: the run found "${asked?.shown ?? 'nothing'}" (${asked?.evidence ?? 'not asked'}), not "${plan.reading}": not written\n`);
      continue;
    }
    writeFileSync(fixtureFile(point), text);
    process.stdout.write(`${point}: "${plan.reading}" (${plan.probe.id}, ${text.length} bytes)\n`);
  }
  return failed > 0 ? 1 : 0;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
