// The live-check command as a user runs it: the built file (nodes/lib/live-check.js) in its own
// process, against the simulator on loopback (`--endpoint http://127.0.0.1:<port>`), key in the
// environment. No key, no terminal, a plan printed before anything is sent, exit codes, a bug
// report for a variant that differs, the key in none of the four outputs, a refused key (the
// free preflight stops the run), a refused connection, a server that never answers, and Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import { join } from 'node:path';
import { interruptHandler, main, openTranscript, SAME_INTERRUPT_MS, type CliIo } from '../../src/live-check/cli';
import { defaultTranscriptName, parseArgs, UsageError } from '../../src/live-check/args';
import { askYesNo } from '../../src/live-check/confirm';
import { PROBES } from '../../src/live-check/probes';
import type { JsonReport } from '../../src/live-check/report';
import { parseTranscript } from '../../src/live-check/transcript-format';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { closedPort, startSilentServer, type SilentServer } from '../support/dead-ends';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'nodes', 'lib', 'live-check.js');
const KEY = 'sk-test-key';
/** Two cheap checks (under 50 characters, a few seconds) that answer eight points, CosyVoice and Qwen. */
const CHEAP = ['cv-containers', 'qwen-commit'];

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Sends SIGINT once stdout matches. */
  interruptWhen?: RegExp;
}

function runCli(cwd: string, args: string[], options: RunOptions = {}): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.DASHSCOPE_WORKSPACE;
  if (!options.env || !('DASHSCOPE_API_KEY' in options.env)) delete env.DASHSCOPE_API_KEY;
  const t0 = Date.now();
  // stdin a pipe: never a terminal, as in CI.
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (options.interruptWhen && !interrupted && options.interruptWhen.test(stdout)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }));
  });
}

function readReport(path: string): JsonReport {
  return JSON.parse(readFileSync(path, 'utf8')) as JsonReport;
}

/** The points the named probes ask, as the report must list them: each once. */
function pointsOf(ids: readonly string[]): string[] {
  return [...new Set(PROBES.filter((p) => ids.includes(p.id)).flatMap((p) => p.points))];
}

function assertNoKey(ran: Ran, files: string[]): void {
  assert.ok(!ran.stdout.includes(KEY), 'the key is not in stdout');
  assert.ok(!ran.stderr.includes(KEY), 'the key is not in stderr');
  for (const f of files) {
    assert.ok(existsSync(f), `${f} was written`);
    assert.ok(!readFileSync(f, 'utf8').includes(KEY), `the key is not in ${f}`);
  }
}

