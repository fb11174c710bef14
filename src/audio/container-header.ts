/**
 * Joining the audio of several service answers (CosyVoice tasks, Qwen responses) into one stream.
 * Each answer may start with its own container header (docs/protocol.md "Audio containers"):
 * a RIFF/WAVE header for wav, an ID3v2 tag for mp3. One stream must carry exactly one header, at
 * its start, so the headers of every later segment are dropped. MP3 frames simply concatenate;
 * Ogg/Opus streams chain legally, so opus is passed on as it is.
 */

export type ContainerFormat = 'pcm' | 'wav' | 'mp3' | 'opus';

/** Bytes of header at the start of `bytes`: a count, 0 for none, or undefined while it cannot be told yet. */
export type HeaderLength = number | undefined;

const ID3_HEADER = 10;
const ID3_FOOTER_FLAG = 0x10;

/** A RIFF/WAVE header runs up to the body of its data chunk. */
function wavHeaderLength(bytes: Buffer): HeaderLength {
  if (bytes.length < 12) return 'RIFF'.startsWith(bytes.toString('latin1', 0, Math.min(4, bytes.length))) ? undefined : 0;
  if (bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') return 0;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const size = bytes.readUInt32LE(offset + 4);
    if (bytes.toString('latin1', offset, offset + 4) === 'data') return offset + 8;
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/** An ID3v2 tag: 10 header bytes, a syncsafe size, and a footer of 10 more when flagged. */
function id3Length(bytes: Buffer): HeaderLength {
  if (bytes.length < ID3_HEADER) return 'ID3'.startsWith(bytes.toString('latin1', 0, Math.min(3, bytes.length))) ? undefined : 0;
  if (bytes.toString('latin1', 0, 3) !== 'ID3') return 0;
  const size = ((bytes[6] as number) << 21) | ((bytes[7] as number) << 14) | ((bytes[8] as number) << 7) | (bytes[9] as number);
  return ID3_HEADER + size + ((bytes[5] as number) & ID3_FOOTER_FLAG ? ID3_HEADER : 0);
}

/** What a chunk starts with: a RIFF header (wav), an ID3 tag or an MPEG frame sync (mp3), an Ogg page (opus); null for none (pcm). */
export type ContainerMark = 'riff' | 'id3' | 'mp3' | 'ogg' | null;

/** The container mark at the start of `bytes`: one place that knows the headers' magic bytes. */
export function containerMarkOf(bytes: Buffer): ContainerMark {
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 4) === 'RIFF') return 'riff';
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 4) === 'OggS') return 'ogg';
  if (bytes.length >= 3 && bytes.toString('latin1', 0, 3) === 'ID3') return 'id3';
  if (bytes.length >= 2 && bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0) return 'mp3';
  return null;
}

/** A wav or mp3 container header (a RIFF header or an ID3 tag) at the start of a segment (docs/protocol.md "Audio containers"). */
export function startsWithSegmentHeader(bytes: Buffer): boolean {
  const mark = containerMarkOf(bytes);
  return mark === 'riff' || mark === 'id3';
}

export function hasSegmentHeaders(format: ContainerFormat): boolean {
  return format === 'wav' || format === 'mp3';
}

/**
 * Drops the container header at the start of one later segment. Feed it the segment's chunks in
 * order; it returns what belongs in the joined stream (the chunk itself once the header is gone,
 * never a copy of it), holding back only the few bytes needed to recognise a header.
 */
export class SegmentHeaderStripper {
  private held: Buffer | undefined;
  private skip = 0;
  private decided = false;

  constructor(private readonly format: ContainerFormat) {}

  /** True once the header is behind: later chunks pass through untouched. */
  get passing(): boolean {
    return this.decided && this.skip === 0;
  }

  next(chunk: Buffer): Buffer {
    if (this.passing) return chunk;
    if (this.decided) return this.skipFrom(chunk);
    const bytes = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    const length = this.format === 'wav' ? wavHeaderLength(bytes) : id3Length(bytes);
    if (length === undefined) {
      this.held = bytes;
      return Buffer.alloc(0);
    }
    this.held = undefined;
    this.decided = true;
    this.skip = length;
    return this.skipFrom(bytes);
  }

  /** What was held back when the segment ended before a header could be told: it was audio. */
  flush(): Buffer {
    const held = this.held ?? Buffer.alloc(0);
    this.held = undefined;
    this.decided = true;
    return held;
  }

  private skipFrom(bytes: Buffer): Buffer {
    if (this.skip >= bytes.length) {
      this.skip -= bytes.length;
      return Buffer.alloc(0);
    }
    const rest = this.skip === 0 ? bytes : bytes.subarray(this.skip);
    this.skip = 0;
    return rest;
  }
}
