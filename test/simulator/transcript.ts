/** What went over each WebSocket, in order, for assertions on the exact wire behaviour. */

export interface TranscriptEntry {
  dir: 'C' | 'S';
  binary: boolean;
  /** Parsed JSON of a text frame (absent when the frame was not JSON). */
  json?: unknown;
  /** Raw text when the frame was not valid JSON. */
  text?: string;
  /** Size of a binary frame. */
  bytes?: number;
  at: number;
}

export interface ConnectionTranscript {
  service: 'cosyvoice' | 'qwen';
  url: string;
  headers: Record<string, string | undefined>;
  entries: TranscriptEntry[];
  closeCode?: number;
}

export function textEntry(dir: 'C' | 'S', raw: string): TranscriptEntry {
  try {
    return { dir, binary: false, json: JSON.parse(raw) as unknown, at: Date.now() };
  } catch {
    return { dir, binary: false, text: raw, at: Date.now() };
  }
}

export function binaryEntry(dir: 'C' | 'S', bytes: number): TranscriptEntry {
  return { dir, binary: true, bytes, at: Date.now() };
}
