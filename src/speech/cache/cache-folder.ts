import { createHash } from 'node:crypto';
import { promises as fs, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Under the Node-RED user directory: one folder per tts-config node in it. */
export const CACHE_PARENT = 'dashscope-tts-cache';

/** Folders and files readable by Node-RED's user only: an entry is speech of what was said. */
export const FOLDER_MODE = 0o700;
export const FILE_MODE = 0o600;

/** 128 bits of the hash: unique enough, and never the shape of a Node-RED id (16 hex digits). */
const NAME_LENGTH = 32;

export interface CacheFolder {
  /** `<userDir>/dashscope-tts-cache` */
  parent: string;
  /** The config node's own folder in it. */
  dir: string;
}

/**
 * A config node's folder is named by a hash of its id, never by the id itself: the id comes from
 * the flow, and an imported flow may say `../../../../srv/x`.
 */
export function cacheFolderName(configId: string): string {
  return createHash('sha256').update(configId, 'utf8').digest('hex').slice(0, NAME_LENGTH);
}

/**
 * The folder, or undefined if it would not be inside the user directory (then nothing is cached).
 * Checked on the real paths, so a link (`dashscope-tts-cache` pointing elsewhere) is caught too;
 * what does not exist yet is created by the store as a real folder.
 */
export function cacheFolder(userDir: string, configId: string): CacheFolder | undefined {
  const root = realOrResolved(userDir);
  const parent = resolve(root, CACHE_PARENT);
  const dir = resolve(parent, cacheFolderName(configId));
  const realParent = realOrResolved(parent);
  return isInside(root, realParent) && isInside(realParent, realOrResolved(dir)) ? { parent, dir } : undefined;
}

/** The path with every link followed; as it is when it does not exist (yet). */
function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !isAbsolute(rel) && rel.split(sep)[0] !== '..';
}

/**
 * Folders made before this version were created with the default mode (often 0755): they are
 * narrowed. Missing folders are left to the store, which creates them 0700. Not possible
 * everywhere (Windows): the cache still works.
 */
export async function makePrivate(folder: CacheFolder): Promise<void> {
  for (const path of [folder.parent, folder.dir]) await fs.chmod(path, FOLDER_MODE).catch(() => undefined);
}

/** What an id had to look like to have been used as a folder name by an earlier version. */
const PLAIN_NAME = /^[A-Za-z0-9._-]+$/;
const LEGACY_FILE = /\.(dspc|tmp)$/;
const HASHED_NAME = new RegExp(`^[0-9a-f]{${NAME_LENGTH}}$`);

/**
 * Earlier versions named the folder by the raw config id, and their entries hold the spoken text
 * in clear. When the id is a plain name (so the old folder was inside the cache parent) that
 * folder's entries and temp files are removed, then the folder if that left it empty. Nothing
 * else is touched and no symbolic link is followed: the parent and the folder must be real
 * directories, and only regular files are removed. Resolves with whether the folder is gone.
 */
export async function removeLegacyFolder(userDir: string, configId: string): Promise<boolean> {
  if (!PLAIN_NAME.test(configId) || configId === '.' || configId === '..') return false;
  // A crafted id equal to another config's hashed name must not empty that config's cache.
  if (HASHED_NAME.test(configId)) return false;
  const parent = resolve(userDir, CACHE_PARENT);
  const legacy = join(parent, configId);
  if (!isInside(parent, legacy)) return false;
  const [parentStat, legacyStat] = await Promise.all([fs.lstat(parent).catch(() => undefined), fs.lstat(legacy).catch(() => undefined)]);
  if (!parentStat?.isDirectory() || !legacyStat?.isDirectory()) return false;
  // Dirents describe the entries themselves (lstat), so a link named x.dspc is a link, not a file.
  const entries = await fs.readdir(legacy, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.isFile() && LEGACY_FILE.test(entry.name)) await fs.unlink(join(legacy, entry.name)).catch(() => undefined);
  }
  try {
    await fs.rmdir(legacy); // only if empty: anything else in it was not ours to remove
    return true;
  } catch {
    return false;
  }
}

/**
 * Every earlier version's folder in the cache parent, whichever config it belonged to (one since
 * deleted or renamed too): all of them hold text in clear, and none is read any more. Only real
 * folders with a plain name that is not a hashed one; each as `removeLegacyFolder` does it.
 * Resolves with the names removed.
 */
export async function removeLegacyFolders(userDir: string): Promise<string[]> {
  const parent = resolve(userDir, CACHE_PARENT);
  const parentStat = await fs.lstat(parent).catch(() => undefined);
  if (!parentStat?.isDirectory()) return [];
  const removed: string[] = [];
  for (const entry of await fs.readdir(parent, { withFileTypes: true })) {
    if (entry.isDirectory() && (await removeLegacyFolder(userDir, entry.name))) removed.push(entry.name);
  }
  return removed;
}
