/**
 * What msg.payload may carry as a voice sample: a Buffer (e.g. from a file-in node), a local file
 * path (or file:// URL), an http(s) URL, an oss:// URL already uploaded, or a data: URI. Local
 * bytes are returned for checking; URLs are passed on for the service to fetch.
 */
import { promises as fs } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidSample, maxSampleFileBytes } from '../../dashscope/voice-sample';
import type { VoiceFamily } from '../../dashscope/voice-services';
import { InputError } from '../../speech/input-error';

export type SampleInput =
  | { kind: 'url'; url: string }
  /** `stem` names the upload (the extension follows the sniffed format). */
  | { kind: 'bytes'; bytes: Buffer; stem: string };

const EXPECTED = 'the voice sample: a Buffer, a file path, an http(s) URL or a data: URI';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function fromDataUri(uri: string): SampleInput {
  const comma = uri.indexOf(',');
  const meta = comma < 0 ? '' : uri.slice(5, comma);
  if (comma < 0 || !meta.split(';').includes('base64')) throw new InputError('InvalidInput', 'a data: URI sample must be base64-encoded (data:audio/wav;base64,...)');
  return { kind: 'bytes', bytes: Buffer.from(uri.slice(comma + 1), 'base64'), stem: 'sample' };
}

async function fromFile(path: string, family: VoiceFamily): Promise<SampleInput> {
  let size: number;
  try {
    const stat = await fs.stat(path);
    if (!stat.isFile()) throw new InputError('InvalidInput', `the sample path "${path}" is not a file`);
    size = stat.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError('InvalidInput', `cannot read the sample file "${path}": ${code === 'ENOENT' ? 'no such file' : (code ?? String(err))}`);
  }
  // Never load a file into memory that can only be refused.
  const max = maxSampleFileBytes(family);
  if (size > max) throw invalidSample(`the file is ${(size / 1024 / 1024).toFixed(1)} MB; the limit is ${(max / 1024 / 1024).toFixed(1)} MB`);
  const bytes = await fs.readFile(path);
  return { kind: 'bytes', bytes, stem: basename(path, extname(path)) || 'sample' };
}

export async function readSampleInput(payload: unknown, family: VoiceFamily): Promise<SampleInput> {
  if (Buffer.isBuffer(payload)) return { kind: 'bytes', bytes: payload, stem: 'sample' };
  if (payload instanceof Uint8Array) return { kind: 'bytes', bytes: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), stem: 'sample' };
  if (typeof payload !== 'string') throw new InputError('InvalidInput', `msg.payload must be ${EXPECTED} (got ${describe(payload)})`);
  const value = payload.trim();
  if (!value) throw new InputError('InvalidInput', `msg.payload is empty: it must be ${EXPECTED}`);
  if (/^https?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new InputError('InvalidInput', `"${value}" is not a valid URL`);
    }
    return { kind: 'url', url: value };
  }
  if (value.startsWith('oss://')) return { kind: 'url', url: value };
  if (/^data:/i.test(value)) return fromDataUri(value);
  if (/^file:\/\//i.test(value)) return fromFile(fileURLToPath(value), family);
  return fromFile(value, family);
}
