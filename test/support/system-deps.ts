/**
 * Tests that need something outside npm: a program on PATH (aplay, espeak-ng, chromium), a
 * PulseAudio server and its clients (pulseaudio, pacat, parec, pactl) or the optional `speaker`
 * addon, which only builds where the ALSA headers and a compiler are installed.
 *
 * Where one is missing, the test is reported *pending* with one line naming what is missing and
 * the Debian package that brings it, and the summary reporter lists them at the end of the run.
 * With STRICT_SYSTEM_DEPS=1 (CI's full leg) a missing one is a failure instead, so a green run
 * there proves the suite with real audio, a real browser and espeak-ng.
 *
 * This module is the only place a test is skipped (test/system-deps.test.ts checks it).
 */
import { programOnPath } from '../../src/audio/sound-server';
import { resolveSpeaker } from '../../src/audio/speaker-addon';
import { probeSpeaker } from '../../src/audio/speaker-probe';
import { ALSA_TEST_CONFIG } from '../alsa/env';

export type SystemDep = 'aplay' | 'espeak-ng' | 'chromium' | 'speaker' | 'pulseaudio';

/** What a missing dependency is called in the run's output; the summary reporter reads it. */
export const MISSING_PROPERTY = 'missingSystemDependency';

/** Debian packages, and what to do after installing them, for each dependency. */
export const INSTALL: Readonly<Record<SystemDep, { packages: readonly string[]; then?: string }>> = {
  aplay: { packages: ['alsa-utils'] },
  'espeak-ng': { packages: ['espeak-ng'] },
  chromium: { packages: ['chromium'] },
  // The addon is an optional dependency compiled at install time: npm ci drops it quietly where
  // the build fails, so it comes back only with the next install.
  speaker: { packages: ['libasound2-dev', 'g++', 'make', 'python3'], then: 'npm install' },
  // The sound-server tests start a server of their own and play, record and list through its clients.
  pulseaudio: { packages: ['pulseaudio', 'pulseaudio-utils'] },
};

/** The programs a dependency needs on PATH, where they are not just the dependency's own name. */
const PROGRAMS: Partial<Record<SystemDep, readonly string[]>> = {
  pulseaudio: ['pulseaudio', 'pacat', 'parec', 'pactl'],
};

export function strictSystemDeps(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.STRICT_SYSTEM_DEPS === '1' || env.STRICT_SYSTEM_DEPS === 'true';
}

/** The executable `name` on `path`, or undefined: the package's own lookup (how it finds pacat). */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  return programOnPath(name, { PATH: path });
}

function installHint(dep: SystemDep): string {
  const { packages, then } = INSTALL[dep];
  return `apt-get install ${packages.join(' ')}${then ? `, then ${then}` : ''}`;
}

async function speakerProblem(): Promise<string | undefined> {
  if (!resolveSpeaker()) return `speaker addon not installed: ${installHint('speaker')}`;
  const probe = await probeSpeaker({ env: { ...process.env, ALSA_CONFIG_PATH: ALSA_TEST_CONFIG } });
  if (probe.usable) return undefined;
  return `speaker addon unusable (${probe.reason}): ${installHint('speaker').replace(/npm install$/, 'npm rebuild speaker')}`;
}

function programsProblem(dep: SystemDep): string | undefined {
  const absent = (PROGRAMS[dep] ?? [dep]).filter((program) => !findOnPath(program));
  return absent.length ? `${absent.join(', ')} not found: ${installHint(dep)}` : undefined;
}

const problems = new Map<SystemDep, Promise<string | undefined>>();

/** Why `dep` cannot be used here (one line, with the Debian package), or undefined when it can. */
export function missing(dep: SystemDep): Promise<string | undefined> {
  let problem = problems.get(dep);
  if (!problem) {
    problem = dep === 'speaker' ? speakerProblem() : Promise.resolve(programsProblem(dep));
    problems.set(dep, problem);
  }
  return problem;
}

/** Where the browser tests find Chromium: CHROMIUM_PATH, else `chromium` on PATH (Debian's /usr/bin/chromium). */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? findOnPath('chromium') ?? '/usr/bin/chromium';
}

async function check(ctx: Mocha.Context, deps: readonly SystemDep[], marked: object): Promise<void> {
  const reasons = (await Promise.all(deps.map(missing))).filter((r): r is string => r !== undefined);
  if (reasons.length === 0) return;
  const reason = reasons.join('; ');
  if (strictSystemDeps()) throw new Error(`${reason} (STRICT_SYSTEM_DEPS=1: a missing system package is a failure)`);
  Object.assign(marked, { [MISSING_PROPERTY]: reason });
  ctx.skip();
}

/**
 * Call first inside a `describe` body: every test of the suite needs `deps`. Where one is
 * missing the suite's tests are pending (its other `before` hooks do not run; its `after` hooks do).
 */
export function requireSystem(...deps: SystemDep[]): void {
  before(async function () {
    await check(this, deps, this.test?.parent ?? {});
  });
}

/** Wraps one test's body: it needs `deps`. */
export function needing(deps: SystemDep | readonly SystemDep[], body: (this: Mocha.Context) => unknown): (this: Mocha.Context) => Promise<unknown> {
  const list = typeof deps === 'string' ? [deps] : deps;
  return async function (this: Mocha.Context) {
    await check(this, list, this.test ?? {});
    return body.call(this);
  };
}
