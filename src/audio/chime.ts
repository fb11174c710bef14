import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Chime } from './announcement';
import { AudioInputError, checkFormat, describeFormat, frameBytes, isBitDepth, type PcmFormat } from './pcm-format';
import { resampleS16 } from './resample';
import { isRiffWave, readWav } from './wav-info';

/**
 * The chimes played before an announcement: the built-in ones (chimes/<name>.wav, written by
 * scripts/make-chimes.mjs) and the user's own WAV files. A chime is kept as 16-bit mono samples at
 * its own rate and converted once for each format the player asks for (each conversion, and all
 * a library keeps, bounded in bytes: the format is the message's choice).
 *
 * Files come from two places: the node's own Chime (any path: the flow's author chose it) and
 * msg.chime, which may come from outside the flow and is therefore read only inside the chime
 * folder (`loadInFolder`, settings.js pcmSpeakerChimeFolder).
 *
 * Loading is synchronous: it happens at deploy and on an utterance's first chunk, a chime is small
 * (at most MAX_CHIME_FILE_BYTES), and an await there would be one more step between the text and
 * its first sound.
 */

/** The built-in chimes, as scripts/make-chimes.mjs writes them (a test checks both agree with chimes/). */
export const CHIME_NAMES: readonly string[] = ['ding', 'ding-dong', 'three-tone', 'alert'];

/**
 * <package>/chimes. This module runs two folders below the package root both as source
 * (src/audio/, under tsx) and bundled (nodes/lib/runtime.js, where __dirname is the bundle's folder).
 */
export const CHIMES_DIR = join(__dirname, '..', '..', 'chimes');

/** A chime file larger than this is not a chime (and is never read into memory). */
export const MAX_CHIME_FILE_BYTES = 1024 * 1024;
/** Nor is a longer sound: 8-bit audio at a low rate packs minutes into a megabyte, and each format is a copy. */
export const MAX_CHIME_SECONDS = 10;
/**
 * The most one chime converted to one format may take. The message's audio chooses the format (up
 * to 384 kHz, 8 channels, 32-bit: 12 MB per second), so without it a 10 s chime would become
 * 123 MB. 10 s at 48 kHz stereo 32-bit is 3.8 MB; a chime that would pass it is not played.
 */
export const MAX_CHIME_PCM_BYTES = 8 * 1024 * 1024;
/** The most a library keeps of its conversions together; the least recently used go first. */
export const CHIME_CACHE_BYTES = 32 * 1024 * 1024;

/** A file that starts or ends mid-wave would click: its first and last 3 ms are faded. */
const FILE_FADE_MS = 3;
/** Chime files kept: a flow names a few; re-reading one that fell out costs a read, nothing else. */
const FILES_KEPT = 8;

function unavailable(spec: string, reason: string): AudioInputError {
  return new AudioInputError('ChimeUnavailable', `chime "${spec}": ${reason}`);
}

/** 0 → 1 along half a cosine: the fade with no corner at either end. */
function raisedCosine(x: number): number {
  return 0.5 - 0.5 * Math.cos(Math.PI * x);
}

/** The conversions of one library's chimes: at most `maxBytes` together, the least recently used dropped first. */
class Conversions {
  private readonly kept = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): Buffer | undefined {
    const pcm = this.kept.get(key);
    if (pcm) {
      // Most recently used last: the oldest is the one to drop.
      this.kept.delete(key);
      this.kept.set(key, pcm);
    }
    return pcm;
  }

  put(key: string, pcm: Buffer): void {
    this.kept.set(key, pcm);
    this.bytes += pcm.length;
    for (const [oldKey, old] of this.kept) {
      if (this.bytes <= this.maxBytes) break;
      this.kept.delete(oldKey);
      this.bytes -= old.length;
    }
  }
}

/** Tells apart the LoadedChimes of one library in its Conversions (a changed file is a new one). */
let nextChimeId = 0;

