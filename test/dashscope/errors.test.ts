import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { COSYVOICE_LIMITS, CosyVoiceConnection } from '../../src/dashscope/cosyvoice';
import {
  authError,
  CLOSE_CODES,
  classifyClose,
  classifyError,
  closedError,
  DashScopeError,
  ERROR_CODES,
  isAuthFailure,
  isRetryableCode,
  isThrottling,
  serviceError,
} from '../../src/dashscope/errors';
import { openSocket } from '../../src/dashscope/socket';
import { runTask } from '../support/collect';

/** [code, HTTP status or undefined, retryable, throttling, auth]: what docs/protocol.md "Errors and retries" says. */
type Row = [code: string, status: number | undefined, retryable: boolean, throttling: boolean, auth: boolean];

const SERVICE_CODES: Row[] = [
  ['Throttling', 429, true, true, false],
  ['Throttling', undefined, true, true, false],
  ['Throttling.RateQuota', undefined, true, true, false],
  ['Throttling.AllocationQuota', 429, true, true, false],
  ['InternalError', undefined, true, false, false],
  ['InternalError', 500, true, false, false],
  ['InternalError.Timeout', undefined, true, false, false],
  ['ServiceUnavailable', 503, true, false, false],
  ['RequestTimeOut', undefined, true, false, false],
  ['InvalidApiKey', undefined, false, false, true],
  ['InvalidApiKey', 401, false, false, true],
  ['NOT AUTHORIZED', 401, false, false, true],
  ['NOT AUTHORIZED', undefined, false, false, true],
  ['AccessDenied', undefined, false, false, false],
  ['AccessDenied.Unpurchased', undefined, false, false, false],
  ['Model.AccessDenied', undefined, false, false, false],
  ['Workspace.AccessDenied', undefined, false, false, false],
  ['Arrearage', 400, false, false, false],
  ['DataInspectionFailed', 400, false, false, false],
  ['InvalidParameter', 400, false, false, false],
  ['InvalidParameter', undefined, false, false, false],
  ['invalid_value', undefined, false, false, false],
  ['invalid_parameter_error', 400, false, false, false],
  ['CLIENT_ERROR', undefined, false, false, false],
  ['ModelNotFound', 404, false, false, false],
  ['VoiceNotFound', 400, false, false, false],
  ['BadRequest.VoiceNotFound', 400, false, false, false],
  ['BadRequest.ResourceNotExist', 400, false, false, false],
  ['Audio.DecoderError', 430, false, false, false],
  ['Audio.PreprocessError', 400, false, false, false],
];

/** Codes this client makes itself for a lost connection or a missing answer. */
const CLIENT_CODES: Row[] = [
  ['ConnectionClosed', undefined, true, false, false],
  ['ConnectTimeout', undefined, true, false, false],
  ['NetworkError', undefined, true, false, false],
  ['StartTimeout', undefined, true, false, false],
  ['ResponseTimeout', undefined, true, false, false],
  ['ProtocolError', undefined, true, false, false],
  // The service ended a Qwen session for idleness or age: a new session can say the text.
  ['idle_timeout', undefined, true, false, false],
  ['session_expired', undefined, true, false, false],
];

/** Families, and what the HTTP status says when the code is unknown. */
const FALLBACKS: Row[] = [
  ['Throttling.SomethingNew', undefined, true, true, false],
  ['InternalError.Algo', undefined, true, false, false],
  ['AccessDenied.SomethingNew', undefined, false, false, false],
  ['AllocationQuota.FreeTierOnly', undefined, false, false, false],
  ['AllocationQuota.FreeTierOnly', 403, false, false, true],
  ['Audio.AudioSilentError', 430, false, false, false],
  ['BadRequest.Whatever', undefined, false, false, false],
  ['Unknown', 500, true, false, false],
  ['Unknown', 502, true, false, false],
  ['Unknown', 429, true, true, false],
  ['Unknown', 403, false, false, true],
  ['Unknown', 404, false, false, false],
  ['Unknown', undefined, false, false, false],
  ['', undefined, false, false, false],
  // The code is more specific than the status...
  ['InvalidParameter', 500, false, false, false],
  // ...except that 401/403 is always the key (the handshake uses either for a bad key).
  ['AccessDenied', 403, false, false, true],
  ['Throttling', 401, false, false, true],
];

/** [close code, reason, retryable, throttling]: docs/protocol.md "WebSocket close codes". */
type CloseRow = [code: number, reason: string, retryable: boolean, throttling: boolean];

const CLOSES: CloseRow[] = [
  [1000, '', true, false],
  [1001, '', true, false],
  [1003, '', false, false],
  [1005, '', true, false],
  [1006, '', true, false],
  [1007, '', false, false],
  [1009, '', false, false],
  [1011, '', true, false],
  [1012, '', true, false],
  [1013, '', true, true],
  [1014, '', true, false],
  // Codes with no known meaning count as a lost connection: an utterance is not given up on a guess.
  [1002, '', true, false],
  [1008, '', true, false],
  [4000, '', true, false],
  // A reason that names a rate limit wins over the code.
  [1000, 'Throttling.RateQuota: Requests rate limit exceeded, please try again later.', true, true],
  [1011, 'rate limit', true, true],
  [1007, 'Too Many Requests', true, true],
];

