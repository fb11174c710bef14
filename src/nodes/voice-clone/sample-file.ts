/**
 * A local voice sample, read only from the one folder settings.js names (ttsVoiceSampleFolder).
 * msg.payload often comes from outside the flow (http in, MQTT, a chat bot), so a path in it must
 * not reach any other file on the machine: whatever reaches the service becomes a voice, and an
 * error that told "no such file" from "not a file" would answer questions about the disk. Every
 * refusal of a path is therefore the same error; why, and which path, go to the debug log only.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import { basename, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { InputError } from '../../speech/input-error';

/** The one text for every refused path: it names where files may come from, never the path or the reason. */
export const SAMPLE_FILE_REFUSED = 'cannot use this file as a sample (local sample files are read only from the folder set by ttsVoiceSampleFolder in settings.js)';

export interface SampleFileAccess {
  /** settings.js ttsVoiceSampleFolder; undefined: every local path is refused. */
  folder: string | undefined;
  /** Why a path was refused, and which: for the debug log, never for the error. */
  logDetail(text: string): void;
}

export interface SampleFile {
  bytes: Buffer;
  /** The file's name without its extension (names the upload). */
  stem: string;
}

/** The error for a refused path; `detail` (why, which path) goes to the debug log only. */
export function refuseSampleFile(access: SampleFileAccess, detail: string): InputError {
  access.logDetail(`voice sample file refused: ${detail}`);
  return new InputError('InvalidInput', SAMPLE_FILE_REFUSED);
}

/** Why a path is refused: logged, never told. */
class Refusal extends Error {}

/**
 * A FIFO or a device must not block the open (a FIFO without a writer does, and the libuv thread
 * with it; /proc/kmsg blocked forever); O_NOFOLLOW keeps the final name from having been swapped
 * for a symlink since it was resolved. Both are 0 where the platform lacks them.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** Reads in steps of this many bytes (a multiple of 8: /proc/self/pagemap refuses other sizes). */
const READ_STEP = 64 * 1024;

/** `child` lies below `folder` (not the folder itself); both are already real paths. */
function inside(folder: string, child: string): boolean {
  const rel = relative(folder, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

async function realpath(path: string, what: string): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch (err) {
    throw new Refusal(`${what} ${JSON.stringify(path)} cannot be resolved (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/**
 * At most `max` + 1 bytes of an open file: one byte more than allowed is enough to refuse it, and
 * the size fstat reports is never trusted (/proc/self/pagemap says 0 and never ends).
 */
export async function readAtMost(handle: fs.FileHandle, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total <= max) {
    const chunk = Buffer.allocUnsafe(Math.min(READ_STEP, max + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(chunks, total);
}

async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, OPEN_FLAGS);
  } catch (err) {
    throw new Refusal(`cannot open ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    // The handle's own stat: what was opened, not what the name points at now.
    let stat: Stats;
    let bytes: Buffer;
    try {
      stat = await handle.stat();
      if (!stat.isFile()) throw new Refusal(`${JSON.stringify(path)} is not a regular file`);
      // A size over the limit is refused at once; a smaller one (0 for /proc files) proves nothing.
      if (stat.size > maxBytes) throw new Refusal(`${JSON.stringify(path)} is ${stat.size} bytes; the limit is ${maxBytes}`);
      bytes = await readAtMost(handle, maxBytes);
    } catch (err) {
      if (err instanceof Refusal) throw err;
      throw new Refusal(`cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (bytes.length > maxBytes) throw new Refusal(`${JSON.stringify(path)} holds more than ${maxBytes} bytes`);
    return bytes;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The sample file `path` names (relative paths are relative to the folder), if it is a regular
 * file inside the folder once every symlink is followed, and at most `maxBytes` long.
 */
export async function readSampleFile(path: string, maxBytes: number, access: SampleFileAccess): Promise<SampleFile> {
  try {
    if (access.folder === undefined) throw new Refusal(`ttsVoiceSampleFolder is not set in settings.js (path ${JSON.stringify(path)})`);
    const folder = await realpath(access.folder, 'ttsVoiceSampleFolder');
    const asked = resolve(access.folder, path);
    const real = await realpath(asked, 'sample path');
    if (!inside(folder, real)) throw new Refusal(`sample path ${JSON.stringify(path)} is ${JSON.stringify(real)}, outside ttsVoiceSampleFolder ${JSON.stringify(folder)}`);
    // Opening some devices does something (a watchdog starts counting): never open what is not a
    // regular file. The handle's own stat is checked again after the open.
    const stat = await fs.stat(real).catch((err: NodeJS.ErrnoException) => {
      throw new Refusal(`cannot stat ${JSON.stringify(real)} (${err.code ?? String(err)})`);
    });
    if (!stat.isFile()) throw new Refusal(`${JSON.stringify(real)} is not a regular file`);
    const bytes = await readRegularFile(real, maxBytes);
    return { bytes, stem: basename(asked, extname(asked)) || 'sample' };
  } catch (err) {
    // Anything unforeseen is refused the same way: its message could name the path or the reason.
    throw refuseSampleFile(access, err instanceof Error ? err.message : String(err));
  }
}
