// What the tarball ships: each runtime module once (one class, one catalog, `instanceof` across
// nodes), and under 400 kB of JS. The file list comes from `npm pack --dry-run`, so it is exactly
// what `npm publish` would pack from the built nodes/ (`npm test` builds first).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const JS_LIMIT_BYTES = 400_000;

interface PackedFile {
  path: string;
  size: number;
}

/**
 * The files `npm pack` would put in the tarball (--dry-run: no network, ~1 s). It runs the npm that
 * runs the tests (`npm test`, `npx mocha`), not the first `npm` on PATH: that is node_modules/.bin's,
 * the npm 10 Node-RED's registry depends on, which runs the `prepare` build despite --ignore-scripts.
 */
function packedFiles(): PackedFile[] {
  const args = ['pack', '--dry-run', '--json', '--ignore-scripts'];
  const npmCli = process.env.npm_execpath;
  const out = npmCli && /npm-cli\.js$/.test(npmCli)
    ? execFileSync(process.execPath, [npmCli, ...args], { cwd: ROOT, encoding: 'utf8' })
    : execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: ROOT, encoding: 'utf8' });
  const [pack] = JSON.parse(out) as [{ files: PackedFile[] }];
  return pack.files;
}

const isJs = (path: string): boolean => /\.(c|m)?js$/.test(path);

/** How often each class name is declared in src/ (two modules may each have their own `Utterance`). */
function classesInSrc(dir = join(ROOT, 'src'), counts = new Map<string, number>()): Map<string, number> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) classesInSrc(path, counts);
    else if (entry.name.endsWith('.ts')) {
      for (const m of readFileSync(path, 'utf8').matchAll(/^\s*(?:export\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/gm)) {
        const name = m[1] as string;
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
  }
  return counts;
}

/**
 * Packed JS files that declare the class: esbuild writes `Name = class` (`Name=class` minified) or
 * `class Name`, and renames a clash to `Name2`.
 */
function filesDeclaring(name: string, sources: ReadonlyMap<string, string>): string[] {
  const declared = new RegExp(`\\b(?:${name}\\d*\\s*=\\s*class\\b|class ${name}\\d*\\b)`);
  return [...sources].filter(([, text]) => declared.test(text)).map(([path]) => path);
}

describe('the packed tarball', function () {
  this.timeout(30_000);

  let files: PackedFile[];
  let js: Map<string, string>;
  before(() => {
    files = packedFiles();
    js = new Map(files.filter((f) => isJs(f.path)).map((f) => [f.path, readFileSync(join(ROOT, f.path), 'utf8')]));
  });

  it('ships every node file package.json names (the checks below have something to read)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    const nodeFiles = Object.values(pkg['node-red'].nodes);
    assert.equal(nodeFiles.length, 6);
    for (const f of nodeFiles) assert.ok(js.has(f), `${f} is not in the tarball: run npm run build`);
  });

  it(`ships under ${JS_LIMIT_BYTES / 1000} kB of JS`, () => {
    const total = files.filter((f) => isJs(f.path)).reduce((sum, f) => sum + f.size, 0);
    const list = files.filter((f) => isJs(f.path)).map((f) => `${f.path} ${f.size}`).join(', ');
    assert.ok(total < JS_LIMIT_BYTES, `${total} bytes of JS: ${list}`);
  });

  it('ships DashScopeError in exactly one file', () => {
    assert.equal(filesDeclaring('DashScopeError', js).length, 1, filesDeclaring('DashScopeError', js).join(', '));
  });

  // The editor's scripts (resources/) are another program, in the browser: the rules bundled for
  // it (src/nodes/tts-config/editor-rules.ts) are meant to be there as well as in the runtime.
  it('ships no class more often than src/ declares it, in what Node-RED\'s runtime loads (nodes/)', () => {
    const classes = classesInSrc();
    assert.ok(classes.size > 20, `only ${classes.size} classes found in src/: is the pattern still right?`);
    const runtime = new Map([...js].filter(([path]) => path.startsWith('nodes/')));
    assert.ok(runtime.size >= 7, `only ${runtime.size} JS files under nodes/`);
    const shippedTwice = [...classes]
      .map(([name, declared]) => ({ name, declared, files: filesDeclaring(name, runtime) }))
      .filter((c) => c.files.length > c.declared)
      .map((c) => `${c.name} (${c.files.join(', ')})`);
    assert.deepEqual(shippedTwice, []);
  });
});
