/** The two HTTP routes of the temporary upload flow: the policy endpoint and the simulated bucket. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleOssUpload, OSS_PATH } from './oss-endpoint';
import { handlePolicy, POLICY_PATH, type PolicyDeps } from './policy-endpoint';

export { UploadStore, type StoredObject, type IssuedPolicy } from './store';
export { ossResolver, type OssResolver } from './resolve';
export { checkStoredSample } from './sample-check';

/** True when the request was one of the upload routes (and has been answered). */
export function handleUploadRequest(req: IncomingMessage, res: ServerResponse, deps: PolicyDeps): boolean {
  const url = new URL(req.url ?? '/', 'http://simulator.local');
  const path = url.pathname.replace(/\/+$/, '');
  if (path === POLICY_PATH) {
    handlePolicy(req, res, url, deps);
    return true;
  }
  if (path === OSS_PATH) {
    handleOssUpload(req, res, deps.uploads);
    return true;
  }
  return false;
}
