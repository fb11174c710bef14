// A test that needs a system package is pending where it is missing, failed under
// STRICT_SYSTEM_DEPS=1, and nothing else is ever skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { findOnPath, INSTALL } from './support/system-deps';

const ROOT = join(__dirname, '..');
const FIXTURE = join(__dirname, 'fixtures', 'system-deps.fixture.ts');

/** Runs the fixture in a child mocha whose PATH holds node and nothing else. */
function runFixture(extraEnv: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const bin = mkdtempSync(join(tmpdir(), 'node-only-path-'));
  try {
    symlinkSync(process.execPath, join(bin, 'node'));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin, ...extraEnv };
    delete env.MOCHA_COLORS;
    const r = spawnSync(process.execPath, [require.resolve('mocha/bin/mocha.js'), '--no-config', '--require', 'tsx/cjs', '--reporter', join(__dirname, 'support', 'summary-reporter.js'), '--no-color', FIXTURE], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('system dependencies of the suite', function () {
  this.timeout(60_000);

  it('finds programs on PATH only', () => {
    assert.equal(findOnPath('node', join(process.execPath, '..')), process.execPath);
    assert.equal(findOnPath('aplay', join(process.execPath, '..', 'no-such-dir')), undefined);
  });

  it('where aplay, espeak-ng and pulseaudio are missing: those tests are pending with the Debian package, the run passes and says what was skipped', () => {
    const { status, out } = runFixture({ STRICT_SYSTEM_DEPS: '' });
    assert.equal(status, 0, out);
    assert.match(out, /plays one {2}\[skipped: aplay not found: apt-get install alsa-utils\]/);
    assert.match(out, /plays two {2}\[skipped: aplay not found: apt-get install alsa-utils\]/);
    assert.match(out, /needs espeak-ng {2}\[skipped: espeak-ng not found: apt-get install espeak-ng\]/);
    assert.match(out, /needs a PulseAudio server {2}\[skipped: pulseaudio, pacat, parec, pactl not found: apt-get install pulseaudio pulseaudio-utils\]/);
    assert.match(out, /4 test\(s\) skipped for want of system packages/);
    assert.match(out, /^ +2 × aplay not found: apt-get install alsa-utils$/m);
    assert.match(out, /^ +1 × espeak-ng not found: apt-get install espeak-ng$/m);
    assert.match(out, /^ +1 × pulseaudio, pacat, parec, pactl not found: apt-get install pulseaudio pulseaudio-utils$/m);
    assert.doesNotMatch(out, /must not run/);
    assert.match(out, /\n1 passed, 0 failed, 4 skipped\n$/, 'the closing line is last');
  });

  it('STRICT_SYSTEM_DEPS=1 turns each of them into a failure naming what is missing', () => {
    const { status, out } = runFixture({ STRICT_SYSTEM_DEPS: '1' });
    assert.notEqual(status, 0, out);
    assert.match(out, /aplay not found: apt-get install alsa-utils \(STRICT_SYSTEM_DEPS=1/);
    assert.match(out, /espeak-ng not found: apt-get install espeak-ng \(STRICT_SYSTEM_DEPS=1/);
    assert.match(out, /pulseaudio, pacat, parec, pactl not found: apt-get install pulseaudio pulseaudio-utils \(STRICT_SYSTEM_DEPS=1/);
    assert.match(out, /\n1 passed, 3 failed\n$/, 'the suite hook and the two single tests fail; nothing is skipped');
  });

  it('the speaker addon names the Debian packages it builds with', () => {
    assert.deepEqual(INSTALL.speaker.packages, ['libasound2-dev', 'g++', 'make', 'python3']);
  });

  it('the sound-server tests name the Debian packages of the server and of its clients', () => {
    assert.deepEqual(INSTALL.pulseaudio.packages, ['pulseaudio', 'pulseaudio-utils']);
  });

  it('nothing else in the suite is skipped: support/system-deps.ts is the only place that skips', () => {
    const skipping = new RegExp(['\\.skip\\(', '\\bxit\\(', '\\bxdescribe\\(', '\\.only\\('].join('|'));
    const offenders = files(__dirname)
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith(join('support', 'system-deps.ts')) && f !== __filename)
      .filter((f) => skipping.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    assert.deepEqual(offenders, []);
  });
});
