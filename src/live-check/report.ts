/**
 * What a live-check run tells: one line per point (✓ the service does what the package assumes,
 * ✗ it does not, ? this run could not tell), a bug report for each mismatch that a user can paste
 * into an issue as it is, and the same findings as JSON for `--report FILE`. Pure: the command
 * (cli.ts) prints and writes.
 */
import type { Point, PointId } from './probe';
import type { RunResult } from './run';

export interface ReportEntry {
  point: PointId;
  question: string;
  /** null when the run could not tell. */
  shown: string | null;
  packageDefault: string;
  /** null when not answered, or when the reading is neutral (`Point.neutral`): see matchOf. */
  matches: boolean | null;
  evidence: string;
  probe: string;
}

/** Who ran what, where: the facts a bug report and the JSON carry besides the findings. */
export interface ReportContext {
  tool: string;
  version: string;
  region: string;
  node: string;
  /** The transcript file's name, to attach to a bug report. */
  transcript: string;
  /** Where reports go (package.json `bugs.url`). */
  bugsUrl: string;
}

export interface JsonReport {
  tool: string;
  version: string;
  region: string;
  started: string;
  finished: string;
  interrupted: boolean;
  /** The run stopped early: the service could not be reached. */
  unreachable: string | null;
  /** The run stopped early: the service refused the key (no point after it was asked). */
  keyRefused: string | null;
  /** The run stopped early: the service refused the account (in arrears). */
  accountRefused: string | null;
  maxCharacters: number;
  findings: ReportEntry[];
}

/**
 * The one rule for "does what the service showed match the package": null when there is nothing to
 * compare (no answer, a point the kit does not list) or when the reading is one of the point's
 * neutral ones (it says nothing about the package: `Point.neutral`); otherwise whether it is the
 * package's default. The report's marks, the JSON's `matches`, the bug reports and the command's
 * live marks all come from here.
 */
export function matchOf(point: Point | undefined, shown: string | undefined): boolean | null {
  if (shown === undefined || !point) return null;
  if (point.neutral?.includes(shown)) return null;
  return shown === point.packageDefault;
}

/** The run's points with their questions and the package's defaults (from `points`, normally POINTS). */
export function reportEntries(result: Pick<RunResult, 'asked'>, points: readonly Point[]): ReportEntry[] {
  const byId = new Map(points.map((p) => [p.id, p]));
  return result.asked.map((a) => {
    const point = byId.get(a.point);
    const shown = a.shown ?? null;
    return {
      point: a.point,
      question: point?.question ?? '(a point the kit does not list)',
      shown,
      packageDefault: point?.packageDefault ?? '(unknown)',
      matches: matchOf(point, a.shown),
      evidence: a.evidence,
      probe: a.probe,
    };
  });
}

const MARK = { match: '✓', mismatch: '✗', open: '?' } as const;

function markOf(entry: ReportEntry): string {
  if (entry.matches === null) return MARK.open;
  return entry.matches ? MARK.match : MARK.mismatch;
}

/** One line per point; a point not answered, or neutral, gets its evidence on a second, indented line. */
export function pointLine(entry: ReportEntry): string {
  const shown = entry.shown ?? 'not answered';
  const line = `${markOf(entry)} ${entry.point}: ${entry.question} — service: ${shown}; package: ${entry.packageDefault}`;
  return entry.matches === null ? `${line}\n    ${entry.evidence}` : line;
}

/** Unanswered points that share one reason read as one line from this many on (a run stopped early leaves dozens). */
const GROUP_FROM = 3;

/**
 * The entries in order, except that unanswered ones sharing one evidence (all the points a stopped
 * run never asked) come together, at the place of the first of them, when there are GROUP_FROM or more.
 */
export function groupUnanswered(entries: readonly ReportEntry[]): (ReportEntry | { group: ReportEntry[] })[] {
  const byEvidence = new Map<string, ReportEntry[]>();
  for (const e of entries) if (e.shown === null) byEvidence.set(e.evidence, [...(byEvidence.get(e.evidence) ?? []), e]);
  const out: (ReportEntry | { group: ReportEntry[] })[] = [];
  for (const e of entries) {
    const group = e.shown === null ? (byEvidence.get(e.evidence) as ReportEntry[]) : [];
    if (group.length < GROUP_FROM) out.push(e);
    else if (group[0] === e) out.push({ group });
  }
  return out;
}

