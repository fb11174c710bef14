// What the tarball ships: each runtime module once in what Node-RED loads (one class, one catalog,
// `instanceof` across nodes), under 400 kB of JS for Node-RED and its editor, and the live-check
// command beside them with a budget of its own. The file list comes from `npm pack --dry-run`, so
// it is exactly what `npm publish` would pack from the built nodes/ (`npm test` builds first).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHIME_NAMES } from '../src/audio/chime';

const ROOT = join(__dirname, '..');
const JS_LIMIT_BYTES = 400_000;
/** The live-check command (package.json `bin`): a program of its own, beside the runtime. */
const CLI_FILE = 'nodes/lib/live-check.js';
const CLI_LIMIT_BYTES = 150_000;
/** The built-in chimes (chimes/*.wav, 24 kHz 16-bit mono, about 3.2 s in all): sound, not code, so a budget of their own. */
const CHIMES_LIMIT_BYTES = 200_000;

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

/** The node files package.json names: with nodes/lib/runtime.js, all that Node-RED loads. */
function nodeFiles(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  return Object.values(pkg['node-red'].nodes);
}

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
  /** The packed JS Node-RED loads: the node files package.json names and the runtime bundle they share. */
  let runtime: Map<string, string>;
  before(() => {
    files = packedFiles();
    js = new Map(files.filter((f) => isJs(f.path)).map((f) => [f.path, readFileSync(join(ROOT, f.path), 'utf8')]));
    const loaded = new Set([...nodeFiles(), 'nodes/lib/runtime.js']);
    runtime = new Map([...js].filter(([path]) => loaded.has(path)));
  });

  it('ships every node file package.json names (the checks below have something to read)', () => {
    assert.equal(nodeFiles().length, 6);
    for (const f of nodeFiles()) assert.ok(js.has(f), `${f} is not in the tarball: run npm run build`);
  });

  it('ships the live-check command package.json names as its bin, runnable as it is', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
    // Named like the package, so `npx <package> live-check` finds it.
    const bin = pkg.bin[pkg.name] as string;
    assert.equal(bin, 'nodes/lib/live-check.js');
    assert.ok(js.has(bin), `${bin} is not in the tarball`);
    assert.match(js.get(bin) as string, /^#!\/usr\/bin\/env node\n/);
    // The runtime bundle must not carry the command: Node-RED would load it for nothing.
    assert.doesNotMatch(js.get('nodes/lib/runtime.js') as string, /DASHSCOPE_API_KEY is not set/);
    assert.match(js.get(bin) as string, /DASHSCOPE_API_KEY is not set/);
  });

  // Node-RED parses the runtime at every start and the editor downloads resources/ at every load:
  // that is what the budget guards. The live-check command is parsed only when a user runs it,
  // so it has a budget of its own rather than a share of theirs.
  it(`ships under ${JS_LIMIT_BYTES / 1000} kB of JS for Node-RED and its editor, and under ${CLI_LIMIT_BYTES / 1000} kB for the live-check command`, () => {
    const packedJs = files.filter((f) => isJs(f.path));
    const cli = packedJs.filter((f) => f.path === CLI_FILE);
    assert.equal(cli.length, 1, `${CLI_FILE} is in the tarball`);
    const loaded = packedJs.filter((f) => f.path !== CLI_FILE);
    const total = loaded.reduce((sum, f) => sum + f.size, 0);
    assert.ok(total < JS_LIMIT_BYTES, `${total} bytes of JS: ${loaded.map((f) => `${f.path} ${f.size}`).join(', ')}`);
    assert.ok((cli[0] as PackedFile).size < CLI_LIMIT_BYTES, `${CLI_FILE}: ${(cli[0] as PackedFile).size} bytes`);
  });

  it(`ships every built-in chime pcm-speaker can name, and nothing else in chimes/ but its README, under ${CHIMES_LIMIT_BYTES / 1000} kB`, () => {
    const chimes = files.filter((f) => f.path.startsWith('chimes/'));
    assert.deepEqual(chimes.map((f) => f.path).sort(), ['chimes/README.md', ...CHIME_NAMES.map((n) => `chimes/${n}.wav`)].sort());
    const total = chimes.reduce((sum, f) => sum + f.size, 0);
    assert.ok(total < CHIMES_LIMIT_BYTES, `${total} bytes of chimes: ${chimes.map((f) => `${f.path} ${f.size}`).join(', ')}`);
  });

  it('ships DashScopeError in exactly one file Node-RED loads', () => {
    assert.equal(runtime.size, nodeFiles().length + 1, `Node-RED's files in the tarball: ${[...runtime.keys()].join(', ')}`);
    assert.equal(filesDeclaring('DashScopeError', runtime).length, 1, filesDeclaring('DashScopeError', runtime).join(', '));
  });

  // Only what Node-RED loads (see `runtime`). The editor's scripts (resources/) are another program, in the browser: the rules bundled for it
  // (src/nodes/tts-config/editor-rules.ts) are meant to be there as well as in the runtime. The
  // live-check command (nodes/lib/live-check.js) is another program too, in its own process: it
  // repeats the protocol classes it drives, and no object crosses between it and Node-RED, so
  // `instanceof` never meets the two copies.
  it('ships no class more often than src/ declares it, in what Node-RED\'s runtime loads (the node files and nodes/lib/runtime.js)', () => {
    const classes = classesInSrc();
    assert.ok(classes.size > 20, `only ${classes.size} classes found in src/: is the pattern still right?`);
    assert.equal(runtime.size, nodeFiles().length + 1, `Node-RED's files in the tarball: ${[...runtime.keys()].join(', ')}`);
    const shippedTwice = [...classes]
      .map(([name, declared]) => ({ name, declared, files: filesDeclaring(name, runtime) }))
      .filter((c) => c.files.length > c.declared)
      .map((c) => `${c.name} (${c.files.join(', ')})`);
    assert.deepEqual(shippedTwice, []);
  });
});
