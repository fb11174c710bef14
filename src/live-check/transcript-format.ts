/**
 * What a live-check transcript holds: one JSON object per line, in the order things happened on
 * the wire, `t` the milliseconds since the recorder started (one decimal). `conn` numbers each
 * socket and each HTTP request of the run. The key, authorization values and signed URLs never
 * appear (redact.ts); audio appears only as its length, a hash and the container it starts with.
 *
 * parseTranscript() reads a file a user sends back, and is what the simulator's replay reads
 * (test/simulator/replay/): a broken line is named by its number.
 */

export type Service = 'cosyvoice' | 'qwen';

/** The container an audio frame starts with (audio-frames.ts containerOf); null for raw PCM or anything else. */
export type Container = 'riff' | 'id3' | 'mp3' | 'ogg' | null;

/** A JSON value as it stands in a line. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Audio in place of its bytes: a binary frame, or a Qwen delta's base64. */
export interface AudioSummary {
  bytes: number;
  /** The first 16 hex digits of the SHA-256 of the bytes. */
  sha256: string;
  container: Container;
}

interface At {
  t: number;
}

export interface MetaLine extends At {
  kind: 'meta';
  [field: string]: Json;
}
export interface ProbeLine extends At {
  kind: 'probe';
  probe: string;
  phase: 'start' | 'end';
}
export interface OpenLine extends At {
  kind: 'open';
  conn: number;
  service: Service;
  url: string;
}
export interface OpenedLine extends At {
  kind: 'opened';
  conn: number;
}
export interface RefusedLine extends At {
  kind: 'refused';
  conn: number;
  status: number;
  /** The body parsed as JSON when it is JSON, else the text. */
  body: Json;
}
export interface FailedLine extends At {
  kind: 'failed';
  conn: number;
  message: string;
}
/** A text frame; `type` is CosyVoice's header.action (out) / header.event (in), or Qwen's `type`; null when it has none. */
export interface FrameLine extends At {
  kind: 'out' | 'in';
  conn: number;
  type: string | null;
  /** The whole frame, parsed (the text when it is not JSON); a Qwen delta's audio is an AudioSummary with `audio: true`. */
  frame: Json;
}
export interface AudioLine extends At, AudioSummary {
  kind: 'audio';
  conn: number;
}
/** The client began the close (1006: it dropped the socket without a close handshake). */
export interface ClosingLine extends At {
  kind: 'closing';
  conn: number;
  code: number;
}
export interface ClosedLine extends At {
  kind: 'closed';
  conn: number;
  code: number;
  reason: string;
}
export interface HttpLine extends At {
  kind: 'http';
  conn: number;
  method: string;
  url: string;
  /** The request body, parsed when JSON; null for none. */
  body: Json;
}
export interface HttpReplyLine extends At {
  kind: 'http-reply';
  conn: number;
  status: number;
  body: Json;
}
export interface HttpFailedLine extends At {
  kind: 'http-failed';
  conn: number;
  message: string;
}
/**
 * What the run concluded about a point, written the moment it learned it (run.ts), so a transcript
 * says what the kit made of the frames before it and a replay of it must conclude the same.
 */
export interface FindingLine extends At {
  kind: 'finding';
  point: string;
  /** The reading shown; null when the run could not tell. */
  shown: string | null;
  evidence: string;
}

export type TranscriptLine =
  | MetaLine
  | ProbeLine
  | OpenLine
  | OpenedLine
  | RefusedLine
  | FailedLine
  | FrameLine
  | AudioLine
  | ClosingLine
  | ClosedLine
  | HttpLine
  | HttpReplyLine
  | HttpFailedLine
  | FindingLine;

export type LineKind = TranscriptLine['kind'];

/** The WebSocket service a URL's path names: Qwen's ends in /realtime, CosyVoice's in /inference (endpoints.ts). */
export function serviceOfUrl(url: string): Service {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not a URL: judge the text itself
  }
  return /\/realtime\/?$/.test(path.split('?')[0] ?? '') ? 'qwen' : 'cosyvoice';
}

/** A frame's event type: CosyVoice's header.action / header.event, Qwen's `type`. */
export function frameType(service: Service, direction: 'out' | 'in', frame: Json): string | null {
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return null;
  if (service === 'qwen') return typeof frame.type === 'string' ? frame.type : null;
  const header = frame.header;
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return null;
  const v = header[direction === 'out' ? 'action' : 'event'];
  return typeof v === 'string' ? v : null;
}