class LoadedChime implements Chime {
  readonly durationMs: number;
  private readonly id = nextChimeId++;

  /** `samples`: 16-bit little-endian mono at `sampleRate`; never changed afterwards. */
  constructor(
    readonly name: string,
    private readonly samples: Buffer,
    private readonly sampleRate: number,
    private readonly conversions: Conversions,
  ) {
    this.durationMs = (samples.length / 2 / sampleRate) * 1000;
  }

  /** Throws AudioInputError('ChimeUnavailable') when it would take more than MAX_CHIME_PCM_BYTES in `format`. */
  pcmFor(format: PcmFormat): Buffer {
    const key = `${this.id}/${format.sampleRate}/${format.channels}/${format.bitDepth}`;
    let pcm = this.conversions.get(key);
    if (!pcm) {
      // Checked before anything is allocated. The same frame count as resampleS16 gives.
      const frames = this.samples.length / 2;
      const bytes = (format.sampleRate === this.sampleRate ? frames : Math.max(1, Math.round((frames * format.sampleRate) / this.sampleRate))) * frameBytes(format);
      if (bytes > MAX_CHIME_PCM_BYTES) {
        throw new AudioInputError('ChimeUnavailable', `in ${describeFormat(format)} it would take ${(Math.ceil((bytes / 1024 / 1024) * 10) / 10).toFixed(1)} MB, more than the ${MAX_CHIME_PCM_BYTES / 1024 / 1024} MB a chime may`);
      }
      pcm = this.convert(format);
      this.conversions.put(key, pcm);
    }
    return pcm;
  }

  private convert(format: PcmFormat): Buffer {
    const mono = resampleS16(this.samples, this.sampleRate, format.sampleRate);
    if (format.channels === 1 && format.bitDepth === 16) return mono;
    const frames = mono.length / 2;
    const sampleBytes = format.bitDepth / 8;
    const out = Buffer.alloc(frames * frameBytes(format));
    let at = 0;
    for (let i = 0; i < frames; i++) {
      const v = mono.readInt16LE(i * 2);
      for (let c = 0; c < format.channels; c++, at += sampleBytes) {
        switch (format.bitDepth) {
          case 8:
            // Unsigned, silence at 128 (see pcm-format.ts).
            out[at] = (v >> 8) + 128;
            break;
          case 16:
            out.writeInt16LE(v, at);
            break;
          case 24:
            out.writeIntLE(v * 256, at, 3);
            break;
          case 32:
            out.writeInt32LE(v * 65536, at);
            break;
        }
      }
    }
    return out;
  }
}

/** The integer PCM of a WAV file as 16-bit mono samples, or the reason it has none. */
function decodeWav(bytes: Buffer): { samples: Buffer; sampleRate: number } | string {
  if (!isRiffWave(bytes)) return 'not a WAV file (it does not start with a RIFF/WAVE header)';
  const info = readWav(bytes);
  if (typeof info === 'string') return `its WAV header is unusable (${info})`;
  if (!info.isPcm) return `not integer PCM (WAV format tag ${info.formatTag}): save it as 8, 16, 24 or 32-bit PCM`;
  if (!isBitDepth(info.bitsPerSample)) return `unsupported bit depth ${info.bitsPerSample}: 8, 16, 24 or 32-bit PCM can be played`;
  let format: PcmFormat;
  try {
    format = checkFormat({ sampleRate: info.sampleRate, channels: info.channels, bitDepth: info.bitsPerSample }, 'its WAV header');
  } catch (err) {
    return (err as Error).message;
  }
  const frame = frameBytes(format);
  const frames = Math.floor(info.dataBytes / frame);
  if (frames === 0) return 'it has no samples';
  if (frames > MAX_CHIME_SECONDS * format.sampleRate) return `it is longer than ${MAX_CHIME_SECONDS} s`;
  const samples = Buffer.alloc(frames * 2);
  const width = format.bitDepth / 8;
  for (let i = 0; i < frames; i++) {
    // Channels are mixed down to one: the chime is copied to every channel of the device anyway.
    let sum = 0;
    for (let c = 0, at = info.dataOffset + i * frame; c < format.channels; c++, at += width) {
      switch (format.bitDepth) {
        case 8:
          sum += ((bytes[at] as number) - 128) * 256;
          break;
        case 16:
          sum += bytes.readInt16LE(at);
          break;
        case 24:
          sum += bytes.readIntLE(at, 3) >> 8;
          break;
        case 32:
          sum += bytes.readInt32LE(at) >> 16;
          break;
      }
    }
    samples.writeInt16LE(Math.round(sum / format.channels), i * 2);
  }
  return { samples, sampleRate: format.sampleRate };
}

