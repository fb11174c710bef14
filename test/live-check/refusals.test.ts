// Which refusals stop the run as "the key was refused", and which a probe reports as the
// service's answer: a 403 naming a permission is about a model or workspace, not the key.
import assert from 'node:assert/strict';
import { authError, DashScopeError } from '../../src/dashscope/errors';
import { envelopeError as httpEnvelopeError } from '../../src/dashscope/http-json';
import { isKeyRefusal, isRateLimited } from '../../src/live-check/refusals';

const err = (code: string, status?: number): DashScopeError =>
  new DashScopeError({ code, message: code, origin: 'task', retryable: false, status });

describe('live-check: refusals of the key and of the rate', () => {
  it('a refused key: HTTP 401, an auth code, a 403 that names nothing more', () => {
    assert.equal(isKeyRefusal(authError(401, undefined)), true);
    assert.equal(isKeyRefusal(httpEnvelopeError(401, {}, 'upload policy')), true);
    assert.equal(isKeyRefusal(err('InvalidApiKey')), true);
    assert.equal(isKeyRefusal(err('Unknown', 403)), true);
  });

  it('not the key: a 403 naming a permission or the account, a request error, anything that is not a DashScopeError', () => {
    assert.equal(isKeyRefusal(err('AccessDenied', 403)), false);
    assert.equal(isKeyRefusal(err('Model.AccessDenied', 403)), false);
    assert.equal(isKeyRefusal(err('Arrearage', 403)), false);
    assert.equal(isKeyRefusal(err('InvalidParameter', 400)), false);
    assert.equal(isKeyRefusal(new Error('InvalidApiKey')), false);
  });

  it('a rate limit, however it comes', () => {
    assert.equal(isRateLimited(err('Throttling.RateQuota')), true);
    assert.equal(isRateLimited(err('Unknown', 429)), true);
    assert.equal(isRateLimited(err('InvalidParameter', 400)), false);
  });
});