/** A text as JSON when it parses, else the text itself. */
export function parseBody(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

// ---- validation of a file a user sends -------------------------------------------------------

type Check = (line: Record<string, unknown>) => string | undefined;

const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStr = (v: unknown): boolean => typeof v === 'string';

function fields(spec: Record<string, (v: unknown) => boolean>, what: Record<string, string>): Check {
  return (line) => {
    for (const [name, ok] of Object.entries(spec)) if (!ok(line[name])) return `"${name}" must be ${what[name] ?? 'set'}`;
    return undefined;
  };
}

const CONTAINERS: readonly unknown[] = ['riff', 'id3', 'mp3', 'ogg', null];
const isAudio = (v: Record<string, unknown>): string | undefined =>
  !isInt(v.bytes)
    ? '"bytes" must be a whole number'
    : typeof v.sha256 !== 'string' || !/^[0-9a-f]{16}$/.test(v.sha256)
      ? '"sha256" must be 16 hex digits'
      : !CONTAINERS.includes(v.container)
        ? '"container" must be riff, id3, mp3, ogg or null'
        : undefined;

const W = {
  conn: 'a whole number',
  status: 'a whole number',
  code: 'a whole number',
  probe: 'text',
  url: 'text',
  method: 'text',
  message: 'text',
  reason: 'text',
  point: 'text',
  evidence: 'text',
};

const CHECKS: Record<LineKind, Check> = {
  meta: () => undefined,
  probe: (l) => fields({ probe: isStr }, W)(l) ?? (l.phase === 'start' || l.phase === 'end' ? undefined : '"phase" must be start or end'),
  open: (l) => fields({ conn: isInt, url: isStr }, W)(l) ?? (l.service === 'cosyvoice' || l.service === 'qwen' ? undefined : '"service" must be cosyvoice or qwen'),
  opened: fields({ conn: isInt }, W),
  refused: (l) => fields({ conn: isInt, status: isInt }, W)(l) ?? ('body' in l ? undefined : '"body" is missing'),
  failed: fields({ conn: isInt, message: isStr }, W),
  out: (l) => fields({ conn: isInt }, W)(l) ?? frameCheck(l),
  in: (l) => fields({ conn: isInt }, W)(l) ?? frameCheck(l),
  audio: (l) => fields({ conn: isInt }, W)(l) ?? isAudio(l),
  closing: fields({ conn: isInt, code: isInt }, W),
  closed: fields({ conn: isInt, code: isInt, reason: isStr }, W),
  http: (l) => fields({ conn: isInt, method: isStr, url: isStr }, W)(l) ?? ('body' in l ? undefined : '"body" is missing'),
  'http-reply': (l) => fields({ conn: isInt, status: isInt }, W)(l) ?? ('body' in l ? undefined : '"body" is missing'),
  'http-failed': fields({ conn: isInt, message: isStr }, W),
  finding: (l) => fields({ point: isStr, evidence: isStr }, W)(l) ?? (l.shown === null || isStr(l.shown) ? undefined : '"shown" must be text or null'),
};

function frameCheck(l: Record<string, unknown>): string | undefined {
  if (!(l.type === null || typeof l.type === 'string')) return '"type" must be text or null';
  if (!('frame' in l)) return '"frame" is missing';
  const frame = l.frame;
  if (frame && typeof frame === 'object' && !Array.isArray(frame)) {
    const delta = (frame as Record<string, unknown>).delta;
    if (delta && typeof delta === 'object' && !Array.isArray(delta)) {
      const problem = isAudio(delta as Record<string, unknown>);
      if (problem) return `the audio delta: ${problem}`;
    }
  }
  return undefined;
}

export class TranscriptError extends Error {
  constructor(
    readonly lineNumber: number,
    problem: string,
  ) {
    super(`transcript line ${lineNumber}: ${problem}`);
    this.name = 'TranscriptError';
  }
}

/**
 * Reads a transcript (JSON lines; blank lines skipped) and checks every line's shape. Throws a
 * TranscriptError naming the first broken line (1-based). A meta line may only come first, and a
 * socket's lines must follow its `open` line, so a replay can trust what it reads.
 */
export function parseTranscript(text: string): TranscriptLine[] {
  const out: TranscriptLine[] = [];
  const sockets = new Set<number>();
  const requests = new Set<number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new TranscriptError(n, `not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TranscriptError(n, 'not a JSON object');
    const line = value as Record<string, unknown>;
    if (typeof line.t !== 'number' || !Number.isFinite(line.t) || line.t < 0) throw new TranscriptError(n, '"t" must be a number of milliseconds');
    const kind = line.kind;
    const check = typeof kind === 'string' && Object.prototype.hasOwnProperty.call(CHECKS, kind) ? CHECKS[kind as LineKind] : undefined;
    if (!check) throw new TranscriptError(n, `unknown kind ${JSON.stringify(kind)}`);
    const problem = check(line);
    if (problem) throw new TranscriptError(n, `${String(kind)}: ${problem}`);
    if (kind === 'meta' && out.length > 0) throw new TranscriptError(n, 'meta: only the first line may be meta');
    const conn = line.conn as number;
    if (kind === 'open') {
      if (sockets.has(conn) || requests.has(conn)) throw new TranscriptError(n, `open: conn ${conn} is already in use`);
      sockets.add(conn);
    } else if (kind === 'http') {
      if (sockets.has(conn) || requests.has(conn)) throw new TranscriptError(n, `http: conn ${conn} is already in use`);
      requests.add(conn);
    } else if (kind === 'http-reply' || kind === 'http-failed') {
      if (!requests.has(conn)) throw new TranscriptError(n, `${kind}: no http line for conn ${conn} before it`);
    } else if (kind !== 'meta' && kind !== 'probe' && kind !== 'finding' && !sockets.has(conn)) {
      throw new TranscriptError(n, `${kind}: no open line for conn ${conn} before it`);
    }
    out.push(line as unknown as TranscriptLine);
  });
  return out;
}