/** Fades the first and last FILE_FADE_MS in place, to exactly 0 at both ends. */
function fadeEdges(samples: Buffer, sampleRate: number): void {
  const frames = samples.length / 2;
  const n = Math.min(Math.round((FILE_FADE_MS * sampleRate) / 1000), Math.floor(frames / 2));
  for (let i = 0; i < n; i++) {
    const g = raisedCosine(i / n);
    samples.writeInt16LE(Math.round(samples.readInt16LE(i * 2) * g), i * 2);
    const end = (frames - 1 - i) * 2;
    samples.writeInt16LE(Math.round(samples.readInt16LE(end) * g), end);
  }
}

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function openReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'the file cannot be read (permission denied)';
    case 'ENOTDIR':
      return 'file not found (a folder on its path is a file)';
    default:
      return `the file cannot be opened (${err.code ?? err.message})`;
  }
}

/** Throws unless `stats` is of a regular file of at most MAX_CHIME_FILE_BYTES. */
function checkFile(spec: string, stats: Stats): void {
  if (!stats.isFile()) throw unavailable(spec, `${fileKind(stats)}, not a WAV file`);
  if (stats.size > MAX_CHIME_FILE_BYTES) throw unavailable(spec, `the file is larger than ${MAX_CHIME_FILE_BYTES / 1024 / 1024} MB (${stats.size} bytes): a chime is a short sound`);
}

/**
 * O_NONBLOCK: if the path became a FIFO since it was checked, opening it must not wait for a
 * writer. A file of the chime folder is opened by its real path with O_NOFOLLOW too, so its last
 * name cannot have been swapped for a symlink out of the folder since it was resolved (0 where the
 * platform lacks either).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const FOLDER_OPEN_FLAGS = OPEN_FLAGS | (constants.O_NOFOLLOW ?? 0);

function readChimeFile(spec: string, path: string, flags: number): { bytes: Buffer; stats: Stats } {
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (err) {
    throw unavailable(spec, openReason(err as NodeJS.ErrnoException));
  }
  try {
    const stats = fstatSync(fd);
    checkFile(spec, stats);
    const bytes = Buffer.alloc(stats.size);
    let got = 0;
    for (let n = -1; got < bytes.length && n !== 0; got += n) n = readSync(fd, bytes, got, bytes.length - got, got);
    return { bytes: bytes.subarray(0, got), stats };
  } finally {
    closeSync(fd);
  }
}

interface CachedFile {
  chime: Chime;
  size: number;
  mtimeMs: number;
}

/** A spec that names a file (it has a path's characters), not a chime by name. */
export function namesFile(spec: string): boolean {
  return isAbsolute(spec) || /[/\\.~]/.test(spec);
}

