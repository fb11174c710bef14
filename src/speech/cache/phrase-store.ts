import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FILE_MODE, FOLDER_MODE } from './cache-folder';
import { CorruptEntryError, decodeEntry, encodeEntry, type Entry, type EntryMeta } from './entry-codec';

const SUFFIX = '.dspc';
const TEMP_SUFFIX = '.tmp';

export interface PhraseStoreOptions {
  dir: string;
  /** Total bytes of entries kept; the least recently used go first when a new one does not fit. */
  maxBytes: number;
  /** Something went wrong on disk: the cache carries on (a miss), the user hears about it. */
  onWarning?: (message: string) => void;
}

/**
 * Cached utterances in one directory, one file per entry, bounded in total size with least
 * recently used eviction. The recency order survives restarts through each file's mtime, which a
 * hit refreshes. Writes are atomic: temp file, fsync, rename, fsync of the directory, so after a
 * crash an entry is either whole or absent (and a damaged one fails its checksum and is removed).
 */
export class PhraseStore {
  /** key → entry size, in least-recently-used-first order (a Map keeps insertion order). */
  private readonly index = new Map<string, number>();
  private total = 0;
  private isLoaded = false;
  private readonly loaded: Promise<void>;

  constructor(private readonly options: PhraseStoreOptions) {
    this.loaded = this.load().finally(() => {
      this.isLoaded = true;
    });
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  get bytes(): number {
    return this.total;
  }

  /** Known once the directory has been scanned; undefined before. */
  has(key: string): boolean | undefined {
    return this.isLoaded ? this.index.has(key) : undefined;
  }

  get size(): number {
    return this.index.size;
  }

  /** Resolves once the directory has been scanned (for tests and the bench). */
  ready(): Promise<void> {
    return this.loaded;
  }

  /** The entry, or undefined on a miss. A damaged entry is deleted and reported as a miss. */
  async get(key: string): Promise<Entry | undefined> {
    await this.loaded;
    if (!this.index.has(key)) return undefined;
    const file = this.path(key);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch {
      this.forget(key);
      return undefined;
    }
    try {
      const entry = decodeEntry(bytes);
      this.touch(key, file);
      return entry;
    } catch (err) {
      if (!(err instanceof CorruptEntryError)) throw err;
      this.options.onWarning?.(`discarded a ${err.message.replace('corrupt cache entry: ', 'damaged cache entry (')})`);
      this.forget(key);
      await fs.rm(file, { force: true }).catch(() => undefined);
      return undefined;
    }
  }

  /** Only cached when it fits at all; older entries are evicted to make room. */
  async put(key: string, meta: EntryMeta, chunks: readonly Buffer[]): Promise<void> {
    await this.loaded;
    const data = encodeEntry(meta, chunks);
    if (data.length > this.options.maxBytes) return;
    // Private from the start (the umask can only take bits away): an entry is speech of what was said.
    await fs.mkdir(this.options.dir, { recursive: true, mode: FOLDER_MODE });
    const target = this.path(key);
    const temp = `${target}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
    const handle = await fs.open(temp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await fs.rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    await fs.rename(temp, target);
    await this.syncDir();
    this.forget(key);
    this.index.set(key, data.length);
    this.total += data.length;
    await this.evict();
  }

  private async evict(): Promise<void> {
    for (const [key] of this.index) {
      if (this.total <= this.options.maxBytes) return;
      this.forget(key);
      await fs.rm(this.path(key), { force: true }).catch(() => undefined);
    }
  }

  private forget(key: string): void {
    const size = this.index.get(key);
    if (size === undefined) return;
    this.index.delete(key);
    this.total -= size;
  }

  /** Most recently used now: last in the order, and in the file's mtime for the next start. */
  private touch(key: string, file: string): void {
    const size = this.index.get(key);
    if (size === undefined) return;
    this.index.delete(key);
    this.index.set(key, size);
    const now = new Date();
    fs.utimes(file, now, now).catch(() => undefined);
  }

  /** The rename is only durable once the directory itself is on disk (not possible everywhere). */
  private async syncDir(): Promise<void> {
    try {
      const dir = await fs.open(this.options.dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // e.g. Windows cannot open a directory; the rename is still atomic there.
    }
  }

  private async load(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.options.dir);
    } catch {
      return; // nothing cached yet
    }
    const found: { key: string; size: number; used: number }[] = [];
    for (const name of names) {
      const file = join(this.options.dir, name);
      // A temp file is a write that never finished (crash, power loss): never an entry.
      if (name.endsWith(TEMP_SUFFIX)) {
        await fs.rm(file, { force: true }).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      try {
        const stat = await fs.stat(file);
        found.push({ key: name.slice(0, -SUFFIX.length), size: stat.size, used: stat.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    found.sort((a, b) => a.used - b.used);
    for (const f of found) {
      this.index.set(f.key, f.size);
      this.total += f.size;
    }
    await this.evict(); // the size may have been lowered since the last run
  }

  private path(key: string): string {
    return join(this.options.dir, `${key}${SUFFIX}`);
  }
}
