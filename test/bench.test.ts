// `npm run bench` on a machine without the speaker addon: it runs, and the scenario that needs the
// addon says why it was skipped instead of crashing (MODULE_NOT_FOUND).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

describe('npm run bench without the speaker addon', function () {
  this.timeout(120_000);

  it('skips the pcm-speaker scenario with the reason and the Debian packages, and leaves results.json as it was', () => {
    const results = join(ROOT, 'bench', 'results.json');
    const before = readFileSync(results, 'utf8');
    const r = spawnSync(process.execPath, ['--expose-gc', '--require', 'tsx/cjs', '--require', join(__dirname, 'fixtures', 'hide-speaker.cjs'), join(ROOT, 'bench', 'run.ts'), '--only=speaker'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 110_000,
    });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /pcm-speaker scenario skipped: speaker addon not installed: apt-get install libasound2-dev g\+\+ make python3, then npm install/);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /MODULE_NOT_FOUND/);
    assert.equal(readFileSync(results, 'utf8'), before);
  });
});

describe('npm run bench -- --only=load', function () {
  this.timeout(60_000);

  it('requires the six node files in fresh processes and reports time and memory, without starting Node-RED or touching results.json', () => {
    const results = join(ROOT, 'bench', 'results.json');
    const before = readFileSync(results, 'utf8');
    const r = spawnSync(process.execPath, ['--expose-gc', '--require', 'tsx/cjs', join(ROOT, 'bench', 'run.ts'), '--only=load', '--quick'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 50_000,
    });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const row = (name: string): number => {
      const m = new RegExp(`│ ${name}\\s*│ ([\\d.]+)`).exec(r.stdout);
      assert.ok(m, `${name} missing from:\n${r.stdout}`);
      return Number(m[1]);
    };
    assert.equal(row('files'), 6);
    assert.equal(row('processes'), 7);
    // A require takes time and keeps code: zero would mean nothing was measured.
    assert.ok(row('requireMsP50') > 0);
    assert.ok(row('heapAddedMbP50') > 0);
    assert.equal(readFileSync(results, 'utf8'), before);
  });
});
