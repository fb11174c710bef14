/**
 * The command line of `live-check`. The key is never an argument: a command line lands in the
 * shell's history and in `ps` for every user of the machine to read, so it comes from
 * DASHSCOPE_API_KEY only (cli.ts).
 */
import type { Region } from '../dashscope/endpoints';

export interface LiveCheckArgs {
  help: boolean;
  /** `beijing` or `singapore`; `custom` when --endpoint is given. */
  region: Region;
  /** The custom base URL (--endpoint), as tts-config takes it. */
  endpoint?: string;
  yes: boolean;
  long: boolean;
  report?: string;
  /** Undefined: the default name, chosen when the run starts (it carries the time). */
  transcript?: string;
  only?: string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const SUBCOMMAND = 'live-check';

export const USAGE = `Usage: npx node-red-contrib-dashscope-tts live-check [options]
       npm run live-check -- [options]         (in a clone of the project)

Checks this package against the real DashScope service with your API key: short fixed English
texts, under 2,000 billed characters (the exact maximum is shown, and asked about, before anything
is sent).

Environment:
  DASHSCOPE_API_KEY      your API key (required; never pass it as an argument)
  DASHSCOPE_WORKSPACE    a Model Studio workspace id (optional)

Options:
  --region beijing|singapore   the region your key belongs to (default beijing)
  --endpoint URL               a custom base URL instead, as the tts-config node takes it
                               (https://…, or http:// to this machine only)
  --yes                        do not ask before spending characters
  --long                       also run the slow checks (a few minutes of waiting)
  --only ID,ID                 run only these checks (ids as listed in the plan)
  --report FILE                also write the findings as JSON to FILE (replaced if it exists)
  --transcript FILE            where to write the transcript (replaced if it exists; by default
                               live-check-<UTC time>.jsonl in this directory, never replaced)
  --help                       show this help

The first request (free) checks that the service takes your key: a key of the other region is
refused, and the run stops there (exit 2).

Ctrl-C stops the run and still writes what was learned; press it again to quit at once. Through
npm ("npm run", npx) the shell prompt may come back before the report is printed, and the exit
code is npm's: to keep them in order, with the check's own exit code, run the file itself:
  node node_modules/node-red-contrib-dashscope-tts/nodes/lib/live-check.js live-check
where the package is installed, or, in a clone after "npm run build",
  node nodes/lib/live-check.js live-check`;

const REGIONS: readonly Region[] = ['beijing', 'singapore'];

/**
 * Parses the arguments after the program: the first must be the subcommand. `--flag value` and
 * `--flag=value` both work. Throws UsageError for anything it does not know.
 */
export function parseArgs(argv: readonly string[]): LiveCheckArgs {
  const args: LiveCheckArgs = { help: false, region: 'beijing', yes: false, long: false };
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') return { ...args, help: true };
  if (command !== SUBCOMMAND) throw new UsageError(`the first argument must be the command: ${SUBCOMMAND}`);
  let regionGiven = false;
  for (let i = 0; i < rest.length; i++) {
    const raw = rest[i] as string;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? rest[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const noValue = (): void => {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
    };
    switch (flag) {
      case '--help':
      case '-h':
        noValue();
        args.help = true;
        break;
      case '--yes':
      case '-y':
        noValue();
        args.yes = true;
        break;
      case '--long':
        noValue();
        args.long = true;
        break;
      case '--region': {
        const region = value();
        if (!(REGIONS as readonly string[]).includes(region)) throw new UsageError(`--region must be ${REGIONS.join(' or ')} (got "${region}"); for any other host use --endpoint URL`);
        args.region = region as Region;
        regionGiven = true;
        break;
      }
      case '--endpoint':
        args.endpoint = value();
        break;
      case '--report':
        args.report = value();
        break;
      case '--transcript':
        args.transcript = value();
        break;
      case '--only': {
        const ids = value()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        if (ids.length === 0) throw new UsageError('--only needs at least one check id');
        args.only = [...(args.only ?? []), ...ids];
        break;
      }
      case '--key':
      case '--api-key':
        throw new UsageError('the key is read from DASHSCOPE_API_KEY only (an argument would be saved in your shell history)');
      default:
        // A stray word is not echoed: it could be a key pasted in the wrong place.
        throw new UsageError(flag.startsWith('-') ? `unknown option "${flag}"` : 'unexpected argument (options start with --)');
    }
  }
  if (args.endpoint !== undefined) {
    if (regionGiven) throw new UsageError('--region and --endpoint do not go together: the endpoint names the host');
    args.region = 'custom';
  }
  return args;
}

/** The default transcript name: the run's start in UTC, safe as a file name everywhere (no colons). */
export function defaultTranscriptName(now: Date): string {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '');
  return `live-check-${stamp}.jsonl`;
}