function groupLine(group: readonly ReportEntry[]): string {
  return `${MARK.open} ${group.length} points not answered: ${group.map((e) => e.point).join(', ')}\n    ${(group[0] as ReportEntry).evidence}`;
}

export function bugReportTitle(entry: ReportEntry): string {
  return `live-check: ${entry.point} differs from the package's default`;
}

/** A fenced markdown block a user pastes into a new issue as it is: the title first, then the facts. */
export function bugReport(entry: ReportEntry, context: ReportContext): string {
  return [
    '```markdown',
    `### ${bugReportTitle(entry)}`,
    '',
    `- region: ${context.region}`,
    `- package version: ${context.version}`,
    `- node version: ${context.node}`,
    `- point: ${entry.point}`,
    `- question: ${entry.question}`,
    `- service showed: ${entry.shown ?? 'not answered'}`,
    `- package assumes: ${entry.packageDefault}`,
    `- evidence: ${entry.evidence}`,
    `- transcript: attach ${context.transcript}`,
    '```',
  ].join('\n');
}

export interface Tally {
  match: number;
  mismatch: number;
  open: number;
}

export function tally(entries: readonly ReportEntry[]): Tally {
  return {
    match: entries.filter((e) => e.matches === true).length,
    mismatch: entries.filter((e) => e.matches === false).length,
    open: entries.filter((e) => e.matches === null).length,
  };
}

/** The report printed at the end of a run: every point, then a bug report per mismatch and where to send it. */
export function textReport(result: Pick<RunResult, 'interrupted' | 'unreachable' | 'keyRefused' | 'accountRefused'>, entries: readonly ReportEntry[], context: ReportContext): string {
  const counts = tally(entries);
  const out: string[] = [];
  if (result.interrupted) out.push('Interrupted: the points below are what was learned before Ctrl-C.');
  if (result.unreachable) out.push(`Stopped early: ${result.unreachable}.`);
  if (result.keyRefused) out.push(`Stopped early: ${result.keyRefused}.`);
  if (result.accountRefused) out.push(`Stopped early: ${result.accountRefused}.`);
  out.push(`Results (${MARK.match} as the package assumes, ${MARK.mismatch} differs, ${MARK.open} could not tell: not answered, or nothing the package depends on):`);
  for (const item of groupUnanswered(entries)) out.push('group' in item ? groupLine(item.group) : pointLine(item));
  out.push('');
  out.push(`${counts.match} as assumed, ${counts.mismatch} different, ${counts.open} could not tell.`);
  // Again below the list, where the eye lands after a long report: what to fix before running again.
  const stopped = result.keyRefused ?? result.accountRefused ?? result.unreachable;
  if (stopped) out.push(`Stopped early: ${stopped}.`);
  const mismatches = entries.filter((e) => e.matches === false);
  if (mismatches.length > 0) {
    out.push('');
    out.push(`The service differs from what the package assumes. Please open an issue at ${context.bugsUrl}`);
    out.push(`for each block below (paste it as it is) and attach the transcript ${context.transcript}:`);
    for (const entry of mismatches) {
      out.push('');
      out.push(bugReport(entry, context));
    }
  }
  return out.join('\n');
}

export function jsonReport(result: Omit<RunResult, 'asked' | 'probes'>, entries: readonly ReportEntry[], context: ReportContext, maxCharacters: number): JsonReport {
  return {
    tool: context.tool,
    version: context.version,
    region: context.region,
    started: result.started,
    finished: result.finished,
    interrupted: result.interrupted,
    unreachable: result.unreachable ?? null,
    keyRefused: result.keyRefused ?? null,
    accountRefused: result.accountRefused ?? null,
    maxCharacters,
    findings: [...entries],
  };
}

/**
 * The command's exit code: 130 interrupted, 2 the key or the account was refused (as for no key:
 * the user's to fix, not the package's), 1 a mismatch or no service, 0 otherwise (usage errors are the command's, 2).
 */
export function exitCodeOf(result: Pick<RunResult, 'interrupted' | 'unreachable' | 'keyRefused' | 'accountRefused'>, entries: readonly ReportEntry[]): number {
  if (result.interrupted) return 130;
  if (result.keyRefused || result.accountRefused) return 2;
  if (result.unreachable || entries.some((e) => e.matches === false)) return 1;
  return 0;
}
