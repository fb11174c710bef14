// Builds what Node-RED loads: nodes/<type>.js (esbuild bundle, CommonJS) and nodes/<type>.html,
// plus icons/ and locales/ copied next to them, because the Node-RED loader looks for both only
// in the folder of each node file.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'nodes');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const types = Object.keys(pkg['node-red'].nodes);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: Object.fromEntries(types.map((t) => [t, join(root, 'src/nodes', t, `${t}.ts`)])),
  outdir: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Runtime dependencies are installed next to the package, not copied into every node file.
  external: ['speaker', 'ws'],
  sourcemap: false,
  logLevel: 'warning',
  define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
});

for (const type of types) {
  cpSync(join(root, 'src/nodes', type, `${type}.html`), join(out, `${type}.html`));
}
for (const dir of ['icons', 'locales']) {
  if (existsSync(join(root, dir))) cpSync(join(root, dir), join(out, dir), { recursive: true });
}
console.error(`built ${types.length} node type(s) into nodes/: ${types.join(', ')}`);
