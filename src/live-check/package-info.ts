/**
 * The package's name, version and issues URL, from its package.json: two folders up both from the
 * source (src/live-check/) and from the built command (nodes/lib/), so one file is the only source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PackageInfo {
  name: string;
  version: string;
  bugsUrl: string;
}

export function packageInfo(dir: string = __dirname): PackageInfo {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, '..', '..', 'package.json'), 'utf8')) as { name?: string; version?: string; bugs?: { url?: string } | string };
    const bugs = typeof pkg.bugs === 'string' ? pkg.bugs : pkg.bugs?.url;
    return { name: pkg.name ?? 'node-red-contrib-dashscope-tts', version: pkg.version ?? 'unknown', bugsUrl: bugs ?? 'the package\'s issue tracker' };
  } catch {
    // A copy of the command moved away from its package: the report still runs, without the version.
    return { name: 'node-red-contrib-dashscope-tts', version: 'unknown', bugsUrl: 'the package\'s issue tracker' };
  }
}
