/** The customization client, the temporary upload and the deployment wait, against the simulator. */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustomizationClient } from '../../src/dashscope/customization';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import type { DashScopeError } from '../../src/dashscope/errors';
import type { HttpAccess } from '../../src/dashscope/http-json';
import { postToOss, requestUploadPolicy, uploadTemporaryFile } from '../../src/dashscope/temporary-upload';
import { waitUntilDeployed } from '../../src/voices/deployment';
import { inspectSample, toDataUri } from '../../src/voices/sample';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { trackSourceTimers } from '../support/handles';
import { wavSample } from '../support/voice-samples';

const KEY = 'sk-test-key';

function accessTo(base: string, apiKey = KEY, workspace?: string): HttpAccess {
  const e = resolveEndpoints({ region: 'custom', endpoint: base });
  return { endpoints: { httpBase: e.httpBase, customization: e.customization }, credentials: { apiKey, workspace } };
}

async function failure(p: Promise<unknown>): Promise<DashScopeError> {
  return p.then(
    () => assert.fail('expected a failure'),
    (e: DashScopeError) => e,
  );
}

/** A local HTTP server whose handler the test writes, for what the simulator cannot show. */
async function fakeServer(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('customization client', () => {
  let sim: DashScopeSimulator;
  let access: HttpAccess;
  let client: CustomizationClient;

  async function start(options: SimulatorOptions = {}): Promise<void> {
    sim = await DashScopeSimulator.start(options);
    access = accessTo(sim.baseUrl);
    client = new CustomizationClient(access);
  }

  afterEach(async () => {
    await sim?.close();
  });

  it('CosyVoice clone from a local WAV: temporary upload, create with oss://, list, query, update, delete', async () => {
    await start();
    const sample = inspectSample(wavSample({ sampleRate: 16000, seconds: 12 }), 'cosyvoice');
    const url = await uploadTemporaryFile(access, 'voice-enrollment', { name: 'my voice.wav', bytes: sample.bytes, contentType: sample.mime });
    assert.match(url, /^oss:\/\/dashscope-instant\/[0-9a-f]{32}\/\d{4}-\d\d-\d\d\/[0-9a-f-]{36}\/my_voice\.wav$/);
    const stored = sim.uploads.objects()[0];
    assert.ok(stored?.bytes.equals(sample.bytes));
    assert.equal(stored?.model, 'voice-enrollment', 'the policy is for the consuming service, not the target model');

    const created = await client.createCosyVoiceClone({ targetModel: 'cosyvoice-v3-flash', prefix: 'myvoice', url, languageHints: ['en'] });
    assert.match(created.voice, /^cosyvoice-v3-flash-myvoice-[0-9a-f]{32}$/);
    assert.equal(sim.voices.get(created.voice)?.url, url);

    const listed = await client.list('voice-enrollment');
    assert.deepEqual(
      listed.map((v) => [v.voice, v.kind, v.targetModel, v.family]),
      [[created.voice, 'clone', 'cosyvoice-v3-flash', 'cosyvoice']],
      'the target model is read from the id when the list leaves it out',
    );
    const queried = await client.query('voice-enrollment', created.voice);
    assert.deepEqual([queried.status, queried.sampleUrl, queried.targetModel], ['OK', url, 'cosyvoice-v3-flash']);

    await client.updateCosyVoiceClone(created.voice, 'https://example.com/better.wav');
    assert.equal(sim.voices.get(created.voice)?.url, 'https://example.com/better.wav');
    await client.remove('voice-enrollment', created.voice);
    const gone = await failure(client.query('voice-enrollment', created.voice));
    assert.deepEqual([gone.code, gone.status], ['BadRequest.ResourceNotExist', 400]);
  });

  it('CosyVoice design: preview audio and a designed voice that lists and queries as a design', async () => {
    await start();
    const created = await client.createCosyVoiceDesign({
      targetModel: 'cosyvoice-v3.5-plus',
      name: 'announcer',
      voicePrompt: '沉稳的中年男性播音员。',
      previewText: '各位听众朋友，大家好。',
      language: 'zh',
      sampleRate: 16000,
      format: 'wav',
    });
    assert.match(created.voice, /^cosyvoice-v3\.5-plus-vd-announcer-[0-9a-f]{32}$/);
    assert.deepEqual([created.preview?.format, created.preview?.sampleRate], ['wav', 16000]);
    assert.equal(created.preview?.data.toString('latin1', 0, 4), 'RIFF');
    const [entry] = await client.list('voice-enrollment');
    assert.deepEqual([entry?.kind, entry?.voicePrompt], ['design', '沉稳的中年男性播音员。']);
    const q = await client.query('voice-enrollment', created.voice);
    assert.deepEqual([q.kind, q.previewText, q.targetModel], ['design', '各位听众朋友，大家好。', 'cosyvoice-v3.5-plus']);
  });

  it('Qwen clone: a data-URI sample, list, query through the list (there is no query action), delete', async () => {
    await start({ customization: { qwenCloneFallbackReason: 'no_valid_asr_segments' } });
    const sample = inspectSample(wavSample({ sampleRate: 24000, seconds: 8 }), 'qwen');
    const created = await client.createQwenClone({ targetModel: 'qwen3-tts-vc-realtime-2026-01-15', preferredName: 'guan_yu', audio: toDataUri(sample), language: 'en' });
    assert.match(created.voice, /^qwen-tts-vc-guan_yu-voice-\d{17}-[0-9a-f]{4}$/);
    assert.equal(created.fallbackReason, 'no_valid_asr_segments');
    const q = await client.query('qwen-voice-enrollment', created.voice);
    assert.deepEqual([q.kind, q.status, q.targetModel, q.language], ['clone', 'OK', 'qwen3-tts-vc-realtime-2026-01-15', 'en']);
    const missing = await failure(client.query('qwen-voice-enrollment', 'qwen-tts-vc-nobody'));
    assert.equal(missing.code, 'VoiceNotFound');
    // An already uploaded sample (oss://) sits inside audio.data: the resolve header still goes along.
    const uploaded = await uploadTemporaryFile(access, 'qwen-voice-enrollment', { name: 'q.wav', bytes: sample.bytes, contentType: sample.mime });
    await client.createQwenClone({ targetModel: 'qwen3-tts-vc-realtime-2026-01-15', preferredName: 'from_oss', audio: uploaded });
    await client.remove('qwen-voice-enrollment', created.voice);
    const again = await failure(client.remove('qwen-voice-enrollment', created.voice));
    assert.deepEqual([again.code, again.status], ['BadRequest.VoiceNotFound', 400]);
  });

  it('Qwen design: create with a PCM preview, query, list, delete; an unknown voice is VoiceNotFound', async () => {
    await start();
    const created = await client.createQwenDesign({
      targetModel: 'qwen3-tts-vd-realtime-2026-01-15',
      name: 'announcer',
      voicePrompt: 'A calm announcer.',
      previewText: 'Dear listeners, hello everyone.',
      language: 'en',
      sampleRate: 24000,
      format: 'pcm',
    });
    assert.match(created.voice, /^qwen-tts-vd-announcer-voice-/);
    assert.deepEqual([created.preview?.format, created.preview?.sampleRate], ['pcm', 24000]);
    assert.ok((created.preview?.data.length ?? 0) > 0);
    const q = await client.query('qwen-voice-design', created.voice);
    assert.deepEqual([q.kind, q.voicePrompt, q.language], ['design', 'A calm announcer.', 'en']);
    assert.equal((await client.list('qwen-voice-design')).length, 1);
    await client.remove('qwen-voice-design', created.voice);
    const gone = await failure(client.query('qwen-voice-design', created.voice));
    assert.equal(gone.code, 'VoiceNotFound');
  });

  it('lists every page of a service that holds more voices than one page', async () => {
    await start();
    for (let i = 0; i < 150; i++) sim.voices.add({ service: 'qwen-voice-enrollment', targetModel: 'qwen3-tts-vc-realtime-2026-01-15', name: `v${i}` });
    for (let i = 0; i < 101; i++) sim.voices.add({ service: 'voice-enrollment', targetModel: 'cosyvoice-v2', name: `c${i}`, status: 'OK' });
    const before = sim.stats.httpRequests;
    assert.equal((await client.list('qwen-voice-enrollment')).length, 150);
    assert.equal((await client.list('voice-enrollment')).length, 101);
    assert.equal(sim.stats.httpRequests - before, 4, 'two pages each');
  });

  it('says plainly when the voice quota is full or requests come too fast, and keeps the service code', async () => {
    await start({ customization: { quota: 1 }, uploads: { policyRatePerSecond: 1 } });
    const make = () => client.createQwenClone({ targetModel: 'qwen3-tts-vc-realtime-2026-01-15', preferredName: 'a', audio: toDataUri(inspectSample(wavSample(), 'qwen')) });
    await make();
    const quota = await failure(make());
    assert.equal(quota.code, 'Throttling.AllocationQuota');
    assert.match(quota.message, /^voice quota reached: .*delete voices you no longer use/);
    assert.match(quota.message, /Maximum voice-clone voice limit exceeded/);
    await requestUploadPolicy(access, 'voice-enrollment');
    const rate = await failure(requestUploadPolicy(access, 'voice-enrollment'));
    assert.deepEqual([rate.code, rate.status, rate.retryable], ['Throttling.RateQuota', 429, true]);
  });

  it('a refused key is reported in our words, never with the key', async () => {
    await start();
    const secret = 'sk-never-echo-this-0123456789';
    const err = await failure(new CustomizationClient(accessTo(sim.baseUrl, secret)).list('qwen-voice-design'));
    assert.deepEqual([err.code, err.status], ['InvalidApiKey', 401]);
    assert.match(err.message, /invalid API key/);
    assert.ok(!JSON.stringify([err.message, err.stack, String(err)]).includes(secret));
  });

  it('an unreachable service is a retryable NetworkError', async () => {
    await start();
    await sim.stopListening();
    const err = await failure(client.list('voice-enrollment'));
    assert.deepEqual([err.code, err.retryable], ['NetworkError', true]);
    assert.match(err.message, /ECONNREFUSED/);
  });
});

describe('temporary upload against servers that misbehave', () => {
  it('never sends the API key to the storage host, and reads numeric strings in the policy', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = await fakeServer((req, res) => {
      seen.push(req.headers);
      if (req.url?.startsWith('/api/v1/uploads')) {
        const data = {
          policy: 'cG9saWN5',
          signature: 'c2ln',
          upload_dir: 'dashscope-instant/abc/2026-01-01/x',
          upload_host: `http://127.0.0.1:${(req.socket.localPort ?? 0).toString()}/bucket`,
          expire_in_seconds: '300',
          max_file_size_mb: '1',
          capacity_limit_mb: '999999999',
          oss_access_key_id: 'LTAIx',
          x_oss_object_acl: 'private',
          x_oss_forbid_overwrite: 'true',
        };
        res.end(JSON.stringify({ request_id: 'r', data }));
        return;
      }
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    try {
      const access = accessTo(server.url, KEY, 'ws-1234');
      const policy = await requestUploadPolicy(access, 'voice-enrollment');
      assert.equal(policy.maxBytes, 1024 * 1024);
      const url = await uploadTemporaryFile(access, 'voice-enrollment', { name: 'a.wav', bytes: Buffer.alloc(10), contentType: 'audio/wav' });
      assert.equal(url, 'oss://dashscope-instant/abc/2026-01-01/x/a.wav');
      const tooBig = await failure(uploadTemporaryFile(access, 'voice-enrollment', { name: 'b.wav', bytes: Buffer.alloc(1024 * 1024 + 1), contentType: 'audio/wav' }));
      assert.equal(tooBig.code, 'InvalidSample');
      const upload = seen.find((h) => String(h['content-type']).startsWith('multipart/form-data'));
      assert.ok(upload, 'the form reached the bucket');
      assert.equal(upload.authorization, undefined);
      assert.equal(seen[0]?.authorization, `Bearer ${KEY}`, 'the policy call is authenticated');
      assert.equal(seen[0]?.['x-dashscope-workspace'], 'ws-1234');
      assert.match(String(seen[0]?.['user-agent']), /node-red-contrib-dashscope-tts\//);
      assert.equal(upload['x-dashscope-workspace'], undefined, 'nothing of the account goes to the storage host');
      assert.equal(seen.filter((h) => String(h['content-type']).startsWith('multipart')).length, 1, 'the oversize file was not uploaded');
    } finally {
      await server.close();
    }
  });

  it('reports an OSS XML error with its code, and refuses a plain-http storage host elsewhere', async () => {
    let host = '';
    const server = await fakeServer((req, res) => {
      if (req.url?.startsWith('/api/v1/uploads')) {
        const data = { policy: 'p', signature: 's', upload_dir: 'd', upload_host: host, max_file_size_mb: 10, oss_access_key_id: 'k', x_oss_object_acl: 'private', x_oss_forbid_overwrite: 'true' };
        res.end(JSON.stringify({ request_id: 'r', data }));
        return;
      }
      req.resume();
      res.writeHead(403, { 'Content-Type': 'application/xml' }).end('<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message><RequestId>R1</RequestId></Error>');
    });
    try {
      const file = { name: 'a.wav', bytes: Buffer.alloc(10), contentType: 'audio/wav' };
      host = `${server.url}/bucket`;
      const expired = await failure(uploadTemporaryFile(accessTo(server.url), 'voice-enrollment', file));
      assert.deepEqual([expired.code, expired.status, expired.requestId], ['AccessDenied', 403, 'R1']);
      assert.match(expired.message, /Policy expired/);
      // The service is reached over https: a plain-http storage host elsewhere would expose the sample.
      const policy = await requestUploadPolicy(accessTo(server.url), 'voice-enrollment');
      const clear = await failure(postToOss({ ...policy, uploadHost: 'http://198.51.100.7/bucket' }, file, 'https://dashscope.aliyuncs.com/api/v1'));
      assert.equal(clear.code, 'BadResponse');
      assert.match(clear.message, /refusing to send the sample to http:\/\/198\.51\.100\.7 \(not https\)/);
    } finally {
      await server.close();
    }
  });

  it('gives up after its timeout, or at once when aborted, and leaves no timer behind', async () => {
    const server = await fakeServer(() => undefined); // never answers
    const timers = trackSourceTimers();
    try {
      const client = new CustomizationClient(accessTo(server.url), { timeoutMs: 100 });
      const slow = await failure(client.list('voice-enrollment'));
      assert.deepEqual([slow.code, slow.retryable], ['ResponseTimeout', true]);
      const aborter = new AbortController();
      const pending = failure(new CustomizationClient(accessTo(server.url), { signal: aborter.signal }).list('voice-enrollment'));
      setTimeout(() => aborter.abort(), 20);
      assert.equal((await pending).code, 'Closed');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(timers.live(), []);
    } finally {
      timers.stop();
      await server.close();
    }
  });
});

describe('waiting for a CosyVoice voice to deploy', () => {
  let sim: DashScopeSimulator;
  afterEach(async () => {
    await sim?.close();
  });

  async function cloneFrom(url: string, options: SimulatorOptions): Promise<{ client: CustomizationClient; voice: string }> {
    sim = await DashScopeSimulator.start(options);
    const client = new CustomizationClient(accessTo(sim.baseUrl));
    const { voice } = await client.createCosyVoiceClone({ targetModel: 'cosyvoice-v2', prefix: 'wait', url });
    return { client, voice };
  }

  it('polls DEPLOYING until OK, reporting each status', async () => {
    const { client, voice } = await cloneFrom('https://example.com/a.wav', { customization: { deployMs: 120 } });
    const seen: string[] = [];
    const ok = await waitUntilDeployed(voice, () => client.query('voice-enrollment', voice), { intervalMs: 30, timeoutMs: 5000, onStatus: (v) => seen.push(v.status) });
    assert.equal(ok.status, 'OK');
    assert.equal(seen[0], 'DEPLOYING');
    assert.ok(seen.length >= 3, seen.join());
    assert.equal(seen[seen.length - 1], 'OK');
  });

  it('an UNDEPLOYED voice is a clear VoiceUndeployed error', async () => {
    const url = 'https://example.com/noisy.wav';
    const { client, voice } = await cloneFrom(url, { customization: { deployMs: 50, urlFailures: { [url]: 'undeployed' } } });
    const err = await failure(waitUntilDeployed(voice, () => client.query('voice-enrollment', voice), { intervalMs: 20, timeoutMs: 5000 }));
    assert.equal(err.code, 'VoiceUndeployed');
    assert.match(err.message, new RegExp(`rejected voice ${voice} \\(status UNDEPLOYED\\)`));
  });

  it('running out of time is DeployTimeout; closing stops the wait at once, with no timer left', async () => {
    const { client, voice } = await cloneFrom('https://example.com/a.wav', { customization: { deployMs: 60_000 } });
    const query = () => client.query('voice-enrollment', voice);
    const started = Date.now();
    const late = await failure(waitUntilDeployed(voice, query, { intervalMs: 40, timeoutMs: 200 }));
    assert.equal(late.code, 'DeployTimeout');
    assert.match(late.message, /still DEPLOYING after/);
    assert.ok(Date.now() - started < 1000);

    const timers = trackSourceTimers();
    const aborter = new AbortController();
    const pending = failure(waitUntilDeployed(voice, query, { intervalMs: 10_000, timeoutMs: 60_000, signal: aborter.signal }));
    setTimeout(() => aborter.abort(), 50);
    assert.equal((await pending).code, 'Closed');
    await new Promise((resolve) => setImmediate(resolve));
    timers.stop();
    assert.deepEqual(timers.live(), []);
  });
});
