import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const SCRIPT = join(ROOT, 'scripts', 'scorecard.mjs');

function run(dir: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('offline Flow Library scorecard (npm run scorecard)', () => {
  let fixture = '';
  afterEach(() => {
    if (fixture) rmSync(fixture, { recursive: true, force: true });
    fixture = '';
  });

  it('passes on this package', () => {
    const { status, out } = run(ROOT);
    assert.equal(status, 0, out);
    assert.match(out, /scorecard: all \d+ checks pass/);
  });

  it('fails a package that breaks the rules, and says which', () => {
    fixture = mkdtempSync(join(tmpdir(), 'scorecard-broken-'));
    writeFileSync(
      join(fixture, 'package.json'),
      JSON.stringify({
        name: 'dashscope-thing',
        keywords: ['tts'],
        'node-red': { version: '>=6.0.0', nodes: { 'broken-node': 'nodes/broken-node.js' } },
        engines: { node: '>=24' },
        dependencies: Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((d) => [d, '1.0.0'])),
      }),
    );
    mkdirSync(join(fixture, 'nodes'));
    // The definition is built from variables: the Flow Library cannot read it.
    writeFileSync(
      join(fixture, 'nodes', 'broken-node.html'),
      `<script type="text/javascript">var cat = 'x'; RED.nodes.registerType('broken-node', { category: cat, defaults: {}, color: '#fff', icon: 'missing.svg', inputs: 1, outputs: 1 });</script>`,
    );
    mkdirSync(join(fixture, 'locales', 'en-US'), { recursive: true });
    cpSync(join(ROOT, 'locales', 'en-US', 'pcm-speaker.json'), join(fixture, 'locales', 'en-US', 'broken-node.json'));
    const { status, out } = run(fixture);
    assert.equal(status, 1, out);
    for (const id of ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'D01', 'N01', 'N02', 'N03']) assert.match(out, new RegExp(`FAIL  ${id} `), `${id} fails:\n${out}`);
    assert.match(out, /category is not inline/);
    assert.match(out, /no example uses broken-node/);
    assert.match(out, /broken-node: no zh-CN help/);
    assert.match(out, /icon missing\.svg is not in icons/);
  });
});
