/**
 * The temporary upload policy for voice-enrollment: its size limit (docs/protocol.md "Unconfirmed
 * points" upload-size). Only the policy is asked for: nothing is uploaded.
 */
import { requestUploadPolicy } from '../../dashscope/temporary-upload';
import { uploadSize } from './classify';
import { describeError, guardMs } from './cosyvoice-run';
import { defineProbe, refusalOf } from './define';

const MODEL = 'voice-enrollment';
const MB = 1024 * 1024;

export const uploadPolicy = defineProbe(
  {
    id: 'upload-policy',
    title: `Temporary upload: the policy for ${MODEL} (nothing is uploaded)`,
    maxCharacters: 0,
    points: ['upload-size'],
  },
  async (scope, report) => {
    scope.ctx.progress(`Upload policy for ${MODEL}`);
    const { ctx } = scope;
    scope.check();
    try {
      const policy = await requestUploadPolicy({ endpoints: ctx.endpoints, credentials: ctx.credentials }, MODEL, {
        tap: ctx.tap,
        signal: ctx.signal,
        timeoutMs: guardMs(scope, 30_000),
      });
      scope.check();
      const mb = Number.isFinite(policy.maxBytes) ? policy.maxBytes / MB : undefined;
      report('upload-size', uploadSize(mb), mb === undefined ? 'the policy has no max_file_size_mb' : `max_file_size_mb ${mb}`);
    } catch (err) {
      scope.check();
      const refused = refusalOf(err);
      report('upload-size', undefined, `the policy was refused: ${describeError(refused)}`);
    }
  },
);
