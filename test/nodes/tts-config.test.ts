import assert from 'node:assert/strict';
import { connectionTuning, parseLimitShare } from '../../src/nodes/tts-config/connection-tuning';
import type { TtsConfigNode } from '../../src/nodes/tts-config/types';
import { DashScopeSimulator } from '../simulator';
import { runTask, waitFor } from '../support/collect';
import { editorDefinition } from '../support/editor-definition';
import { trackSourceTimers } from '../support/handles';
import { builtNode, deployedFlows, freshServerEachTest, helper, type TestFlows } from '../support/node-red';

const KEY = 'sk-test-key';
const ttsConfig = builtNode('tts-config');

describe('tts-config node', () => {
  let sim: DashScopeSimulator;
  const savedEnv = process.env.DASHSCOPE_API_KEY;

  before(async () => {
    sim = await DashScopeSimulator.start();
  });
  after(async () => {
    await sim.close();
  });
  freshServerEachTest({
    before: () => {
      delete process.env.DASHSCOPE_API_KEY;
    },
    after: () => {
      if (savedEnv === undefined) delete process.env.DASHSCOPE_API_KEY;
      else process.env.DASHSCOPE_API_KEY = savedEnv;
    },
  });

  function flow(extra: Record<string, unknown> = {}): TestFlows {
    return [{ id: 'cfg', type: 'tts-config', name: 'sim', region: 'custom', endpoint: sim.baseUrl, workspace: '', keepWarm: false, ...extra }];
  }

  function config(): TtsConfigNode {
    return helper.getNode('cfg') as TtsConfigNode;
  }

  it('builds a connection manager from its credentials and endpoint', async () => {
    await helper.load(ttsConfig, flow(), { cfg: { apiKey: KEY } });
    const node = config();
    assert.equal(node.configError, undefined);
    assert.ok(node.manager);
    const lease = await node.manager.acquireCosyVoice();
    const out = await runTask(lease.runTask, { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 16000 }, ['Hi.'])
      .outcome;
    lease.release();
    assert.equal(out.error, undefined);
    assert.ok(out.audio.length > 0);
  });

  it('sends the workspace header when a workspace is set', async () => {
    await helper.load(ttsConfig, flow({ workspace: 'ws-1234' }), { cfg: { apiKey: KEY } });
    const before = sim.transcripts.length;
    const lease = await config().manager!.acquireCosyVoice();
    lease.release();
    assert.equal(sim.transcripts[before]?.headers['x-dashscope-workspace'], 'ws-1234');
  });

  it('falls back to the DASHSCOPE_API_KEY environment variable', async () => {
    process.env.DASHSCOPE_API_KEY = KEY;
    await helper.load(ttsConfig, flow(), {});
    const lease = await config().manager!.acquireCosyVoice();
    lease.release();
    assert.equal(config().configError, undefined);
  });

  it('without any key it says so instead of connecting', async () => {
    await helper.load(ttsConfig, flow(), {});
    assert.equal(config().manager, undefined);
    assert.match(config().configError ?? '', /no API key/);
  });

  it('refuses a clear-text endpoint that is not on this machine', async () => {
    await helper.load(ttsConfig, flow({ endpoint: 'http://198.51.100.7:8080' }), { cfg: { apiKey: KEY } });
    assert.equal(config().manager, undefined);
    assert.match(config().configError ?? '', /clear text/);
  });

  it('with keepWarm, a registered user gets a socket opened at deploy', async () => {
    await helper.load(ttsConfig, flow({ keepWarm: true }), { cfg: { apiKey: KEY } });
    const before = sim.stats.connections.cosyvoice;
    config().manager!.register({ id: 'user1' }, { prewarmCosyVoice: true });
    await waitFor(() => sim.stats.connections.cosyvoice === before + 1, 2000, 'prewarm');
  });

  it('closing the flow closes every socket and timer it opened', async () => {
    const timers = trackSourceTimers();
    await helper.load(ttsConfig, flow({ keepWarm: true }), { cfg: { apiKey: KEY } });
    const manager = config().manager!;
    manager.register({ id: 'user1' }, { prewarmCosyVoice: true });
    await waitFor(() => manager.stats().idle === 1, 2000, 'prewarm');
    const q = await manager.acquireQwen('qwen3-tts-flash-realtime', { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 });
    q.release();
    assert.ok(sim.stats.openSockets >= 2);
    await helper.unload();
    await waitFor(() => sim.stats.openSockets === 0, 2000, 'all sockets closed');
    assert.equal(manager.stats().open, 0);
    await new Promise((resolve) => setImmediate(resolve));
    timers.stop();
    assert.deepEqual(timers.live(), [], 'no timer survives the close');
  });

  it('keeps the key out of logs, errors and the exported flow', async () => {
    sim.inject({ kind: 'reject-auth', times: 3 });
    const secret = 'sk-this-must-never-leak-0123456789';
    await helper.load(ttsConfig, flow(), { cfg: { apiKey: secret } });
    const err = await config().manager!.acquireCosyVoice().then(
      () => assert.fail('the simulator rejects every key here'),
      (e: Error) => e,
    );
    assert.match(err.message, /invalid API key/);
    const statuses = (config() as unknown as { status: { args?: unknown[][] } }).status.args ?? [];
    const everything = JSON.stringify([deployedFlows(), helper.log().args, statuses, err.message, err.stack, String(err)]);
    assert.ok(everything.includes('tts-config'), 'the capture covers the flow');
    assert.ok(!everything.includes(secret), 'the API key leaked');
    sim.clearFaults();
  });

  it('a limit share outside 1–100 % is said at deploy; the node works with the whole account', async () => {
    await helper.load(ttsConfig, flow({ limitShare: '150' }), { cfg: { apiKey: KEY } });
    const warn = (config() as unknown as { warn: { args: unknown[][] } }).warn;
    assert.ok(warn.args.some((a) => /limit share must be a percentage from 1 to 100 \(got "150"\): using 100/.test(String(a[0]))), 'a clear warning');
    const lease = await config().manager!.acquireCosyVoice();
    lease.release();
  });

  it('a limit share of 50 % halves the task starts this Node-RED sends (three at once become one per window)', async () => {
    // An account of its own (another endpoint): the budget carries over redeploys of one account,
    // so the starts of earlier tests on the shared simulator must not count here.
    const own = await DashScopeSimulator.start();
    try {
      const ownFlow: TestFlows = [{ id: 'cfg', type: 'tts-config', name: 'sim', region: 'custom', endpoint: own.baseUrl, workspace: '', keepWarm: false, limitShare: '50' }];
      await helper.load(ttsConfig, ownFlow, { cfg: { apiKey: KEY } });
      const manager = config().manager!;
      const params = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm' as const, sampleRate: 16000 };
      const leases = await Promise.all([1, 2, 3].map(() => manager.acquireCosyVoice()));
      const started = Date.now();
      const outs = await Promise.all(leases.map((l, i) => runTask(l.runTask, params, [`Share ${i}.`]).outcome));
      leases.forEach((l) => l.release());
      assert.ok(outs.every((o) => !o.error));
      assert.equal(manager.stats().throttled, 2, 'one start per window at half the account');
      assert.ok(Date.now() - started >= 2000, 'the third start came two windows later');
    } finally {
      await helper.unload();
      await own.close();
    }
  });

  it('the editor offers the limit share, 100 by default, and accepts only 1–100', () => {
    const { definition, html } = editorDefinition('tts-config');
    const share = definition.defaults.limitShare;
    assert.ok(share?.validate);
    assert.equal(share.value, 100);
    for (const ok of ['', undefined, 1, '50', 100, '33.3']) assert.equal(share.validate.call({}, ok), true, String(ok));
    for (const bad of [0, '101', 'abc', -5, '1e3']) assert.equal(share.validate.call({}, bad), false, String(bad));
    assert.match(html, /node-config-input-limitShare/);
    assert.match(html, /tts-config\.tip\.limitShare/, 'with a tip');
  });

  it('parses the limit share and the settings.js connection tuning, ignoring anything malformed', () => {
    assert.deepEqual(parseLimitShare(undefined), { share: 100 });
    assert.deepEqual(parseLimitShare(''), { share: 100 });
    assert.deepEqual(parseLimitShare(' 25 '), { share: 25 });
    assert.deepEqual(parseLimitShare(100), { share: 100 });
    for (const bad of [0, 101, 'half', null]) {
      const parsed = parseLimitShare(bad);
      assert.equal(parsed.share, 100);
      assert.equal(parsed.problem === undefined, bad === null, String(bad));
    }
    assert.deepEqual(
      connectionTuning({
        ttsConfigConnection: {
          backoff: { baseMs: 100, maxMs: 5000, waitingMaxMs: 500, maxAttempts: 4 },
          waitDeadlineMs: 10_000,
          keepWarmWindowMs: 60_000,
          qwenIdleMs: 30_000,
          qwenRequestsPerMinute: { 'qwen-tts-realtime': 60, bad: -1 },
          taskStartsPerSecond: 'many',
        },
      }),
      {
        qwenIdleMs: 30_000,
        keepWarmWindowMs: 60_000,
        reconnect: { baseMs: 100, maxMs: 5000, waitingMaxMs: 500, deadlineMs: 10_000 },
        qwenRequestsPerMinute: { 'qwen-tts-realtime': 60 },
      },
    );
    assert.deepEqual(connectionTuning({ ttsConfigConnection: { backoff: { baseMs: 100 }, waitDeadlineMs: 0 } }), {}, 'an incomplete backoff and a zero deadline are ignored');
    assert.deepEqual(connectionTuning({}), {});
  });

  it('serves the model and voice catalog to the edit dialogs', async () => {
    await helper.load(ttsConfig, flow(), { cfg: { apiKey: KEY } });
    const res = await helper.request().get('/dashscope-tts/catalog').expect(200);
    const body = res.body as { models: { id: string; family: string; formats: string[] }[]; voices: { cosyvoice: { id: string; models: string[] }[]; qwen: { id: string }[] } };
    const cosy = body.models.filter((m) => m.family === 'cosyvoice').map((m) => m.id);
    assert.deepEqual(cosy.sort(), ['cosyvoice-v1', 'cosyvoice-v2', 'cosyvoice-v3-flash', 'cosyvoice-v3-plus', 'cosyvoice-v3.5-flash', 'cosyvoice-v3.5-plus']);
    assert.ok(body.models.some((m) => m.id === 'qwen3-tts-vc-realtime-2026-01-15'), 'dated snapshots and vc/vd models are offered');
    assert.ok(body.voices.cosyvoice.find((v) => v.id === 'longanyang')?.models.includes('cosyvoice-v3-flash'));
    assert.ok(body.voices.qwen.some((v) => v.id === 'Cherry'));
    assert.ok(!JSON.stringify(body).includes(KEY));
  });
});

