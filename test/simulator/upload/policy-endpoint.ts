/**
 * `GET /api/v1/uploads?action=getPolicy&model=M` (file-upload.md §1, §7): a fresh upload credential
 * under `data` (no `output`), the three size/time fields as JSON numbers, the upload host pointing
 * back at this simulator.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerKey, INVALID_API_KEY, isKeyAccepted, type KeyPolicy } from '../auth';
import { errorBody, sendJson } from '../http-replies';
import { requestId } from '../ids';
import type { RollingRateLimiter } from '../rate-window';
import { OSS_PATH } from './oss-endpoint';
import { accountOf, type UploadStore } from './store';

export const POLICY_PATH = '/api/v1/uploads';

export interface PolicyDeps {
  uploads: UploadStore;
  keys: KeyPolicy;
  policyRate: RollingRateLimiter;
}

export function handlePolicy(req: IncomingMessage, res: ServerResponse, url: URL, deps: PolicyDeps): void {
  if (req.method !== 'GET') return sendJson(res, 405, errorBody('InvalidParameter', 'Only GET is supported.'));
  const key = bearerKey(req.headers);
  if (!isKeyAccepted(key, deps.keys)) return sendJson(res, 401, errorBody(INVALID_API_KEY.code, INVALID_API_KEY.message));
  // Real answers for a bad action/model are unconfirmed (§5.1): the common InvalidParameter envelope.
  if (url.searchParams.get('action') !== 'getPolicy') return sendJson(res, 400, errorBody('InvalidParameter', "Parameter 'action' must be 'getPolicy'."));
  const model = url.searchParams.get('model') ?? '';
  if (!model) return sendJson(res, 400, errorBody('InvalidParameter', "Missing required parameter 'model'."));
  // 100 QPS per (main account, model) in the docs (§4); off unless configured.
  if (!deps.policyRate.tryAcquire(`${accountOf(key)}\n${model}`)) {
    return sendJson(res, 429, errorBody('Throttling.RateQuota', 'Requests rate limit exceeded, please try again later.'));
  }
  // As in the capture, the upload directory ends with the response's request id.
  const id = requestId();
  const issued = deps.uploads.issue(key, model, id);
  sendJson(res, 200, {
    request_id: id,
    data: {
      policy: issued.policy,
      signature: issued.signature,
      upload_dir: issued.uploadDir,
      upload_host: `http://${req.headers.host ?? '127.0.0.1'}${OSS_PATH}`,
      expire_in_seconds: deps.uploads.options.policyExpireSeconds,
      max_file_size_mb: issued.maxBytes / 1024 / 1024,
      capacity_limit_mb: 999999999,
      oss_access_key_id: issued.accessKeyId,
      x_oss_object_acl: 'private',
      x_oss_forbid_overwrite: 'true',
    },
  });
}