describe('error classification', () => {
  for (const [code, status, retryable, throttling, auth] of [...SERVICE_CODES, ...CLIENT_CODES, ...FALLBACKS]) {
    const label = `${code || '(empty)'}${status === undefined ? '' : ` with HTTP ${status}`}`;
    it(`${label}: retryable ${retryable}, throttling ${throttling}, auth ${auth}`, () => {
      const c = classifyError(code, status);
      assert.deepEqual([c.retryable, c.throttling, c.auth], [retryable, throttling, auth]);
      assert.equal(isRetryableCode(code, status), retryable);
      // The same answers through the errors other layers actually hold.
      const err = serviceError('task', code, 'm', status === undefined ? {} : { status });
      assert.equal(err.retryable, retryable);
      assert.equal(isThrottling(err), throttling);
      assert.equal(isAuthFailure(err), auth);
      assert.equal(err.isAuthFailure, auth);
    });
  }

  it('AllocationQuota.* is billing (a quota of a model for this account), while Throttling.AllocationQuota stays a rate limit', () => {
    assert.equal(classifyError('AllocationQuota.FreeTierOnly').kind, 'billing');
    assert.equal(classifyError('AllocationQuota.SomethingNew', 400).kind, 'billing');
    assert.equal(classifyError('Throttling.AllocationQuota').kind, 'throttling');
  });

  it('every code in the table has a row above (a new code needs a decision and a test)', () => {
    const tested = new Set([...SERVICE_CODES, ...CLIENT_CODES].map(([code]) => code));
    assert.deepEqual(Object.keys(ERROR_CODES).filter((code) => !tested.has(code)), []);
  });

  it('recognizes an auth failure: a DashScopeError with an auth code or a 401/403 (one class across nodes: one runtime bundle)', () => {
    const error = (code: string, status?: number): DashScopeError => new DashScopeError({ code, message: 'x', origin: 'handshake', retryable: false, status });
    assert.equal(isAuthFailure(error('NOT AUTHORIZED')), true);
    assert.equal(isAuthFailure(error('Whatever', 403)), true);
    assert.equal(isAuthFailure(authError(401, undefined)), true);
    assert.equal(isAuthFailure(error('InternalError')), false);
    assert.equal(isAuthFailure(undefined), false);
    assert.equal(isAuthFailure(new Error('plain')), false);
    assert.equal(isAuthFailure(Object.assign(new Error('look-alike'), { code: 'InvalidApiKey', status: 401 })), false, 'only what the client made');
  });
});

describe('WebSocket close classification', () => {
  for (const [code, reason, retryable, throttling] of CLOSES) {
    it(`close ${code}${reason ? ` "${reason}"` : ''}: retryable ${retryable}, throttling ${throttling}`, () => {
      const c = classifyClose(code, reason);
      assert.deepEqual([c.retryable, c.throttling, c.auth], [retryable, throttling, false]);
      const err = closedError('task', code, 'closed', 'task-1', reason || undefined);
      assert.equal(err.code, 'ConnectionClosed');
      assert.equal(err.closeCode, code);
      assert.equal(err.retryable, retryable);
      assert.equal(isThrottling(err), throttling);
      assert.equal(isAuthFailure(err), false);
    });
  }

  it('every close code in the table has a row above', () => {
    const tested = new Set(CLOSES.map(([code]) => code));
    assert.deepEqual(Object.keys(CLOSE_CODES).map(Number).filter((code) => !tested.has(code)), []);
  });

  it('puts the code and the (shortened) reason in the message', () => {
    const err = closedError('session', 1011, 'the realtime session closed', undefined, `boom ${'x'.repeat(300)}`);
    assert.match(err.message, /^the realtime session closed \(WebSocket close 1011: boom x+\)$/);
    assert.ok((err.closeReason ?? '').length <= 120);
    assert.equal(closedError('session', 1006, 'gone').message, 'gone (WebSocket close 1006)');
  });

  describe('a CosyVoice task whose connection the service closes', () => {
    let server: WebSocketServer | undefined;
    let connection: CosyVoiceConnection | undefined;
    afterEach(async () => {
      connection?.terminate();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
      connection = undefined;
    });

    /** A server that answers the first instruction by closing with `code`. */
    async function failedTask(code: number): Promise<DashScopeError | undefined> {
      server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      server.on('connection', (ws) => ws.once('message', () => ws.close(code)));
      await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
      const { port } = server.address() as AddressInfo;
      const ws = await openSocket(`ws://127.0.0.1:${port}/api-ws/v1/inference`, { apiKey: 'sk-test-key' }, { connectTimeoutMs: 2000 });
      connection = new CosyVoiceConnection(ws, COSYVOICE_LIMITS);
      const c = connection;
      const params = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm' as const, sampleRate: 16000 };
      return (await runTask((p, h) => c.runTask(p, h), params, ['Hi.'], false).outcome).error;
    }

    it('fails it as final after 1007 (the instruction itself was refused)', async () => {
      const err = await failedTask(1007);
      assert.deepEqual([err?.code, err?.closeCode, err?.retryable], ['ConnectionClosed', 1007, false]);
    });

    it('fails it as retryable after 1011 (the service failed)', async () => {
      const err = await failedTask(1011);
      assert.deepEqual([err?.code, err?.closeCode, err?.retryable], ['ConnectionClosed', 1011, true]);
    });
  });
});
