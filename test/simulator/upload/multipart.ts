/**
 * A tolerant multipart/form-data reader for the OSS PostObject form (file-upload.md §2.1, §7):
 * quoted or unquoted names, per-part Content-Type present or absent, parts kept in order so the
 * "file last" rule can be checked.
 */

export interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

/** `name="x"`, `name=x` and `filename="f"` from a Content-Disposition value. */
function dispositionParam(value: string, param: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${param}=(?:"([^"]*)"|([^;]*))`, 'i').exec(value);
  const v = m?.[1] ?? m?.[2];
  return v === undefined ? undefined : v.trim();
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Undefined when the body is not well-formed multipart with this boundary. */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) return undefined;
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') return undefined;
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) return undefined;
    const headers = parseHeaders(body.subarray(pos, headerEnd).toString('utf8'));
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) return undefined;
    const disposition = headers['content-disposition'] ?? '';
    const name = dispositionParam(disposition, 'name');
    if (!/^form-data\b/i.test(disposition) || name === undefined) return undefined;
    parts.push({ name, filename: dispositionParam(disposition, 'filename'), contentType: headers['content-type'], data: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
}
