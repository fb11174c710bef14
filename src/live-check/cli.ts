/**
 * `live-check`: checks the package against the real service with the user's key (issue 20).
 * Shows what it will do and the most it can cost, asks, checks the key with one free request
 * (preflight.ts), runs the probes (run.ts), prints the report (report.ts) and writes the
 * transcript, and the JSON report when asked.
 *
 * Exit codes: 0 every answered point is as the package assumes; 1 a point differs, or the
 * service could not be reached; 2 usage (bad arguments, no key, the key refused, the account in
 * arrears, no terminal to ask on, the question declined); 130 interrupted (Ctrl-C).
 *
 * Built into its own file (nodes/lib/live-check.js, scripts/build.mjs): a program of its own, run
 * by `npx node-red-contrib-dashscope-tts live-check` and `npm run live-check`.
 */
import { closeSync, createWriteStream, openSync, writeFileSync, type WriteStream } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Credentials } from '../dashscope/auth';
import { EndpointError, resolveEndpoints, type Endpoints } from '../dashscope/endpoints';
import { defaultTranscriptName, parseArgs, USAGE, UsageError, type LiveCheckArgs } from './args';
import { askYesNo } from './confirm';
import { packageInfo } from './package-info';
import { pointById, POINTS } from './points';
import { preflight } from './preflight';
import type { Probe } from './probe';
import { PROBES } from './probes';
import { Redactor } from './redact';
import { exitCodeOf, jsonReport, matchOf, reportEntries, textReport, type ReportContext } from './report';
import { hostOf, maxCharacters, runLiveCheck, selectProbes, type Asked } from './run';
import { TranscriptRecorder } from './transcript';

const TOOL = 'live-check';
const KEY_HELP = `DASHSCOPE_API_KEY is not set. live-check reads your API key from the environment only, e.g.
  DASHSCOPE_API_KEY=sk-... npx node-red-contrib-dashscope-tts live-check
(in a clone: DASHSCOPE_API_KEY=sk-... npm run live-check). Add DASHSCOPE_WORKSPACE=<id> for a workspace.`;

/** What the command touches of its process, so a test can run it in process too. */
export interface CliIo {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Registers the Ctrl-C handler for the run; returns its removal. */
  onInterrupt(handler: () => void): () => void;
  /** Leaves at once (the second Ctrl-C). */
  exitNow(code: number): void;
  /** The clock the second Ctrl-C is timed by (Date.now unless a test sets it). */
  now?(): number;
}

class Output {
  private readonly redactor: Redactor;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    secret: string,
  ) {
    this.redactor = new Redactor([secret]);
  }

  /** Every line the command prints passes here: the key cannot reach a terminal or a log. */
  line(text = ''): void {
    this.stream.write(`${this.redactor.text(text)}\n`);
  }
}

/**
 * A second SIGINT this soon after the first is the same Ctrl-C: npm and npx forward the
 * terminal's SIGINT to the command, which gets the terminal's own too. A second press later quits.
 */
export const SAME_INTERRUPT_MS = 300;

/**
 * The Ctrl-C rule: the first stops the run (it still reports what it learned), a second one, at
 * least SAME_INTERRUPT_MS later, quits at once; one in between is the echo of the first and ignored.
 */
export function interruptHandler(first: () => void, quit: () => void, now: () => number = Date.now): () => void {
  let firstAt: number | undefined;
  return () => {
    if (firstAt === undefined) {
      firstAt = now();
      first();
    } else if (now() - firstAt >= SAME_INTERRUPT_MS) {
      quit();
    }
  };
}

/** Validates --only against the probes there are. */
function planFor(args: LiveCheckArgs): Probe[] {
  const unknown = (args.only ?? []).filter((id) => !PROBES.some((p) => p.id === id));
  if (unknown.length > 0) throw new UsageError(`unknown check id(s): ${unknown.join(', ')} (known: ${PROBES.map((p) => p.id).join(', ')})`);
  const plan = selectProbes(PROBES, args);
  if (plan.length === 0) throw new UsageError('nothing to check');
  return plan;
}

function endpointsFor(args: LiveCheckArgs): Endpoints {
  return args.region === 'custom' ? resolveEndpoints({ region: 'custom', endpoint: args.endpoint }) : resolveEndpoints({ region: args.region });
}

