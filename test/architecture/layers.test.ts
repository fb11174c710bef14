// The layering docs/architecture.md describes, checked on the source: imports point down only,
// Node-RED only in src/nodes/, and no import circle (type-only imports count: a circle of types
// is still two modules that cannot be understood apart).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = join(__dirname, '..', '..', 'src');

/** Lower layers first: a module may import its own layer and the ones below it. */
const LAYERS = ['audio', 'dashscope', 'connection', 'speech', 'voices', 'nodes', 'live-check'];
/**
 * Side by side, neither under the other: speech (utterances) and voices (custom voices); and at the
 * top, nodes (what Node-RED runs) and live-check (a command of its own, docs/architecture.md "Layers").
 */
const SIBLINGS = new Set(['speech→voices', 'voices→speech', 'nodes→live-check', 'live-check→nodes']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or requires (static imports, `import x = require`, require()). */
function specifiers(file: string): string[] {
  const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const re of [/\bfrom\s+'([^']+)'/g, /\bimport\s+'([^']+)'/g, /\brequire\(\s*'([^']+)'\s*\)/g]) {
    for (const m of code.matchAll(re)) found.push(m[1] as string);
  }
  return found;
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const layerOf = (file: string): string => relative(SRC, file).split('/')[0] as string;

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, specifiers(f).map((s) => ({ spec: s, target: resolveLocal(f, s) }))]));

describe('architecture: layers and imports', () => {
  it('finds the source (the checks below would pass vacuously on an empty tree)', () => {
    assert.ok(files.length > 50, `${files.length} files under src/`);
    for (const layer of LAYERS.filter((l) => l !== 'voices')) assert.ok(files.some((f) => layerOf(f) === layer), `a module in src/${layer}/`);
  });

  it('Node-RED is imported only under src/nodes/', () => {
    const offenders = [...graph].filter(([f, deps]) => layerOf(f) !== 'nodes' && deps.some((d) => d.spec === 'node-red' || d.spec.startsWith('@node-red/')));
    assert.deepEqual(offenders.map(([f]) => relative(SRC, f)), []);
  });

  it('imports point down: nodes | live-check → speech | voices → connection → dashscope → audio', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      const from = LAYERS.indexOf(layerOf(file));
      for (const { target } of deps) {
        if (!target || !target.startsWith(SRC)) continue;
        const to = LAYERS.indexOf(layerOf(target));
        if (to > from || SIBLINGS.has(`${layerOf(file)}→${layerOf(target)}`)) upward.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('no import circle', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      path.push(file);
      for (const { target } of graph.get(file) ?? []) {
        if (!target || !graph.has(target)) continue;
        if (state.get(target) === 'open') circles.push([...path.slice(path.indexOf(target)), target].map((f) => relative(SRC, f)).join(' → '));
        else if (!state.has(target)) visit(target);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    assert.deepEqual(circles, []);
  });

  it('one module owns the audio message contract: nobody else builds msg.parts or reads msg.audio/parts/partial/interrupted', () => {
    const owner = join(SRC, 'audio', 'audio-message.ts');
    const offenders: string[] = [];
    for (const file of files) {
      if (file === owner) continue;
      // Code only: comments and string literals may name the fields.
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        .replace(/`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
      if (/\bparts\s*:\s*\{|\bmsg\.(parts|audio|partial|interrupted)\b/.test(code)) offenders.push(relative(SRC, file));
    }
    assert.deepEqual(offenders, []);
    assert.match(readFileSync(owner, 'utf8'), /parts: \{ id: this\.id, index: this\.index\+\+, type: 'buffer' \}/, 'the owner writes msg.parts');
  });
});
