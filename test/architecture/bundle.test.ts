// The build ships each module once: every node file is a one-line entry over nodes/lib/runtime.js,
// so a class made in one node (a DashScopeError from the tts-config's connection manager) is an
// instance of the same class in another (docs/architecture.md "Build and package").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BUILT = join(ROOT, 'nodes');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };

describe('architecture: one runtime bundle', () => {
  it('each node file is a small entry that hands over its function from the one runtime', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtime = require(join(BUILT, 'lib', 'runtime.js')) as { nodeTypes: Record<string, unknown> };
    for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
      const path = join(ROOT, file);
      assert.ok(statSync(path).size < 200, `${file} is an entry, not a bundle`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const registered = require(path) as unknown;
      assert.equal(typeof registered, 'function', type);
      assert.equal(registered, runtime.nodeTypes[type], `${type} comes from nodes/lib/runtime.js`);
    }
  });

  // Besides Node-RED's files, only the live-check command (package.json `bin`): a program of its
  // own, run in its own process, so the classes it repeats never meet the runtime's.
  it('no JavaScript in nodes/ but the runtime, the entries and the live-check command (nothing bundled twice for Node-RED)', () => {
    const js = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? js(path) : name.endsWith('.js') ? [path.slice(BUILT.length + 1)] : [];
      });
    const entries = Object.values(pkg['node-red'].nodes).map((f) => f.replace(/^nodes\//, ''));
    assert.deepEqual(js(BUILT).sort(), [...entries, 'lib/runtime.js', 'lib/live-check.js'].sort());
    const runtime = readFileSync(join(BUILT, 'lib', 'runtime.js'), 'utf8');
    assert.equal(runtime.match(/\bDashScopeError\s*=\s*class\b/g)?.length, 1, 'DashScopeError is defined once');
    assert.doesNotMatch(runtime, /"cosyvoice_system_voices"/, 'the catalog is JSON beside the bundle, not inlined');
  });

  it('requiring the node files loads no ws: that waits for a tts-config (docs/architecture.md "Build and package")', () => {
    const files = Object.values(pkg['node-red'].nodes).map((f) => join(ROOT, f));
    const child = spawnSync(process.execPath, ['-e', `for (const f of ${JSON.stringify(files)}) require(f); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const loaded = JSON.parse(child.stdout) as string[];
    assert.ok(loaded.some((f) => f.endsWith(join('nodes', 'lib', 'runtime.js'))), 'the runtime was loaded');
    assert.deepEqual(loaded.filter((f) => /[\\/]node_modules[\\/]ws[\\/]/.test(f)), []);
    assert.deepEqual(loaded.filter((f) => f.endsWith(join('nodes', 'lib', 'live-check.js'))), [], 'Node-RED never loads the live-check command');
  });
});
