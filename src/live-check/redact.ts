/**
 * What must never reach a transcript: the API key (wherever it occurs, also in text the service
 * sends back), authorization values, signed URLs (their query is the credential) and the upload
 * policy's credential fields. One function, applied to every line as the last step before it is
 * written, so no line kind can forget it.
 */
import type { Json } from './transcript-format';

export const REDACTED_KEY = '[redacted key]';
export const REDACTED = '[redacted]';

/** Fields whose value is a credential (docs/protocol.md "Temporary file upload": the policy answer and the OSS form). */
const SECRET_FIELDS =
  /^(policy|signature|oss_?access_?key_?id|x[-_]oss[-_]security[-_]token|security[-_]token|authorization|proxy-authorization|x-api-key|api[-_]?key|access[-_]?key[-_]?secret)$/i;

/** Query parameters that make a URL signed: OSS (V1 and V4) and S3-style presigned URLs. */
const SIGNED_PARAM = /^(signature|ossaccesskeyid|x-oss-.*|expires|security-token|x-amz-.*)$/i;

const URL_IN_TEXT = /\b(?:https?|wss?):\/\/[^\s"'<>]+/gi;
/** An authorization value (not one already redacted: the key inside it was). */
const AUTH_VALUE = /\b(Bearer|Basic)\s+(?!\[redacted)[^\s"',;]+/gi;
/** DashScope keys are `sk-` and 32 hex digits: one that is not the run's own key is redacted too. */
const KEY_LOOKING = /\bsk-[A-Za-z0-9]{20,}\b/g;

function paramName(pair: string): string {
  const name = pair.split('=')[0] ?? '';
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** A URL without user info, and with `?[redacted]` for a signed query. */
export function redactUrl(url: string): string {
  const bare = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/i, '$1');
  const q = bare.indexOf('?');
  if (q < 0) return bare;
  const hash = bare.indexOf('#', q);
  const query = bare.slice(q + 1, hash < 0 ? undefined : hash);
  return query.split('&').some((pair) => SIGNED_PARAM.test(paramName(pair))) ? `${bare.slice(0, q)}?${REDACTED}` : bare;
}

export class Redactor {
  /** Longest first, so a secret that contains another is replaced whole. */
  private readonly secrets: readonly string[];

  constructor(secrets: readonly string[]) {
    this.secrets = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  }

  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED_KEY);
    return out.replace(AUTH_VALUE, `$1 ${REDACTED}`).replace(KEY_LOOKING, REDACTED_KEY).replace(URL_IN_TEXT, redactUrl);
  }

  value(v: Json): Json {
    if (typeof v === 'string') return this.text(v);
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    const out: { [key: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) out[this.text(k)] = SECRET_FIELDS.test(k) && x !== null && x !== '' ? REDACTED : this.value(x);
    return out;
  }

  /**
   * One transcript line, redacted and serialized. The serialized text is checked again: a secret
   * with characters JSON escapes would otherwise slip through in its escaped form.
   */
  line(line: { [key: string]: Json }): string {
    let out = JSON.stringify(this.value(line));
    for (const secret of this.secrets) {
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (out.includes(escaped)) out = out.split(escaped).join(REDACTED_KEY);
    }
    return out;
  }
}