describe('live-check command (built, against the simulator)', function () {
  this.timeout(60_000);
  let dir: string;
  let sim: DashScopeSimulator | undefined;
  /** When the simulator saw each connection (ms since epoch). */
  let connections: number[];

  before(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'live-check-cli-'));
    connections = [];
  });
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function simulator(options: SimulatorOptions = {}): Promise<string> {
    sim = await DashScopeSimulator.start({ ...options, log: () => connections.push(Date.now()) });
    return sim.baseUrl;
  }

  const withKey = { env: { DASHSCOPE_API_KEY: KEY } };

  it('--help lists the options and exits 0; a bad argument prints the usage and exits 2', async () => {
    const help = await runCli(dir, ['live-check', '--help']);
    assert.equal(help.code, 0);
    for (const option of ['--region', '--endpoint', '--yes', '--long', '--report', '--transcript', '--only', '--help', 'DASHSCOPE_API_KEY']) {
      assert.ok(help.stdout.includes(option), `--help names ${option}`);
    }
    assert.match(help.stdout, /--transcript FILE +where to write the transcript \(replaced if it exists; by default\n +live-check-<UTC time>\.jsonl in this directory, never replaced\)/);
    assert.match(help.stdout, /node nodes\/lib\/live-check\.js live-check/, 'names the way to run it that keeps the report before the prompt');
    // npm and npx alike may return the prompt first and report their own exit code: the installed file itself, run by node.
    assert.match(help.stdout, /\n {2}node node_modules\/node-red-contrib-dashscope-tts\/nodes\/lib\/live-check\.js live-check\nwhere the package is installed/);
    assert.doesNotMatch(help.stdout, /order run\s+npx/, 'npx is not offered as the orderly way');
    const bad = await runCli(dir, ['live-check', '--region', 'mars'], withKey);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--region must be beijing or singapore/);
    assert.match(bad.stderr, /Usage: /);
    const unknown = await runCli(dir, ['live-check', '--only', 'no-such-check', '--yes'], withKey);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown check id\(s\): no-such-check/);
  });

  it('without a key: says how to set DASHSCOPE_API_KEY and exits 2, sending nothing', async () => {
    const base = await simulator();
    const ran = await runCli(dir, ['live-check', '--endpoint', base, '--yes']);
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /DASHSCOPE_API_KEY is not set/);
    assert.match(ran.stderr, /DASHSCOPE_API_KEY=sk-\.\.\. npx node-red-contrib-dashscope-tts live-check/);
    assert.equal(connections.length, 0);
    assert.deepEqual(readdirSync(dir), [], 'no transcript for a run that did not happen');
  });

  it('an endpoint that would send the key in clear text is refused (exit 2), as tts-config refuses it', async () => {
    const ran = await runCli(dir, ['live-check', '--endpoint', 'http://dashscope.example.com', '--yes'], withKey);
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /refusing to send the API key in clear text/);
  });

  it('no terminal and no --yes: prints the plan, says why it does not ask, exits 2, and the simulator saw no connection', async () => {
    const base = await simulator();
    const ran = await runCli(dir, ['live-check', '--endpoint', base, '--only', CHEAP.join(',')], withKey);
    assert.equal(ran.code, 2);
    assert.match(ran.stdout, /At most \d+ billed characters/);
    assert.match(ran.stderr, /add --yes/);
    assert.equal(connections.length, 0);
    assert.equal(sim?.stats.httpRequests, 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('--yes on the default simulator: plan and cost before any connection, exit 0, one report entry per point, the key nowhere', async () => {
    const base = await simulator();
    const report = join(dir, 'report.json');
    const transcript = join(dir, 'run.jsonl');
    const ran = await runCli(dir, ['live-check', '--endpoint', base, '--yes', '--only', CHEAP.join(','), '--report', report, '--transcript', transcript], withKey);
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    const cost = PROBES.filter((p) => CHEAP.includes(p.id)).reduce((sum, p) => sum + p.maxCharacters, 0);
    assert.match(ran.stdout, new RegExp(`At most ${cost} billed characters`));
    for (const p of PROBES.filter((p) => CHEAP.includes(p.id))) assert.ok(ran.stdout.includes(p.title), `the plan names ${p.id}`);
    assert.ok(ran.stdout.indexOf('127.0.0.1') < ran.stdout.indexOf('[1/2]'), 'the plan names the endpoint host first');
    assert.match(ran.stdout, /\n {2}0\. preflight: Key check: .*\(free; nothing is uploaded\)\n/, 'the plan names the free key check');
    assert.match(ran.stdout, /Your key must be one this endpoint accepts; the first request \(free\) checks it\./);
    assert.ok(connections.length > 0, 'the simulator was used');
    assert.ok(ran.stdout.indexOf('At most') < ran.stdout.indexOf('[1/2]'), 'the cost is printed before the first check starts');

    const json = readReport(report);
    assert.equal(json.tool, 'live-check');
    assert.equal(json.region, 'custom');
    assert.equal(json.interrupted, false);
    assert.equal(json.maxCharacters, cost);
    assert.deepEqual(json.findings.map((f) => f.point).sort(), pointsOf(CHEAP).sort());
    for (const f of json.findings) assert.equal(f.matches, true, `${f.point}: ${f.shown} vs ${f.packageDefault} (${f.evidence})`);
    assert.ok((sim?.stats.billedCharacters ?? Infinity) <= cost, 'billed no more than the plan said');

    const lines = parseTranscript(readFileSync(transcript, 'utf8'));
    assert.equal(lines[0]?.kind, 'meta');
    assert.deepEqual(
      lines.filter((l) => l.kind === 'probe').map((l) => `${(l as { probe: string }).probe} ${(l as { phase: string }).phase}`),
      ['preflight', ...CHEAP].flatMap((id) => [`${id} start`, `${id} end`]),
    );
    assert.match(ran.stdout, new RegExp(`Transcript: ${transcript.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\nIt holds no key`));
    assertNoKey(ran, [report, transcript]);
  });

  for (const [name, options, point] of [
    ['CosyVoice repeats the container header per sentence', { cosyvoice: { containerHeaders: 'per-sentence' } }, 'cv-container-headers'],
    ['Qwen answers an empty commit with a bare committed', { qwen: { emptyCommit: 'committed' } }, 'qwen-empty-commit'],
  ] as const) {
    it(`a variant that differs from the default (${name}): exit 1 and a bug report naming ${point}`, async () => {
      const base = await simulator(options as SimulatorOptions);
      const report = join(dir, 'report.json');
      const transcript = join(dir, 'run.jsonl');
      const ran = await runCli(dir, ['live-check', '--endpoint', base, '--yes', '--only', CHEAP.join(','), '--report', report, '--transcript', transcript], withKey);
      assert.equal(ran.code, 1, ran.stdout + ran.stderr);
      assert.ok(ran.stdout.includes(`### live-check: ${point} differs from the package's default`), ran.stdout);
      assert.ok(ran.stdout.includes('- transcript: attach run.jsonl'));
      assert.match(ran.stdout, /open an issue at https:\/\/github\.com\/.*\/issues/);
      const mismatches = readReport(report).findings.filter((f) => f.matches === false);
      assert.deepEqual(mismatches.map((f) => f.point), [point]);
      assertNoKey(ran, [report, transcript]);
    });
  }

  it('a refused key (of the other region, say): the free preflight stops the run at once, exit 2, the reason, no bug report, the transcript written', async () => {
    const base = await simulator();
    const report = join(dir, 'report.json');
    const transcript = join(dir, 'run.jsonl');
    const wrong = 'sk-0123456789abcdef0123456789abcdef';
    const ran = await runCli(dir, ['live-check', '--endpoint', base, '--yes', '--report', report, '--transcript', transcript], { env: { DASHSCOPE_API_KEY: wrong } });
    assert.equal(ran.code, 2, ran.stdout + ran.stderr);
    const host = new URL(base).host;
    assert.ok(ran.stdout.includes(`Stopped early: the key was refused at ${host} (HTTP 401 InvalidApiKey): check the key and the endpoint.`), ran.stdout);
    assert.doesNotMatch(ran.stdout, /^\s*✗ |```|open an issue/m, 'no mismatch and no bug report');
    // Every point, not asked, on one line with the one reason (report.ts groupUnanswered), not a line each.
    const notAsked = /^\? (\d+) points not answered: (.+)$/m.exec(ran.stdout);
    assert.ok(notAsked, `the points are listed as not answered: ${ran.stdout}`);
    const listed = (notAsked[2] as string).split(', ');
    const inReport = readReport(report).findings.map((f) => f.point);
    assert.deepEqual(listed, inReport);
    assert.equal(Number(notAsked[1]), inReport.length);
    assert.doesNotMatch(ran.stdout, /^\[\d+\/\d+\]/m, 'no check was started');
    assert.match(ran.stdout, /upload-policy: .*\(free\)\n/, 'a free check says "free"');
    assert.doesNotMatch(ran.stdout, /≤ 0 characters/);
    assert.equal(sim?.stats.httpRequests, 1, 'one request: the preflight');
    assert.equal(sim?.stats.connections.cosyvoice + (sim?.stats.connections.qwen ?? 0), 0, 'no WebSocket was opened');
    assert.equal(sim?.stats.billedCharacters, 0);
    const json = readReport(report);
    assert.match(json.keyRefused ?? '', /^the key was refused at /);
    assert.ok(json.findings.length > 0 && json.findings.every((f) => f.matches === null && f.evidence.startsWith('not asked: the key was refused')), JSON.stringify(json.findings[0]));
    const lines = parseTranscript(readFileSync(transcript, 'utf8'));
    assert.deepEqual(lines.filter((l) => l.kind === 'probe').map((l) => `${(l as { probe: string }).probe} ${(l as { phase: string }).phase}`), ['preflight start', 'preflight end']);
    assert.ok(lines.some((l) => l.kind === 'http'), 'the preflight request is in the transcript');
    assert.ok(!ran.stdout.includes(wrong) && !ran.stderr.includes(wrong) && !readFileSync(transcript, 'utf8').includes(wrong) && !readFileSync(report, 'utf8').includes(wrong), 'the key is nowhere');
  });

  it('a key refused in the middle of the run (revoked): the run stops there, exit 2, no bug report', async () => {
    // The preflight (HTTP) takes the key; the first WebSocket handshake refuses it.
    const base = await simulator();
    sim?.inject({ kind: 'reject-auth', status: 401, times: Infinity });
    const report = join(dir, 'report.json');
    const ran = await runCli(dir, ['live-check', '--endpoint', base, '--yes', '--report', report, '--transcript', join(dir, 't.jsonl')], withKey);
    assert.equal(ran.code, 2, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /Stopped early: the key was refused at 127\.0\.0\.1:\d+ \(HTTP 401 InvalidApiKey\) after it had been accepted: was it revoked or disabled\?/);
    assert.equal((ran.stdout.match(/^\[\d+\/\d+\]/gm) ?? []).length, 1, 'no check after the one that met the refusal');
    assert.doesNotMatch(ran.stdout, /^\s*✗ |```|open an issue/m, 'no refusal read as an answer');
    const json = readReport(report);
    assert.ok(json.findings.every((f) => f.matches === null), JSON.stringify(json.findings.filter((f) => f.matches !== null)));
    assertNoKey(ran, [report]);
  });

  it('a model this account may not use is "?" as it comes and in the report, never a bug report (Point.neutral)', async () => {
    const base = await simulator();
    sim?.inject({ kind: 'fail-task', code: 'Model.AccessDenied', message: 'Model access denied.', times: Infinity });
    const report = join(dir, 'report.json');
    const ran = await runCli(dir, ['live-check', '--endpoint', base, '--yes', '--only', 'cv-models', '--report', report, '--transcript', join(dir, 't.jsonl')], withKey);
    // The models with no system voice are not called at all (shown null); every other one was refused.
    const speaks = readReport(report).findings.filter((f) => f.point.startsWith('cv-speaks-') && f.shown !== null);
    assert.ok(speaks.length >= 2, JSON.stringify(speaks));
    for (const f of speaks) {
      assert.equal(f.shown, 'not available to this account', `${f.point}: ${f.evidence}`);
      assert.equal(f.matches, null, f.point);
      assert.match(ran.stdout, new RegExp(`^ {3}\\? ${f.point.replace(/\./g, '\\.')}: not available to this account$`, 'm'), 'the live line is "?" too (one rule: matchOf)');
    }
    assert.doesNotMatch(ran.stdout, /```|open an issue/);
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
  });

  it('the plan names the region and the key it needs (a key of the other region is refused)', async () => {
    // No --yes and no terminal: the plan is printed, nothing is sent.
    const beijing = await runCli(dir, ['live-check', '--only', CHEAP.join(',')], withKey);
    assert.equal(beijing.code, 2);
    assert.match(beijing.stdout, /against dashscope\.aliyuncs\.com \(region beijing\)/);
    assert.match(beijing.stdout, /Region beijing: a key of the singapore region will be refused \(use --region singapore\); the first request \(free\) checks it\./);
    const singapore = await runCli(dir, ['live-check', '--region', 'singapore', '--only', CHEAP.join(',')], withKey);
    assert.match(singapore.stdout, /Region singapore: a key of the beijing region will be refused \(use --region beijing\)/);
  });

  it('a refused connection (nothing listening): ends quickly, exit 1, "cannot reach", report with every point unanswered', async () => {
    const port = await closedPort();
    const report = join(dir, 'report.json');
    // No --transcript: the default name, in the current directory.
    const ran = await runCli(dir, ['live-check', '--endpoint', `http://127.0.0.1:${port}`, '--yes', '--report', report], withKey);
    assert.equal(ran.code, 1, ran.stdout + ran.stderr);
    const written = readdirSync(dir).filter((f) => /^live-check-\d{4}-\d\d-\d\dT\d{6}Z\.jsonl$/.test(f));
    assert.equal(written.length, 1, readdirSync(dir).join(', '));
    const transcript = join(dir, written[0] as string);
    assert.ok(ran.ms < 10_000, `took ${ran.ms} ms`);
    assert.match(ran.stdout, new RegExp(`Stopped early: cannot reach 127\\.0\\.0\\.1:${port}`));
    assert.equal((ran.stdout.match(/^\[\d+\/\d+\]/gm) ?? []).length, 0, 'no check was started: the preflight found nobody there');
    const json = readReport(report);
    assert.match(json.unreachable ?? '', /^cannot reach/);
    const normal = PROBES.filter((p) => !p.long).map((p) => p.id);
    assert.deepEqual(json.findings.map((f) => f.point).sort(), pointsOf(normal).sort());
    for (const f of json.findings) assert.equal(f.matches, null, f.point);
    assert.ok(parseTranscript(readFileSync(transcript, 'utf8')).some((l) => l.kind === 'http-failed'), 'the transcript shows the failed request (the preflight)');
    assertNoKey(ran, [report, transcript]);
  });

  describe('a server that accepts and never answers', () => {
    let silent: SilentServer | undefined;
    afterEach(async () => {
      await silent?.close();
      silent = undefined;
    });

    it('ends within the connect timeout with what it learned (nothing), exit 1, report written', async () => {
      silent = await startSilentServer();
      const report = join(dir, 'report.json');
      const ran = await runCli(dir, ['live-check', '--endpoint', `http://127.0.0.1:${silent.port}`, '--yes', '--report', report, '--transcript', join(dir, 't.jsonl')], withKey);
      assert.equal(ran.code, 1, ran.stdout + ran.stderr);
      // The preflight's timeout is 10 s of service time; the run's per-check deadline (60 s) is the bound.
      assert.ok(ran.ms < 30_000, `took ${ran.ms} ms`);
      assert.ok(silent.accepted.length > 0, 'the command did connect');
      assert.match(readReport(report).unreachable ?? '', /^cannot reach/);
    });
  });

  it('Ctrl-C in the middle: exit 130, report and transcript written and parseable, with the findings made before', async () => {
    const base = await simulator();
    const report = join(dir, 'report.json');
    const transcript = join(dir, 'run.jsonl');
    // qwen-cuts waits 2 s after a clause: the interrupt lands in that wait.
    const ran = await runCli(dir, ['live-check', '--endpoint', base, '--yes', '--only', 'cv-containers,qwen-cuts', '--report', report, '--transcript', transcript], {
      ...withKey,
      interruptWhen: /\[2\/2\]/,
    });
    assert.equal(ran.code, 130, ran.stdout + ran.stderr);
    assert.ok(ran.ms < 10_000, `took ${ran.ms} ms`);
    assert.match(ran.stderr, /interrupted/);
    const json = readReport(report);
    assert.equal(json.interrupted, true);
    const before = json.findings.filter((f) => f.probe === 'cv-containers');
    assert.ok(before.length > 0 && before.every((f) => f.matches === true), JSON.stringify(before));
    const during = json.findings.filter((f) => f.probe === 'qwen-cuts');
    assert.ok(during.length > 0 && during.every((f) => f.matches === null), JSON.stringify(during));
    const lines = parseTranscript(readFileSync(transcript, 'utf8'));
    assert.deepEqual(lines.filter((l) => l.kind === 'probe').map((l) => (l as { phase: string }).phase), ['start', 'end', 'start', 'end', 'start', 'end'], `the interrupted check is marked ended:\n${ran.stdout}\n${ran.stderr}\n${readFileSync(transcript, 'utf8').slice(-1500)}`);
    assert.equal(sim?.stats.openSockets, 0, 'every socket closed');
    assertNoKey(ran, [report, transcript]);
  });

  it('Ctrl-C: the echo of the first (npm/npx forward it) is ignored, a second press later quits at once (the command in process)', async () => {
    const base = await simulator();
    let handler: (() => void) | undefined;
    const exits: number[] = [];
    let exitsAfterEcho: number[] | undefined;
    let stdout = '';
    let stderr = '';
    // The command's clock: each Ctrl-C below sets it first.
    let clock = 1_000;
    const sink = (write: (text: string) => void): NodeJS.WritableStream => new Writable({ write: (chunk: Buffer, _enc, done) => (write(chunk.toString()), done()) });
    const io: CliIo = {
      argv: ['live-check', '--endpoint', base, '--yes', '--only', 'qwen-cuts', '--transcript', join(dir, 't.jsonl')],
      env: { DASHSCOPE_API_KEY: KEY },
      cwd: dir,
      stdin: new PassThrough(),
      stdout: sink((text) => {
        stdout += text;
        // As the check starts: Ctrl-C, its echo 100 ms later, then a second press: the command is still closing.
        if (handler && /\[1\/1\]/.test(text)) {
          handler();
          clock += 100;
          handler();
          exitsAfterEcho = [...exits];
          clock += SAME_INTERRUPT_MS;
          handler();
        }
      }),
      stderr: sink((text) => (stderr += text)),
      onInterrupt: (h) => {
        handler = h;
        return () => (handler = undefined);
      },
      exitNow: (code) => void exits.push(code),
      now: () => clock,
    };
    const code = await main(io);
    assert.deepEqual(exitsAfterEcho, [], 'the echo of the first Ctrl-C did not quit');
    assert.deepEqual(exits, [130], 'the second press asked to quit at once');
    assert.equal((stderr.match(/interrupted, closing the connections/g) ?? []).length, 1);
    assert.equal(code, 130);
    assert.equal(handler, undefined, 'the handler is removed when the run ends');
    assert.match(stdout, /Interrupted/);
  });
});

describe('live-check Ctrl-C rule (interruptHandler)', () => {
  it('first press stops, a press within SAME_INTERRUPT_MS is ignored, one at or after it quits', () => {
    const calls: string[] = [];
    let now = 0;
    const onSigint = interruptHandler(
      () => calls.push(`stop@${now}`),
      () => calls.push(`quit@${now}`),
      () => now,
    );
    onSigint();
    now = SAME_INTERRUPT_MS - 1;
    onSigint();
    assert.deepEqual(calls, ['stop@0']);
    now = SAME_INTERRUPT_MS;
    onSigint();
    now = 10_000;
    onSigint();
    assert.deepEqual(calls, ['stop@0', `quit@${SAME_INTERRUPT_MS}`, 'quit@10000']);
  });
});

describe('live-check transcript file (openTranscript)', () => {
  let dir: string;
  const streams: WriteStream[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'live-check-transcript-'))));
  afterEach(async () => {
    await Promise.all(streams.splice(0).map((s) => new Promise<void>((r) => s.end(() => r()))));
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (given: string | undefined, started: Date): string => {
    const { path, stream } = openTranscript(dir, given, started);
    streams.push(stream);
    return path;
  };

  it('the default name never replaces an earlier transcript: it takes -2, -3, …', () => {
    const started = new Date('2026-03-04T05:06:07.890Z');
    const name = defaultTranscriptName(started);
    writeFileSync(join(dir, name), 'an earlier run\n');
    assert.equal(open(undefined, started), join(dir, 'live-check-2026-03-04T050607Z-2.jsonl'));
    assert.equal(open(undefined, started), join(dir, 'live-check-2026-03-04T050607Z-3.jsonl'));
    assert.equal(readFileSync(join(dir, name), 'utf8'), 'an earlier run\n', 'the earlier transcript is untouched');
  });

  it('a name the user gave (--transcript FILE) is replaced, as --help says', () => {
    writeFileSync(join(dir, 'mine.jsonl'), 'old\n');
    assert.equal(open('mine.jsonl', new Date()), join(dir, 'mine.jsonl'));
    assert.equal(readFileSync(join(dir, 'mine.jsonl'), 'utf8'), '', 'emptied for the new run');
  });
});

describe('live-check question before spending (askYesNo)', () => {
  /** Answers `typed` to the question and returns what askYesNo resolved with, and what it printed. */
  async function ask(typed: string | null): Promise<{ answer: boolean; shown: string }> {
    const input = new PassThrough();
    let shown = '';
    const output = new Writable({ write: (chunk: Buffer, _enc, done) => ((shown += chunk.toString()), done()) });
    const pending = askYesNo('Spend up to 42 characters?', input, output);
    if (typed === null) input.end();
    else input.write(typed);
    return { answer: await pending, shown };
  }

  it('asks with the amount and takes only an explicit yes', async () => {
    const yes = await ask('y\n');
    assert.equal(yes.answer, true);
    assert.match(yes.shown, /Spend up to 42 characters\? \[y\/N\]/);
    assert.equal((await ask('yes\n')).answer, true);
    assert.equal((await ask('\n')).answer, false, 'Enter alone is no');
    assert.equal((await ask('n\n')).answer, false);
    assert.equal((await ask('sure\n')).answer, false);
    assert.equal((await ask(null)).answer, false, 'input that ends is no');
  });
});

describe('live-check arguments (parseArgs)', () => {
  it('reads every option, both as --flag value and --flag=value', () => {
    assert.deepEqual(parseArgs(['live-check']), { help: false, region: 'beijing', yes: false, long: false });
    assert.deepEqual(parseArgs(['live-check', '--region', 'singapore', '--yes', '--long', '--report', 'r.json', '--transcript=t.jsonl', '--only', 'a,b', '--only=c']), {
      help: false,
      region: 'singapore',
      yes: true,
      long: true,
      report: 'r.json',
      transcript: 't.jsonl',
      only: ['a', 'b', 'c'],
    });
    assert.deepEqual(parseArgs(['live-check', '--endpoint', 'https://proxy.example.com']), { help: false, region: 'custom', endpoint: 'https://proxy.example.com', yes: false, long: false });
    assert.equal(parseArgs(['--help']).help, true);
  });

  it('refuses what it does not know, without echoing a stray word (it could be a pasted key)', () => {
    const refused = (argv: string[]): string => {
      try {
        parseArgs(argv);
      } catch (e) {
        assert.ok(e instanceof UsageError);
        return e.message;
      }
      assert.fail(`${argv.join(' ')} was accepted`);
    };
    assert.match(refused([]), /first argument must be the command: live-check/);
    assert.match(refused(['check']), /first argument must be the command/);
    assert.match(refused(['live-check', '--region', 'custom']), /--region must be beijing or singapore/);
    assert.match(refused(['live-check', '--region', 'beijing', '--endpoint', 'https://x.example.com']), /do not go together/);
    assert.match(refused(['live-check', '--report']), /--report needs a value/);
    assert.match(refused(['live-check', '--report', '--yes']), /--report needs a value/);
    assert.match(refused(['live-check', '--yes=no']), /--yes takes no value/);
    assert.match(refused(['live-check', '--key', KEY]), /DASHSCOPE_API_KEY only/);
    assert.ok(!refused(['live-check', '--key', KEY]).includes(KEY));
    assert.ok(!refused(['live-check', KEY]).includes(KEY));
    assert.ok(!refused([KEY]).includes(KEY));
  });

  it('names the default transcript by the UTC start, safe as a file name (no colon)', () => {
    assert.equal(defaultTranscriptName(new Date('2026-03-04T05:06:07.890Z')), 'live-check-2026-03-04T050607Z.jsonl');
  });
});
