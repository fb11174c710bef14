/**
 * What the Palette Manager does, done to the packed tarball: `npm install --omit=dev
 * --engine-strict` into a fresh user directory, then Node-RED started on it. Run by `.ci/run`
 * as `npm run test:pack` (it downloads Node 22 and Node-RED 5 for the second leg).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import WebSocket from 'ws';
import { legNodeRed4, legNodeRed5, type Leg } from './legs';
import { startNodeRed } from './node-red-process';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };
const TYPES = Object.keys(pkg['node-red'].nodes);
const EXAMPLES = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''));
/**
 * The test ALSA devices, and no sound server whatever the developer's desktop runs: the
 * pcm-speaker here is backend auto with the default Device, which a reachable server would take.
 */
const ALSA_ENV = { ALSA_CONFIG_PATH: join(ROOT, 'test', 'alsa', 'asound.conf'), CAPTURE_FILE: '/dev/null', PULSE_SERVER: 'unix:/nonexistent/pulse/native' };

interface PackInfo {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/** Installs the tarball the way the Palette Manager does: production dependencies only, engine-strict. */
function installLikePaletteManager(leg: Leg, tgz: string, extraEnv: NodeJS.ProcessEnv = {}): string {
  const userDir = mkdtempSync(join(tmpdir(), 'dashscope-pack-'));
  writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, version: '0.0.1' }));
  execFileSync('npm', ['install', '--omit=dev', '--engine-strict', '--no-audit', '--no-fund', tgz], {
    cwd: userDir,
    env: { ...process.env, PATH: `${leg.node.replace(/\/node$/, '')}:${process.env.PATH ?? ''}`, npm_config_nodedir: leg.nodedir, ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return userDir;
}

/**
 * Deploys one pcm-speaker node and reads its status the way the editor does, over /comms:
 * the status names the backend it plays through.
 */
async function speakerStatus(url: string): Promise<string> {
  const comms = new WebSocket(`${url.replace(/^http/, 'ws')}/comms`);
  const status = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pcm-speaker status within 20 s')), 20_000);
    comms.on('message', (data: Buffer) => {
      const events = JSON.parse(data.toString()) as { topic: string; data?: { text?: string } }[];
      for (const e of [events].flat()) {
        const text = e.data?.text ?? '';
        if (e.topic === 'status/pack-speaker' && /^ready|no usable|unusable/.test(text)) {
          clearTimeout(timer);
          resolve(text);
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    comms.once('open', () => resolve());
    comms.once('error', reject);
  });
  comms.send(JSON.stringify({ subscribe: 'status/#' }));
  const res = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify([
      { id: 'pack-tab', type: 'tab', label: 'pack' },
      { id: 'pack-speaker', type: 'pcm-speaker', z: 'pack-tab', name: '', device: '', backend: 'auto', volume: '100', prebufferMs: '200', queue: 'queue', wires: [[]] },
    ]),
  });
  assert.ok(res.ok, `deploy failed: HTTP ${res.status}`);
  try {
    return await status;
  } finally {
    comms.close();
  }
}

async function checkLoads(leg: Leg, userDir: string, expectBackend: RegExp): Promise<string> {
  const nr = await startNodeRed(leg, userDir, { ...process.env, ...ALSA_ENV });
  try {
    const sets = (await (await fetch(`${nr.url}/nodes`, { headers: { Accept: 'application/json' } })).json()) as NodeSet[];
    const ours = sets.filter((s) => s.module === pkg.name);
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...TYPES].sort(), 'every node type of the package is registered');
    for (const s of ours) {
      assert.equal(s.err, undefined, `${s.id} failed to load: ${s.err}`);
      assert.equal(s.enabled, true, `${s.id} is disabled`);
    }
    const examples = (await (await fetch(`${nr.url}/library/examples/flows/${pkg.name}`)).json()) as { fn: string }[];
    assert.deepEqual(examples.map((e) => e.fn).sort(), [...EXAMPLES].sort(), 'every example is listed under the module');
    assert.match(await speakerStatus(nr.url), expectBackend, 'pcm-speaker names the backend it plays through');
    return nr.log();
  } finally {
    await nr.stop();
  }
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `npx <package> …` where the package is installed (npx finds its bin locally, never downloads: --no). */
function npxInstalled(leg: Leg, userDir: string, args: string[]): Ran {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${leg.node.replace(/\/node$/, '')}:${process.env.PATH ?? ''}` };
  delete env.DASHSCOPE_API_KEY;
  delete env.DASHSCOPE_WORKSPACE;
  const ran = spawnSync('npx', ['--no', pkg.name, ...args], { cwd: userDir, env, encoding: 'utf8', timeout: 60_000 });
  return { status: ran.status, stdout: ran.stdout, stderr: ran.stderr };
}

/** The command a user with a key runs to check the package (issue 20), as installed: help, and no key. */
function checkLiveCheckCommand(leg: Leg, userDir: string): void {
  const help = npxInstalled(leg, userDir, ['live-check', '--help']);
  assert.equal(help.status, 0, `live-check --help: ${help.stderr}`);
  assert.match(help.stdout, /--region beijing\|singapore/);
  assert.match(help.stdout, /DASHSCOPE_API_KEY/);
  const noKey = npxInstalled(leg, userDir, ['live-check']);
  assert.equal(noKey.status, 2, `live-check without a key: ${noKey.stdout}${noKey.stderr}`);
  assert.match(noKey.stderr, /DASHSCOPE_API_KEY is not set/);
}

describe('the packed package, installed the way the Palette Manager installs it', function () {
  this.timeout(900_000);
  let tgz = '';
  let packDir = '';
  let packed: string[] = [];
  const userDirs: string[] = [];

  before(() => {
    packDir = mkdtempSync(join(tmpdir(), 'dashscope-tarball-'));
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
    // Parsed whole: build logs go to stderr, so tools that read `npm pack --json` get JSON only.
    const info = (JSON.parse(out) as PackInfo[])[0] as PackInfo;
    tgz = join(packDir, info.filename);
    console.log(`      tarball ${info.filename}: ${(info.size / 1024).toFixed(1)} kB packed, ${(info.unpackedSize / 1024).toFixed(1)} kB unpacked, ${info.files.length} files`);
    for (const f of info.files) console.log(`        ${f.path} (${f.size} B)`);
    packed = info.files.map((f) => f.path);
  });

  after(() => {
    for (const d of [packDir, ...userDirs]) rmSync(d, { recursive: true, force: true });
  });

  it('holds exactly what a user needs: built nodes with their HTML, locales, examples, README, LICENSE, CHANGELOG', () => {
    const files = packed;
    for (const type of TYPES) {
      assert.ok(files.includes(`nodes/${type}.js`), `nodes/${type}.js is missing`);
      assert.ok(files.includes(`nodes/${type}.html`), `nodes/${type}.html is missing`);
    }
    for (const name of EXAMPLES) assert.ok(files.includes(`examples/${name}.json`), `example ${name} is missing`);
    for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'nodes/lib/live-check.js']) assert.ok(files.includes(f), `${f} is missing`);
    assert.ok(files.some((f) => f.startsWith('nodes/locales/en-US/')), 'locales travel next to the node files');
    const forbidden = files.filter((f) => /^(src|test|bench|scripts|\.ci)\//.test(f) || f.includes('simulator'));
    assert.deepEqual(forbidden, [], 'no sources, tests, benchmarks or simulator in the tarball');
  });

  it('loads nothing at run time but Node built-ins and its own dependencies (no devDependency)', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const allowed = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})]);
    // The node entries, the runtime bundle they share and the live-check command: a relative
    // require must name a file the package ships next to it; anything else a built-in or a runtime
    // dependency.
    const shipped = [...TYPES.map((type) => `${type}.js`), 'lib/runtime.js', 'lib/live-check.js'];
    assert.ok(shipped.length > TYPES.length && existsSync(join(ROOT, 'nodes', 'lib', 'runtime.js')), 'the runtime bundle is checked too');
    for (const file of shipped) {
      const code = readFileSync(join(ROOT, 'nodes', file), 'utf8');
      const required = [...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1] as string);
      const missing = required.filter((name) => name.startsWith('.') && !existsSync(join(ROOT, 'nodes', dirname(file), name)));
      assert.deepEqual(missing, [], `nodes/${file} requires files the package does not ship`);
      const foreign = required.filter((name) => !name.startsWith('.') && !name.startsWith('node:') && !builtinModules.includes(name) && !allowed.has(name.split('/')[0] as string));
      assert.deepEqual(foreign, [], `nodes/${file} requires modules that are not runtime dependencies`);
    }
  });

  for (const makeLeg of [legNodeRed4, legNodeRed5]) {
    it(`${makeLeg === legNodeRed4 ? 'Node-RED 4 / Node 20' : 'Node-RED 5 / Node 22'}: installs with production dependencies only and loads every node and example`, async () => {
      const leg = makeLeg();
      const userDir = installLikePaletteManager(leg, tgz);
      userDirs.push(userDir);
      const installed = join(userDir, 'node_modules', pkg.name);
      assert.ok(existsSync(join(installed, 'nodes', 'tts-config.js')));
      assert.ok(!existsSync(join(userDir, 'node_modules', 'node-red')), 'no devDependency came along');
      await checkLoads(leg, userDir, /^ready · speaker$/);
      if (makeLeg === legNodeRed4) checkLiveCheckCommand(leg, userDir);
    });
  }

  it('still installs and loads every node when the speaker addon cannot be built', async () => {
    const leg = legNodeRed4();
    // A compiler that always fails: node-gyp cannot build speaker, as on a machine without ALSA headers.
    const userDir = installLikePaletteManager(leg, tgz, { CC: '/bin/false', CXX: '/bin/false' });
    userDirs.push(userDir);
    assert.ok(!existsSync(join(userDir, 'node_modules', 'speaker', 'build', 'Release', 'binding.node')), 'speaker must not have been built here');
    await checkLoads(leg, userDir, /aplay/);
  });
});
