/**
 * DashScope's free temporary storage (docs/protocol.md "Temporary file upload"): ask for an
 * upload policy for the model that will consume the file, post the file to OSS with that policy
 * (an HTML-form PostObject, without the API key), and name it `oss://<key>`. The consuming request
 * must then carry `X-DashScope-OssResourceResolve: enable`. Files live 48 hours and serve only
 * that model.
 */
import { isLoopbackHost } from './endpoints';
import { DashScopeError, networkError, timeoutError } from './errors';
import { deadline, requestJson, stoppedError, type CallOptions, type HttpAccess } from './http-json';

export const OSS_RESOLVE_HEADER = 'X-DashScope-OssResourceResolve';

export interface UploadPolicy {
  uploadHost: string;
  uploadDir: string;
  policy: string;
  signature: string;
  accessKeyId: string;
  objectAcl: string;
  forbidOverwrite: string;
  /** The largest file this model's storage accepts. */
  maxBytes: number;
}

export interface UploadFile {
  /**
   * Base name; kept to [A-Za-z0-9._-] because other characters are unconfirmed
   * (docs/protocol.md "Unconfirmed points" upload-name).
   */
  name: string;
  bytes: Buffer;
  contentType: string;
}

const UPLOAD_TIMEOUT_MS = 120_000;

function badPolicy(missing: string): DashScopeError {
  return new DashScopeError({ code: 'BadResponse', message: `upload policy: the answer has no usable "${missing}"`, origin: 'protocol', retryable: false });
}

/** Numbers arrive as JSON numbers, though the docs type them as strings: take either (docs/protocol.md "Temporary file upload"). */
function numberField(data: Record<string, unknown>, field: string): number | undefined {
  const v = data[field];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function stringField(data: Record<string, unknown>, field: string): string {
  const v = data[field];
  if (typeof v !== 'string' || v === '') throw badPolicy(field);
  return v;
}

/** A safe object name: other characters become '_', and an empty name becomes "sample". */
export function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._]+/, '');
  return cleaned || 'sample';
}

/** GET {httpBase}/uploads?action=getPolicy&model=M (docs/protocol.md "Temporary file upload"). */
export async function requestUploadPolicy(access: HttpAccess, model: string, options: CallOptions = {}): Promise<UploadPolicy> {
  const url = `${access.endpoints.httpBase}/uploads?action=getPolicy&model=${encodeURIComponent(model)}`;
  const reply = await requestJson({ method: 'GET', url, credentials: access.credentials, what: 'upload policy', ...options });
  const data = reply.body.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw badPolicy('data');
  const d = data as Record<string, unknown>;
  const maxMb = numberField(d, 'max_file_size_mb');
  return {
    uploadHost: stringField(d, 'upload_host'),
    uploadDir: stringField(d, 'upload_dir').replace(/\/+$/, ''),
    policy: stringField(d, 'policy'),
    signature: stringField(d, 'signature'),
    accessKeyId: stringField(d, 'oss_access_key_id'),
    objectAcl: stringField(d, 'x_oss_object_acl'),
    forbidOverwrite: stringField(d, 'x_oss_forbid_overwrite'),
    maxBytes: maxMb === undefined ? Number.POSITIVE_INFINITY : maxMb * 1024 * 1024,
  };
}

/**
 * The upload host comes from the service. A voice sample is personal data, so it goes over
 * plain http only to this machine or when the service itself was reached over plain http.
 */
function checkUploadHost(host: string, httpBase: string): URL {
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw badPolicy('upload_host');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (isLoopbackHost(url.hostname) || httpBase.startsWith('http:'))) return url;
  throw new DashScopeError({
    code: 'BadResponse',
    message: `upload policy: refusing to send the sample to ${url.protocol}//${url.host} (not https)`,
    origin: 'protocol',
    retryable: false,
  });
}

/**
 * OSS answers failures with an XML document: <Error><Code>…</Code><Message>…</Message>…
 * (docs/protocol.md "Temporary file upload").
 */
function ossError(status: number, body: string): DashScopeError {
  const tag = (name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  const code = tag('Code') ?? 'Unknown';
  const message = tag('Message') ?? `HTTP ${status}`;
  return new DashScopeError({
    code,
    message: `temporary upload failed: ${message}`,
    origin: 'http',
    retryable: status >= 500,
    status,
    requestId: tag('RequestId'),
  });
}

/**
 * POST <upload_host> as multipart/form-data: the policy fields in the order the official SDKs
 * send them, and the file last, as OSS requires. No Authorization header: the policy is the
 * credential here, and the API key must not travel to the storage host.
 */
export async function postToOss(policy: UploadPolicy, file: UploadFile, httpBase: string, options: CallOptions = {}): Promise<string> {
  if (options.signal?.aborted) throw stoppedError();
  const host = checkUploadHost(policy.uploadHost, httpBase);
  const name = safeFileName(file.name);
  const key = `${policy.uploadDir}/${name}`;
  const form = new FormData();
  form.append('OSSAccessKeyId', policy.accessKeyId);
  form.append('Signature', policy.signature);
  form.append('policy', policy.policy);
  form.append('key', key);
  form.append('x-oss-object-acl', policy.objectAcl);
  form.append('x-oss-forbid-overwrite', policy.forbidOverwrite);
  form.append('success_action_status', '200');
  form.append('x-oss-content-type', file.contentType);
  // Buffers from fs or base64 are backed by a plain ArrayBuffer; the DOM typing only cannot see it.
  form.append('file', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.contentType }), name);

  const timeoutMs = options.timeoutMs ?? UPLOAD_TIMEOUT_MS;
  const limit = deadline(options.signal, timeoutMs);
  let status: number;
  let text: string;
  try {
    const res = await fetch(host, { method: 'POST', body: form, signal: limit.signal });
    status = res.status;
    text = await res.text();
  } catch (err) {
    if (limit.expired) throw timeoutError('ResponseTimeout', `temporary upload: no answer within ${Math.round(timeoutMs / 1000)} s`);
    if (options.signal?.aborted) throw stoppedError();
    throw networkError(err instanceof TypeError && err.cause !== undefined ? err.cause : err, 'temporary upload: cannot reach the storage host');
  } finally {
    limit.clear();
  }
  // success_action_status=200 asks for 200; 204 is OSS's default and also success.
  if (status < 200 || status >= 300) throw ossError(status, text);
  return `oss://${key}`;
}

/** The whole flow: a fresh policy (so a fresh directory: no name clash), the size rule, the upload. */
export async function uploadTemporaryFile(access: HttpAccess, model: string, file: UploadFile, options: CallOptions = {}): Promise<string> {
  const policy = await requestUploadPolicy(access, model, options);
  if (file.bytes.length > policy.maxBytes) {
    throw new DashScopeError({
      code: 'InvalidSample',
      message: `the sample (${file.bytes.length} bytes) is larger than the temporary storage takes for ${model} (${policy.maxBytes} bytes)`,
      origin: 'client',
      retryable: false,
    });
  }
  return postToOss(policy, file, access.endpoints.httpBase, options);
}
