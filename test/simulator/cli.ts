/**
 * Runs the simulator as a process (offline demo mode and manual testing):
 *   npx tsx test/simulator/cli.ts [--port N] [--host H] [--any-key] [--key K]... [--latency MS] [--rtf X]
 *   npx tsx test/simulator/cli.ts --replay FILE [--time-scale X] [--port N] [--host H]
 *   --avoid-port N: with --port 0, never the port N (npm start's Node-RED port: the system may hand
 *   out again a port a test had just released for Node-RED)
 * Prints exactly one line `DASHSCOPE_SIMULATOR_READY <baseUrl>` on stdout once listening; logs one
 * line per connection on stderr; closes cleanly on SIGINT/SIGTERM.
 *
 * `--replay` answers from a user's live-check transcript instead of simulating (replay/): point
 * `npm run live-check -- --endpoint <baseUrl> --only <the transcript's probes>` at it to run the kit
 * against what the user's service did (test/fixtures/live-check/README.md). `--time-scale`
 * multiplies the recorded gaps (default 1: as recorded; the kit runs at the service's pace, so a
 * transcript recorded at a meta `timeScale` below 1 wants its inverse). Each replay error is
 * logged on stderr when the simulator closes.
 */
import { readFileSync } from 'node:fs';
import { parseTranscript } from '../../src/live-check/transcript-format';
import { DashScopeSimulator, type SimulatorOptions } from './index';

function numberArg(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
  return n;
}

/** What `--replay` names; read by `main` (parseArgs reads no file). */
export interface CliOptions extends SimulatorOptions {
  replayFile?: string;
  replayTimeScale?: number;
  avoidPort?: number;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = { recordTranscripts: false };
  const keys: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--port':
        opts.port = numberArg(flag, value());
        break;
      case '--host':
        opts.host = value();
        break;
      case '--any-key':
        opts.acceptAnyKey = true;
        break;
      case '--key': {
        const k = value();
        if (!k) throw new Error('--key needs a value');
        keys.push(k);
        break;
      }
      case '--latency':
        opts.firstAudioLatencyMs = numberArg(flag, value());
        break;
      case '--rtf':
        opts.realTimeFactor = numberArg(flag, value());
        break;
      case '--replay': {
        const file = value();
        if (!file) throw new Error('--replay needs a transcript file');
        opts.replayFile = file;
        break;
      }
      case '--time-scale':
        opts.replayTimeScale = numberArg(flag, value());
        break;
      case '--avoid-port':
        opts.avoidPort = numberArg(flag, value());
        break;
      default:
        throw new Error(`unknown argument ${String(flag)}`);
    }
  }
  if (keys.length) opts.apiKeys = keys;
  if (opts.replayTimeScale !== undefined && opts.replayFile === undefined) throw new Error('--time-scale goes with --replay');
  return opts;
}

/** The simulator's options: the transcript read and checked when `--replay` names one (a broken line is named by its number). */
export function simulatorOptions(cli: CliOptions, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): SimulatorOptions {
  const { replayFile, replayTimeScale, avoidPort: _avoidPort, ...options } = cli;
  if (replayFile === undefined) return options;
  let text: string;
  try {
    text = read(replayFile);
  } catch (e) {
    throw new Error(`cannot read ${replayFile}: ${(e as Error).message}`);
  }
  return { ...options, replay: { transcript: parseTranscript(text), timeScale: replayTimeScale ?? 1 } };
}

/** Starts a simulator on any port but `avoid`: one that lands there is closed and started again. */
export async function startAvoiding<S extends { readonly port: number; close(): Promise<void> }>(
  options: SimulatorOptions,
  avoid: number | undefined,
  start: (o: SimulatorOptions) => Promise<S>,
): Promise<S> {
  for (;;) {
    const sim = await start(options);
    if (avoid === undefined || sim.port !== avoid) return sim;
    await sim.close();
  }
}

async function main(): Promise<void> {
  let cli: CliOptions;
  let options: SimulatorOptions;
  try {
    cli = parseArgs(process.argv.slice(2));
    options = simulatorOptions(cli);
  } catch (e) {
    process.stderr.write(`dashscope-simulator: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const logged = { ...options, log: (line: string) => process.stderr.write(`[simulator] ${line}\n`) };
  const sim = await startAvoiding(logged, cli.avoidPort, (o) => DashScopeSimulator.start(o));
  process.stdout.write(`DASHSCOPE_SIMULATOR_READY ${sim.baseUrl}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const e of sim.replayErrors) {
      process.stderr.write(`[simulator] replay error (${e.service}${e.conn === undefined ? '' : ` conn ${e.conn}`}): ${e.message}\n`);
    }
    void sim.close().then(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) void main();
