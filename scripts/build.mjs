// Builds what Node-RED loads: one runtime bundle nodes/lib/runtime.js (esbuild, CommonJS) holding
// every module once, a one-line entry nodes/<type>.js per node type that picks its registration
// function from it, and nodes/<type>.html, plus icons/ and locales/ copied next to them, because
// the Node-RED loader looks for both only in the folder of each node file. The catalog ships as
// JSON beside the bundle: parsed once at load (JSON.parse is faster than a JS literal), not code.
// Beside it, the live-check command nodes/lib/live-check.js (package.json `bin`), which Node-RED
// never loads.
import { build } from 'esbuild';
import { buildEditor } from './build-editor.mjs';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'nodes');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const types = Object.keys(pkg['node-red'].nodes);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const runtime = join(out, 'lib');
/** What both programs share: CommonJS for Node 20, the package's dependencies left outside, the catalog beside. */
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Runtime dependencies are installed next to the package, not copied into the bundle.
  external: ['speaker', 'ws'],
  plugins: [catalogBesideBundle()],
  // Whitespace and syntax only (names stay): a smaller file parses faster when Node-RED starts,
  // and the linked source map (no sources inside) turns a stack trace into src/ file:line under
  // `node --enable-source-maps`.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
};
await build({ ...common, entryPoints: { runtime: join(root, 'src/nodes/runtime.ts') }, outdir: runtime });
// The live check (`npx node-red-contrib-dashscope-tts live-check`, package.json `bin`) is another
// program than the one Node-RED runs: its own bundle, so Node-RED never loads it. It repeats the
// protocol classes it uses: the two never share a process, so `instanceof` never meets both
// copies (test/package-size.test.ts checks only what Node-RED loads).
const liveCheck = join(runtime, 'live-check.js');
await build({ ...common, entryPoints: { 'live-check': join(root, 'src/live-check/cli.ts') }, outdir: runtime, banner: { js: '#!/usr/bin/env node' } });
chmodSync(liveCheck, 0o755);
// Minified: nothing reads it but the runtime.
writeFileSync(join(runtime, 'catalog.json'), JSON.stringify(JSON.parse(readFileSync(join(root, 'src/dashscope/catalog.json'), 'utf8'))));

/** `import … from './catalog.json'` becomes `require('./catalog.json')` next to the bundle. */
function catalogBesideBundle() {
  return {
    name: 'catalog-beside-bundle',
    setup(b) {
      b.onResolve({ filter: /(^|\/)catalog\.json$/ }, () => ({ path: './catalog.json', external: true }));
    },
  };
}

for (const type of types) {
  writeFileSync(join(out, `${type}.js`), `module.exports = require('./lib/runtime.js').nodeTypes[${JSON.stringify(type)}];\n`);
}

for (const type of types) {
  cpSync(join(root, 'src/nodes', type, `${type}.html`), join(out, `${type}.html`));
}
// The dialogs' catalog, beside the editor library in resources/ (Node-RED serves that folder).
await buildEditor(root);
for (const dir of ['icons', 'locales']) {
  if (existsSync(join(root, dir))) cpSync(join(root, dir), join(out, dir), { recursive: true });
}
console.error(`built ${types.length} node type(s) into nodes/: ${types.join(', ')}`);