/** `child` lies below `folder` (not the folder itself); both are already real paths. */
function inside(folder: string, child: string): boolean {
  const rel = relative(folder, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function realpathOf(spec: string, path: string, what: string): string {
  try {
    return realpathSync(path);
  } catch (err) {
    throw unavailable(spec, `${what} ${JSON.stringify(path)} cannot be resolved (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Finds chimes by name or path and keeps what it loaded (each library its own, bounded, cache). */
export class ChimeLibrary {
  private readonly builtIn = new Map<string, Chime>();
  private readonly files = new Map<string, CachedFile>();
  private readonly conversions: Conversions;

  constructor(
    private readonly dir: string = CHIMES_DIR,
    /** The most its conversions may take together (CHIME_CACHE_BYTES; smaller in tests). */
    cacheBytes: number = CHIME_CACHE_BYTES,
  ) {
    this.conversions = new Conversions(cacheBytes);
  }

  /**
   * A built-in chime by name, or a WAV file by its absolute path (read again when its size or
   * modification time changed: one stat per call). For the node's own Chime, which the flow's
   * author chose. Throws AudioInputError('ChimeUnavailable').
   */
  load(spec: string): Chime {
    if (CHIME_NAMES.includes(spec)) return this.loadBuiltIn(spec);
    if (!isAbsolute(spec)) {
      if (namesFile(spec)) throw unavailable(spec, 'give the full path of the WAV file (a relative path depends on the folder Node-RED was started in)');
      throw unavailable(spec, `there is no built-in chime of that name (${CHIME_NAMES.join(', ')}); a WAV file is named by its path`);
    }
    return this.loadFile(spec, spec, OPEN_FLAGS);
  }

  /**
   * The WAV file `spec` names inside `folder` (settings.js pcmSpeakerChimeFolder), for msg.chime:
   * a relative path is taken inside the folder, and the file must lie below it once every symlink
   * is followed. Throws AudioInputError('ChimeUnavailable') saying why and which path: for the
   * debug log (the sender of the message is told less, see announcement-options.ts).
   */
  loadInFolder(spec: string, folder: string): Chime {
    const root = realpathOf(spec, folder, 'the chime folder');
    const real = realpathOf(spec, resolve(folder, spec), 'the path');
    if (!inside(root, real)) throw unavailable(spec, `it is ${JSON.stringify(real)}, outside the chime folder ${JSON.stringify(root)}`);
    return this.loadFile(real, spec, FOLDER_OPEN_FLAGS);
  }

  private loadBuiltIn(name: string): Chime {
    let chime = this.builtIn.get(name);
    if (!chime) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(this.dir, `${name}.wav`));
      } catch (err) {
        throw unavailable(name, `the built-in chime is missing from the package (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}): reinstall it`);
      }
      const decoded = decodeWav(bytes);
      if (typeof decoded === 'string') throw unavailable(name, `the built-in chime is damaged (${decoded}): reinstall the package`);
      chime = new LoadedChime(name, decoded.samples, decoded.sampleRate, this.conversions);
      this.builtIn.set(name, chime);
    }
    return chime;
  }

  /** The file at `path`, called `name` (what the user wrote: the started event shows it). */
  private loadFile(path: string, name: string, flags: number): Chime {
    let stats: Stats;
    try {
      stats = statSync(path);
    } catch (err) {
      throw unavailable(name, openReason(err as NodeJS.ErrnoException));
    }
    checkFile(name, stats);
    // By name too: "door.wav" and its full path are one file with two names.
    const key = name === path ? path : `${path}\n${name}`;
    const cached = this.files.get(key);
    if (cached && cached.size === stats.size && cached.mtimeMs === stats.mtimeMs) {
      // Most recently used last: the oldest is the one to drop.
      this.files.delete(key);
      this.files.set(key, cached);
      return cached.chime;
    }
    const read = readChimeFile(name, path, flags);
    const decoded = decodeWav(read.bytes);
    if (typeof decoded === 'string') throw unavailable(name, decoded);
    fadeEdges(decoded.samples, decoded.sampleRate);
    const chime = new LoadedChime(name, decoded.samples, decoded.sampleRate, this.conversions);
    this.files.delete(key);
    if (this.files.size >= FILES_KEPT) this.files.delete(this.files.keys().next().value as string);
    this.files.set(key, { chime, size: read.stats.size, mtimeMs: read.stats.mtimeMs });
    return chime;
  }
}
