/**
 * Runs the simulator as a process (offline demo mode and manual testing):
 *   npx tsx test/simulator/cli.ts [--port N] [--host H] [--any-key] [--key K]... [--latency MS] [--rtf X]
 * Prints exactly one line `DASHSCOPE_SIMULATOR_READY <baseUrl>` on stdout once listening; logs one
 * line per connection on stderr; closes cleanly on SIGINT/SIGTERM.
 */
import { DashScopeSimulator, type SimulatorOptions } from './index';

function numberArg(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
  return n;
}

export function parseArgs(argv: readonly string[]): SimulatorOptions {
  const opts: SimulatorOptions = { recordTranscripts: false };
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
      default:
        throw new Error(`unknown argument ${String(flag)}`);
    }
  }
  if (keys.length) opts.apiKeys = keys;
  return opts;
}

async function main(): Promise<void> {
  let options: SimulatorOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`dashscope-simulator: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const sim = await DashScopeSimulator.start({ ...options, log: (line) => process.stderr.write(`[simulator] ${line}\n`) });
  process.stdout.write(`DASHSCOPE_SIMULATOR_READY ${sim.baseUrl}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void sim.close().then(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) void main();