/** How many `-2`, `-3`, … names the default transcript tries before it gives up. */
const MAX_NAME_TRIES = 100;

/**
 * The transcript file, opened now so a path that cannot be written stops the run before anything
 * is sent. A name the user gave (--transcript FILE) is theirs: it is overwritten. The default name
 * never overwrites an earlier run's transcript (two runs in the same second): it gets `-2`, `-3`, ….
 */
export function openTranscript(dir: string, given: string | undefined, started: Date): { path: string; stream: WriteStream } {
  let path: string;
  let fd: number;
  if (given !== undefined) {
    path = resolve(dir, given);
    fd = openSync(path, 'w');
  } else {
    const name = defaultTranscriptName(started);
    for (let n = 1; ; n++) {
      path = join(dir, n === 1 ? name : name.replace(/\.jsonl$/, `-${n}.jsonl`));
      try {
        fd = openSync(path, 'wx');
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n >= MAX_NAME_TRIES) throw e;
      }
    }
  }
  try {
    return { path, stream: createWriteStream('', { fd, encoding: 'utf8' }) };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Flushes and closes the file; resolves with the error that lost lines, if any. */
function endStream(stream: WriteStream): Promise<Error | undefined> {
  return new Promise((done) => {
    if (stream.errored) return done(stream.errored);
    if (stream.closed) return done(undefined);
    stream.end((e?: Error | null) => done(e ?? undefined));
  });
}

export async function main(io: CliIo): Promise<number> {
  const err = new Output(io.stderr, '');
  let args: LiveCheckArgs;
  try {
    args = parseArgs(io.argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.line(`${TOOL}: ${e.message}`);
    err.line();
    err.line(USAGE);
    return 2;
  }
  if (args.help) {
    new Output(io.stdout, '').line(USAGE);
    return 0;
  }

  const apiKey = (io.env.DASHSCOPE_API_KEY ?? '').trim();
  if (!apiKey) {
    err.line(KEY_HELP);
    return 2;
  }
  const out = new Output(io.stdout, apiKey);
  const errOut = new Output(io.stderr, apiKey);
  const workspace = (io.env.DASHSCOPE_WORKSPACE ?? '').trim();
  const credentials: Credentials = workspace ? { apiKey, workspace } : { apiKey };

  let endpoints: Endpoints;
  let plan: Probe[];
  try {
    endpoints = endpointsFor(args);
    plan = planFor(args);
  } catch (e) {
    if (!(e instanceof UsageError) && !(e instanceof EndpointError)) throw e;
    errOut.line(`${TOOL}: ${e.message}`);
    if (e instanceof UsageError) errOut.line(`Run with --help for the options.`);
    return 2;
  }

  const info = packageInfo();
  const host = hostOf(endpoints);
  const cost = maxCharacters(plan);
  out.line(`${TOOL} ${info.version}: ${plan.length} check(s) against ${host} (${args.region === 'custom' ? 'custom endpoint' : `region ${args.region}`}):`);
  out.line(`  0. ${preflight.id}: ${preflight.title}`);
  plan.forEach((p, i) => out.line(`  ${i + 1}. ${p.id}: ${p.title} (${p.maxCharacters === 0 ? 'free' : `≤ ${p.maxCharacters} characters`})`));
  out.line(`At most ${cost} billed characters in all. Short fixed English texts only; nothing of yours is uploaded.`);
  out.line(regionNote(args.region));

  if (!args.yes) {
    if (!io.stdin.isTTY) {
      errOut.line(`${TOOL}: not asking on a non-interactive input: add --yes to run without the question. Nothing was sent.`);
      return 2;
    }
    const yes = await askYesNo(`Spend up to ${cost} characters?`, io.stdin, io.stdout);
    if (!yes) {
      out.line('Nothing was sent.');
      return 2;
    }
  }

  const started = new Date();
  let transcriptPath: string;
  let stream: WriteStream;
  try {
    ({ path: transcriptPath, stream } = openTranscript(io.cwd, args.transcript, started));
  } catch (e) {
    errOut.line(`${TOOL}: cannot write the transcript ${resolve(io.cwd, args.transcript ?? defaultTranscriptName(started))}: ${(e as Error).message}. Nothing was sent.`);
    return 2;
  }
  let writeFailed: string | undefined;
  stream.on('error', (e: Error) => (writeFailed ??= e.message));
  // A socket a probe closed may report its close after the run returned: once the file is being
  // ended, such a line is dropped (a write after end would fail the stream and lose what it buffered).
  let ending = false;
  const recorder = new TranscriptRecorder((line) => {
    if (!ending) stream.write(line.endsWith('\n') ? line : `${line}\n`);
  }, { secrets: [apiKey] });
  const context: ReportContext = {
    tool: TOOL,
    version: info.version,
    region: args.region,
    node: process.version,
    transcript: basename(transcriptPath),
    bugsUrl: info.bugsUrl,
  };

  const controller = new AbortController();
  const removeInterrupt = io.onInterrupt(
    interruptHandler(
      () => {
        errOut.line(`\n${TOOL}: interrupted, closing the connections (Ctrl-C again to quit at once)…`);
        controller.abort();
      },
      () => io.exitNow(130),
      io.now,
    ),
  );

  let code: number;
  try {
    // The recorder adds the Node version and the start time itself.
    recorder.meta({ tool: TOOL, version: info.version, region: args.region, host, checks: plan.map((p) => p.id).join(','), long: args.long });
    out.line();
    const result = await runLiveCheck({
      endpoints,
      credentials,
      region: args.region,
      long: args.long,
      only: args.only,
      tap: recorder,
      signal: controller.signal,
      probes: plan,
      preflight: true,
      progress: (line) => out.line(`     ${line}`),
      probeStarted: (p, i, n) => out.line(`[${i + 1}/${n}] ${p.title}`),
      found: (a: Asked) => out.line(`   ${findingMark(a)} ${a.point}: ${a.shown ?? `not answered (${a.evidence})`}`),
      probeEnded: (p, error) => {
        if (error) out.line(`   ${p.id} ended early: ${error}`);
      },
    });
    const entries = reportEntries(result, POINTS);
    out.line();
    out.line(textReport(result, entries, context));
    code = exitCodeOf(result, entries);
    if (args.report) {
      const reportPath = resolve(io.cwd, args.report);
      try {
        writeFileSync(reportPath, `${JSON.stringify(jsonReport(result, entries, context, cost), null, 2)}\n`);
        out.line(`Report (JSON): ${reportPath}`);
      } catch (e) {
        errOut.line(`${TOOL}: cannot write the report ${reportPath}: ${(e as Error).message}`);
        if (code === 0) code = 1;
      }
    }
  } finally {
    removeInterrupt();
    ending = true;
    const lost = await endStream(stream);
    if (lost) writeFailed ??= lost.message;
  }
  if (writeFailed) {
    errOut.line(`${TOOL}: the transcript ${transcriptPath} is incomplete: ${writeFailed}`);
  } else {
    out.line(`Transcript: ${transcriptPath}`);
    out.line('It holds no key and no audio (only its lengths and hashes): you may attach it to a bug report.');
  }
  return code;
}

/** The mark of a finding as it comes: the report's rule (matchOf), so the live line and the report agree. */
function findingMark(a: Asked): string {
  const matches = matchOf(pointById(a.point), a.shown);
  if (matches === null) return '?';
  return matches ? '✓' : '✗';
}

/** Which key the run expects (a key belongs to one region: docs/protocol.md "Endpoints and regions"). */
function regionNote(region: LiveCheckArgs['region']): string {
  if (region === 'custom') return 'Your key must be one this endpoint accepts; the first request (free) checks it.';
  const other = region === 'beijing' ? 'singapore' : 'beijing';
  return `Region ${region}: a key of the ${other} region will be refused (use --region ${other}); the first request (free) checks it.`;
}

function processIo(): CliIo {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
    exitNow: (code) => process.exit(code),
  };
}

if (require.main === module) {
  main(processIo()).then(
    (code) => {
      process.exitCode = code;
      // Everything is closed by now; a probe left behind after its deadline must not keep the command alive.
      setTimeout(() => process.exit(code), 2_000).unref();
    },
    (e: unknown) => {
      const key = (process.env.DASHSCOPE_API_KEY ?? '').trim();
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      process.stderr.write(`${TOOL} failed: ${new Redactor([key]).text(text)}\n`);
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 2_000).unref();
    },
  );
}
