/**
 * What msg.payload may carry as a voice sample: a Buffer (e.g. from a file-in node), a local file
 * path (or file:// URL) inside the folder settings.js names (see sample-file.ts), an http(s) URL,
 * an oss:// URL already uploaded, or a data: URI. Local bytes are returned for checking; URLs are
 * passed on for the service to fetch.
 */
import { fileURLToPath } from 'node:url';
import type { VoiceFamily } from '../../dashscope/voice-services';
import { InputError } from '../../speech/input-error';
import type { SampleInput } from '../../voices/clone';
import { maxSampleFileBytes } from '../../voices/sample';
import { readSampleFile, refuseSampleFile, type SampleFileAccess } from './sample-file';

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

async function fromFile(path: string, family: VoiceFamily, files: SampleFileAccess): Promise<SampleInput> {
  const file = await readSampleFile(path, maxSampleFileBytes(family), files);
  return { kind: 'bytes', ...file };
}

/** A file:// URL as a path; one that names no local path is refused like any other path. */
function fileUrlPath(url: string, files: SampleFileAccess): string {
  try {
    return fileURLToPath(url);
  } catch (err) {
    throw refuseSampleFile(files, `${JSON.stringify(url)} is not a local file URL (${(err as Error).message})`);
  }
}

export async function readSampleInput(payload: unknown, family: VoiceFamily, files: SampleFileAccess): Promise<SampleInput> {
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
  if (/^file:\/\//i.test(value)) return fromFile(fileUrlPath(value, files), family, files);
  return fromFile(value, family, files);
}
