/**
 * The simulated temporary storage (file-upload.md §1–§3): policies handed out by getPolicy, the
 * objects posted with them, and the lookup behind `oss://` URLs. Expiry uses an injectable clock.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { hex } from '../ids';
import type { ResolvedOptions } from '../options';

export const BUCKET = 'dashscope-file-mgr';

/** What the simulator remembers of a policy it handed out (§7: policy → account, model, dir, …). */
export interface IssuedPolicy {
  policy: string;
  signature: string;
  accessKeyId: string;
  account: string;
  model: string;
  uploadDir: string;
  expiresAt: number;
  maxBytes: number;
}

export interface StoredObject {
  key: string;
  bytes: Buffer;
  filename: string;
  contentType?: string;
  account: string;
  model: string;
  uploadedAt: number;
}

/** The fake main-account id of an API key: 32 hex characters, the shape seen in upload_dir. */
export function accountOf(apiKey: string): string {
  return createHash('md5').update(apiKey).digest('hex');
}

export class UploadStore {
  private readonly policies = new Map<string, IssuedPolicy>();
  private readonly stored = new Map<string, StoredObject>();
  private readonly secret = randomBytes(20);
  readonly accessKeyId = `LTAI${hex(16)}`;

  constructor(readonly options: ResolvedOptions['uploads']) {}

  now(): number {
    return this.options.now();
  }

  maxBytesFor(model: string): number {
    return (this.options.maxFileSizeMb[model] ?? this.options.defaultMaxFileSizeMb) * 1024 * 1024;
  }

  /** A fresh policy (and so a fresh upload directory) for one account and model. */
  issue(apiKey: string, model: string, requestId: string): IssuedPolicy {
    const now = this.now();
    const account = accountOf(apiKey);
    const uploadDir = `dashscope-instant/${account}/${new Date(now).toISOString().slice(0, 10)}/${requestId}`;
    const expiresAt = now + this.options.policyExpireSeconds * 1000;
    const maxBytes = this.maxBytesFor(model);
    const document = {
      expiration: new Date(expiresAt).toISOString(),
      conditions: [
        ['content-length-range', 0, maxBytes],
        ['starts-with', '$key', uploadDir],
        { bucket: BUCKET },
        { 'x-oss-object-acl': 'private' },
        { 'x-oss-forbid-overwrite': 'true' },
      ],
    };
    const policy = Buffer.from(JSON.stringify(document)).toString('base64');
    const signature = createHmac('sha1', this.secret).update(policy).digest('base64');
    const issued: IssuedPolicy = { policy, signature, accessKeyId: this.accessKeyId, account, model, uploadDir, expiresAt, maxBytes };
    this.policies.set(policy, issued);
    return issued;
  }

  policy(policy: string): IssuedPolicy | undefined {
    return this.policies.get(policy);
  }

  has(key: string): boolean {
    return this.stored.has(key);
  }

  put(object: StoredObject): void {
    this.stored.set(object.key, object);
  }

  get(key: string): StoredObject | undefined {
    return this.stored.get(key);
  }

  /** Test-side inspection (the simulated bucket itself has no read route, like the real one). */
  objects(): StoredObject[] {
    return [...this.stored.values()];
  }

  clear(): void {
    this.policies.clear();
    this.stored.clear();
  }
}
