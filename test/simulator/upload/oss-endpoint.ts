/**
 * The simulated OSS bucket's PostObject form upload (file-upload.md §2, §5.2, §7). No Authorization
 * is needed: the policy and its signature are the credential. Failures are OSS XML documents.
 * There is deliberately no GET route: the real storage cannot be read back either.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestId } from '../ids';
import { boundaryOf, parseMultipart, type FormPart } from './multipart';
import { BUCKET, type UploadStore } from './store';

export const OSS_PATH = '/__oss__';
/** Reading stops here; the policies' own limits are far lower. */
const MAX_FORM_BYTES = 64 * 1024 * 1024;

class OssError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendXmlError(res: ServerResponse, err: OssError): void {
  const id = requestId().replace(/-/g, '').toUpperCase().slice(0, 24);
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n' +
    `  <Code>${err.code}</Code>\n  <Message>${err.message}</Message>\n  <RequestId>${id}</RequestId>\n` +
    `  <HostId>${BUCKET}.oss-cn-beijing.aliyuncs.com</HostId>\n  <EC>0002-00000000</EC>\n</Error>\n`;
  res.writeHead(err.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml), 'x-oss-request-id': id });
  res.end(xml);
}

function readForm(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM_BYTES) {
        reject(new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function field(parts: FormPart[], name: string): string | undefined {
  // Field names are case-insensitive in OSS forms (the SDKs send OSSAccessKeyId, Signature, policy).
  return parts.find((p) => p.name.toLowerCase() === name.toLowerCase())?.data.toString('utf8');
}

function store(parts: FormPart[], uploads: UploadStore): boolean {
  const last = parts[parts.length - 1];
  const file = parts.find((p) => p.name === 'file');
  for (const name of ['OSSAccessKeyId', 'Signature', 'policy', 'key']) {
    if (field(parts, name) === undefined) throw new OssError(400, 'InvalidArgument', `The form field '${name}' is missing.`);
  }
  if (!file) throw new OssError(400, 'InvalidArgument', "The form field 'file' is missing.");
  if (last !== file) throw new OssError(400, 'InvalidArgument', "The form field 'file' must be the last field.");
  const issued = uploads.policy(field(parts, 'policy') ?? '');
  if (!issued || issued.signature !== field(parts, 'Signature') || issued.accessKeyId !== field(parts, 'OSSAccessKeyId')) {
    throw new OssError(403, 'AccessDenied', 'The request signature we calculated does not match the signature you provided.');
  }
  if (uploads.now() >= issued.expiresAt) throw new OssError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
  const key = field(parts, 'key') ?? '';
  if (!key.startsWith(`${issued.uploadDir}/`) || key.length === issued.uploadDir.length + 1) {
    throw new OssError(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "${issued.uploadDir}"]`);
  }
  const acl = field(parts, 'x-oss-object-acl');
  const forbid = field(parts, 'x-oss-forbid-overwrite');
  if (acl !== 'private') throw new OssError(403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$x-oss-object-acl", "private"]');
  if (forbid !== 'true') throw new OssError(403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$x-oss-forbid-overwrite", "true"]');
  if (file.data.length > issued.maxBytes) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
  if (uploads.has(key)) throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.');
  uploads.put({
    key,
    bytes: Buffer.from(file.data),
    filename: file.filename ?? '',
    contentType: field(parts, 'x-oss-content-type') ?? file.contentType,
    account: issued.account,
    model: issued.model,
    uploadedAt: uploads.now(),
  });
  return field(parts, 'success_action_status') === '200';
}

async function upload(req: IncomingMessage, res: ServerResponse, uploads: UploadStore): Promise<void> {
  const boundary = boundaryOf(req.headers['content-type']);
  if (!boundary) throw new OssError(400, 'InvalidArgument', 'The request must be multipart/form-data.');
  const parts = parseMultipart(await readForm(req), boundary);
  if (!parts) throw new OssError(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  const ok200 = store(parts, uploads);
  // Success has no body: 200 when success_action_status=200 asked for it, else OSS's default 204.
  res.writeHead(ok200 ? 200 : 204, { 'Content-Length': 0 });
  res.end();
}

export function handleOssUpload(req: IncomingMessage, res: ServerResponse, uploads: UploadStore): void {
  const fail = (err: unknown): void => {
    if (res.headersSent) return void res.destroy();
    sendXmlError(res, err instanceof OssError ? err : new OssError(500, 'InternalError', 'We encountered an internal error. Please try again.'));
  };
  if (req.method !== 'POST') return fail(new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.'));
  upload(req, res, uploads).catch(fail);
}
