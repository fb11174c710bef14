// Which refusals stop the run as "the key was refused", which are the account's (never a reading,
// never a stop, but arrears), and which a probe reports as the service's answer: one rule, the
// code before the status, for the probes and the classifiers alike.
import assert from 'node:assert/strict';
import { authError, DashScopeError, serviceError } from '../../src/dashscope/errors';
import { envelopeError as httpEnvelopeError } from '../../src/dashscope/http-json';
import { speaks } from '../../src/live-check/probes/classify';
import { readable, refusalOf } from '../../src/live-check/probes/define';
import { accountRefused, accountRefusedEvidence, isAccountRefusal, isArrears, isKeyRefusal, isRateLimited, modelRefused, modelUnavailable } from '../../src/live-check/refusals';

const err = (code: string, status?: number, origin: 'task' | 'handshake' | 'http' = 'task'): DashScopeError =>
  new DashScopeError({ code, message: code, origin, retryable: false, status });

describe('live-check: refusals of the key, the account and the rate', () => {
  it('a refused key: HTTP 401, an auth code, whatever was accepted before', () => {
    for (const accepted of [false, true]) {
      assert.equal(isKeyRefusal(authError(401, undefined), { accepted }), true);
      assert.equal(isKeyRefusal(httpEnvelopeError(401, {}, 'upload policy'), { accepted }), true);
      assert.equal(isKeyRefusal(err('InvalidApiKey'), { accepted }), true);
      assert.equal(isKeyRefusal(err('NOT AUTHORIZED', 403, 'handshake'), { accepted }), true);
    }
  });

  it('a 403 that names nothing (no code from the service) is the key only while the key was never accepted', () => {
    const bareHttp = httpEnvelopeError(403, {}, 'upload policy');
    const bareUpgrade = authError(403, undefined);
    assert.equal(bareHttp.code, 'Unknown');
    assert.equal(bareUpgrade.code, 'AccessDenied');
    for (const bare of [bareHttp, bareUpgrade]) {
      assert.equal(isKeyRefusal(bare), true, bare.code);
      assert.equal(isKeyRefusal(bare, { accepted: true }), false, `${bare.code} after the key was accepted`);
    }
    // The same code with a status that says something else, or outside an upgrade, names a permission.
    assert.equal(isKeyRefusal(err('AccessDenied', 403, 'task')), false);
  });

  it('a 403 with any other code is never the key: the account, a model, the request', () => {
    for (const code of ['AllocationQuota.FreeTierOnly', 'InvalidParameter', 'Model.NotFound', 'InvalidModel', 'Model.AccessDenied', 'AccessDenied.Unpurchased', 'Arrearage', 'Workspace.AccessDenied']) {
      assert.equal(isKeyRefusal(authError(403, code)), false, `${code} at an upgrade`);
      assert.equal(isKeyRefusal(serviceError('http', code, 'm', { status: 403 })), false, `${code} over HTTP`);
    }
    assert.equal(isKeyRefusal(err('InvalidParameter', 400)), false);
    assert.equal(isKeyRefusal(new Error('InvalidApiKey')), false);
  });

  it('the account: permission, billing (arrears, a model quota) or a model it cannot have, whatever the status', () => {
    for (const code of ['AccessDenied', 'AccessDenied.Unpurchased', 'Model.AccessDenied', 'Workspace.AccessDenied', 'Arrearage', 'AllocationQuota.FreeTierOnly', 'ModelNotFound', 'Model.NotFound', 'InvalidModel']) {
      assert.equal(isAccountRefusal(err(code)), true, code);
      assert.equal(isAccountRefusal(authError(403, code)), true, `${code} with HTTP 403`);
    }
    for (const code of ['InvalidApiKey', 'InvalidParameter', 'InternalError', 'Throttling.RateQuota', 'VoiceNotFound']) assert.equal(isAccountRefusal(err(code)), false, code);
    // A refusal of the model asked about (its availability is the question): not arrears, not the workspace.
    assert.equal(modelUnavailable(err('AllocationQuota.FreeTierOnly', 403)), true);
    assert.equal(modelUnavailable(err('Model.AccessDenied')), true);
    assert.equal(modelUnavailable(err('Arrearage')), false);
    assert.equal(modelUnavailable(err('Workspace.AccessDenied')), false);
    // Only refusals that may be about a named model are the answer to a question about a made-up model: no quota.
    assert.equal(modelRefused(err('Model.AccessDenied')), true);
    assert.equal(modelRefused(err('ModelNotFound', 404)), true);
    assert.equal(modelRefused(err('Arrearage')), false);
    assert.equal(modelRefused(err('AllocationQuota.FreeTierOnly', 403)), false);
    assert.equal(modelRefused(err('Workspace.AccessDenied')), false);
    assert.equal(isArrears(err('Arrearage', 400)), true);
    assert.equal(isArrears(err('AllocationQuota.FreeTierOnly')), false);
  });

  it('speaks() and the probes read a refusal by the same rule: a 403 with an account code is "not available", never "cannot tell"', () => {
    for (const code of ['Model.AccessDenied', 'AllocationQuota.FreeTierOnly', 'AccessDenied.Unpurchased']) {
      const e = authError(403, code);
      assert.equal(accountRefused(e), true, code);
      assert.equal(speaks({ audioBytes: 0, error: e }), 'not available to this account', code);
    }
    assert.equal(speaks({ audioBytes: 0, error: authError(401, 'InvalidApiKey') }), undefined);
    assert.equal(speaks({ audioBytes: 0, error: err('InvalidParameter', 403) }), 'fails');
  });

  it('what a probe may read: the key and arrears are thrown always; the account only where its model is not the question', () => {
    const key = authError(401, 'InvalidApiKey');
    const arrears = err('Arrearage', 400);
    const model = err('Model.AccessDenied', 403);
    const quota = authError(403, 'AllocationQuota.FreeTierOnly');
    const answer = err('InvalidParameter', 400);
    assert.throws(() => readable(key), (e) => e === key);
    assert.equal(readable(key, { ownKey: false }), key, "the made-up key's refusal is the bad-key answer");
    for (const whose of [{}, { model: 'asked' }, { model: 'made-up' }, { ownKey: false }] as const) assert.throws(() => readable(arrears, whose), (e) => e === arrears, JSON.stringify(whose));
    assert.throws(() => readable(model), (e) => e === model);
    assert.equal(readable(model, { model: 'made-up' }), model, "a made-up model's refusal is the answer");
    assert.equal(readable(model, { model: 'asked' }), model, 'whether the account may use the model is the answer');
    assert.equal(readable(quota, { model: 'asked' }), quota, "the model's quota is used up: not available to this account");
    assert.throws(() => readable(quota, { model: 'made-up' }), (e) => e === quota, 'a made-up model has no quota: the account, not the model');
    const workspace = err('Workspace.AccessDenied', 403);
    for (const whose of [{ model: 'asked' }, { model: 'made-up' }] as const) assert.throws(() => readable(workspace, whose), (e) => e === workspace);
    assert.equal(readable(answer), answer);
    assert.equal(refusalOf(answer), answer);
    assert.throws(() => refusalOf(model), (e) => e === model);
  });

  it('the evidence names the model, or the arrears', () => {
    assert.equal(accountRefusedEvidence(authError(403, 'AllocationQuota.FreeTierOnly'), 'qwen3-tts-flash-realtime'), 'not answered: this account may not use qwen3-tts-flash-realtime (HTTP 403 AllocationQuota.FreeTierOnly)');
    assert.equal(accountRefusedEvidence(err('Arrearage'), 'cosyvoice-v3-flash'), 'not answered: the account is in arrears (Arrearage)');
  });

  it('a rate limit, however it comes', () => {
    assert.equal(isRateLimited(err('Throttling.RateQuota')), true);
    assert.equal(isRateLimited(err('Unknown', 429)), true);
    assert.equal(isRateLimited(new DashScopeError({ code: 'ConnectionClosed', message: 'm', origin: 'session', retryable: true, closeCode: 1013 })), true);
    assert.equal(isRateLimited(err('InvalidParameter', 400)), false);
  });
});
