import { createHash } from 'node:crypto';

/**
 * One cached utterance on disk:
 *
 *   "DSPC" | version u8 | metaLength u32 | audioLength u32 | meta (JSON) | audio | sha256 of all before
 *
 * The lengths and the checksum let a reader tell a complete entry from one cut short by a crash or
 * power loss (or rotted on an SD card): such an entry is discarded, never played.
 */
const MAGIC = Buffer.from('DSPC', 'latin1');
const VERSION = 1;
const HEAD = MAGIC.length + 1 + 4 + 4;
const DIGEST = 32;

export interface EntryMeta {
  /** Byte length of each audio chunk, in order: a hit is chunked exactly like the live synthesis. */
  chunks: number[];
  /** Output 2 of the live synthesis, sealed (sealed-summary.ts): it holds what was said. */
  summary: string;
}

export interface Entry {
  meta: EntryMeta;
  audio: Buffer;
}

export class CorruptEntryError extends Error {
  constructor(reason: string) {
    super(`corrupt cache entry: ${reason}`);
    this.name = 'CorruptEntryError';
  }
}

export function encodeEntry(meta: EntryMeta, chunks: readonly Buffer[]): Buffer {
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const audioLength = chunks.reduce((n, c) => n + c.length, 0);
  const head = Buffer.alloc(HEAD);
  MAGIC.copy(head, 0);
  head.writeUInt8(VERSION, MAGIC.length);
  head.writeUInt32LE(metaBytes.length, MAGIC.length + 1);
  head.writeUInt32LE(audioLength, MAGIC.length + 5);
  const body = Buffer.concat([head, metaBytes, ...chunks]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export function decodeEntry(file: Buffer): Entry {
  if (file.length < HEAD + DIGEST) throw new CorruptEntryError('too short');
  if (!file.subarray(0, MAGIC.length).equals(MAGIC) || file.readUInt8(MAGIC.length) !== VERSION) throw new CorruptEntryError('unknown header');
  const metaLength = file.readUInt32LE(MAGIC.length + 1);
  const audioLength = file.readUInt32LE(MAGIC.length + 5);
  if (file.length !== HEAD + metaLength + audioLength + DIGEST) throw new CorruptEntryError(`length ${file.length} does not match its header`);
  const bodyEnd = file.length - DIGEST;
  const digest = createHash('sha256').update(file.subarray(0, bodyEnd)).digest();
  if (!digest.equals(file.subarray(bodyEnd))) throw new CorruptEntryError('checksum mismatch');
  let meta: EntryMeta;
  try {
    meta = JSON.parse(file.toString('utf8', HEAD, HEAD + metaLength)) as EntryMeta;
  } catch {
    throw new CorruptEntryError('unreadable metadata');
  }
  if (!Array.isArray(meta.chunks) || meta.chunks.reduce((n, c) => n + c, 0) !== audioLength) throw new CorruptEntryError('chunk lengths do not add up');
  return { meta, audio: file.subarray(HEAD + metaLength, bodyEnd) };
}
