import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, round } from '../stats';

export interface LoadResult {
  /** Fresh processes measured, one after the other. */
  processes: number;
  /** The node files required, from package.json "node-red".nodes. */
  files: number;
  /** Wall time of requiring all the node files, ms. */
  requireMsP50: number;
  requireMsP90: number;
  /** Resident memory the node files add (after a full GC on both sides), MB. */
  rssAddedMbP50: number;
  rssAddedMbP90: number;
  /** The JS heap they add (after a full GC on both sides), MB. */
  heapAddedMbP50: number;
}

/** One measurement as the child prints it. */
interface Sample {
  ms: number;
  rss: number;
  heap: number;
}

const NODE_RED_BUILTINS = ['async_hooks', 'child_process', 'crypto', 'dns', 'events', 'fs', 'http', 'https', 'net', 'os', 'path', 'perf_hooks', 'stream', 'timers', 'tls', 'url', 'util', 'zlib'].map((m) => `node:${m}`);

/**
 * What the child does, in plain JavaScript: Node-RED requires node files with its own `require`,
 * not through tsx, so neither does the child.
 *
 * Baseline. A Node-RED 4.1 runtime has loaded these built-in modules (and more) by the time it
 * loads a contrib node file (its core nodes use them), so the child loads them first: the figures
 * are what the package adds to a running Node-RED, not what Node costs the first time. What the
 * node files require of the package's own dependencies counts: the package's `ws` resolves in its
 * own node_modules, another module than Node-RED's copy, so it is not loaded already.
 *
 * GC. Both readings follow a full collection: before, so that garbage from the process's start is
 * not collected in the middle of the requires (which would make the RSS added look smaller); after,
 * so that what is counted is what the modules keep (code, the catalog, closures), not the garbage
 * of parsing them, which the next collection would take anyway. The timed span has no GC of ours
 * in it. RSS does not give pages back the moment the heap shrinks, so the RSS figure includes the
 * parse peak the allocator kept; the heap figure is what stays live.
 */
const CHILD = `
const { performance } = require('node:perf_hooks');
for (const m of ${JSON.stringify(NODE_RED_BUILTINS)}) require(m);
const files = JSON.parse(process.env.BENCH_LOAD_FILES);
gc(); gc();
const heap0 = process.memoryUsage().heapUsed;
const rss0 = process.memoryUsage.rss();
const t0 = performance.now();
for (const f of files) {
  const exported = require(f);
  if (typeof exported !== 'function') throw new Error(f + ' does not export function (RED)');
}
const ms = performance.now() - t0;
gc(); gc();
const rss = process.memoryUsage.rss() - rss0;
const heap = process.memoryUsage().heapUsed - heap0;
process.stdout.write(JSON.stringify({ ms, rss, heap }));
`;

const mb = (bytes: number): number => round(bytes / 1024 / 1024, 1);

/** The node files Node-RED loads for this package, as absolute paths, in package.json order. */
export function nodeFiles(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  return Object.values(pkg['node-red'].nodes).map((f) => join(root, f));
}

/**
 * Requiring all node files in fresh processes: what loading the package costs Node-RED at start
 * (time and memory), from the built `nodes/` of the package at `root`.
 */
export function load(root: string, processes: number): LoadResult {
  const files = nodeFiles(root);
  const samples: Sample[] = [];
  for (let i = 0; i < processes; i++) {
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD], {
      cwd: root,
      env: { ...process.env, BENCH_LOAD_FILES: JSON.stringify(files), NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (r.status !== 0) throw new Error(`load: the child failed (${r.status}): ${r.stderr}`);
    samples.push(JSON.parse(r.stdout) as Sample);
  }
  const ms = samples.map((s) => s.ms);
  const rss = samples.map((s) => s.rss);
  return {
    processes,
    files: files.length,
    requireMsP50: round(percentile(ms, 50)),
    requireMsP90: round(percentile(ms, 90)),
    rssAddedMbP50: mb(percentile(rss, 50)),
    rssAddedMbP90: mb(percentile(rss, 90)),
    heapAddedMbP50: mb(percentile(samples.map((s) => s.heap), 50)),
  };
}
