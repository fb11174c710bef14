import assert from 'node:assert/strict';
import { accountId, heldAccounts, holdAccount, qwenRequestsPerMinute, shareOf, DEFAULT_QUOTA } from '../../src/connection/account-limits';
import { ConnectionManager, type ManagerOptions } from '../../src/connection/connection-manager';
import type { CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import type { DashScopeError } from '../../src/dashscope/errors';
import type { QwenSessionSettings } from '../../src/dashscope/qwen-realtime';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { runTask } from '../support/collect';
import { trackSourceTimers } from '../support/handles';

const KEY_A = 'sk-account-a';
const KEY_B = 'sk-account-b';
const params: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000 };
const cherry: QwenSessionSettings = { voice: 'Cherry', mode: 'commit', responseFormat: 'pcm', sampleRate: 24000 };
const QWEN = 'qwen3-tts-flash-realtime';

/** Run-task arrivals at the simulator, by API key, in ms since `since`. */
function runTaskArrivals(sim: DashScopeSimulator, since: number): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (const t of sim.transcripts) {
    const key = String(t.headers.authorization ?? '').replace(/^Bearer /, '');
    for (const e of t.entries) {
      const action = ((e.json as { header?: { action?: string } } | undefined)?.header ?? {}).action;
      if (e.dir === 'C' && action === 'run-task') byKey.set(key, [...(byKey.get(key) ?? []), e.at - since]);
    }
  }
  for (const list of byKey.values()) list.sort((a, b) => a - b);
  return byKey;
}

/** The most starts seen within any 1000 ms. */
function busiestSecond(times: number[]): number {
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
}

describe('account limits: shares and the per-account registry', () => {
  it('a share of the account keeps bursts within it, stretching the window below one start', () => {
    assert.deepEqual(shareOf(3, 1000, 100), { count: 3, windowMs: 1100 });
    assert.deepEqual(shareOf(3, 1000, 50), { count: 1, windowMs: 1100 }, 'two instances at 50 %: at most 2 a second together');
    assert.deepEqual(shareOf(3, 1000, 25), { count: 1, windowMs: 1433 }, 'a quarter: 0.75 starts a second');
    assert.deepEqual(shareOf(180, 60_000, 100), { count: 180, windowMs: 60_100 });
    assert.deepEqual(shareOf(10, 60_000, 50), { count: 5, windowMs: 60_100 });
    assert.deepEqual(shareOf(0, 1000, 40), { count: 0, windowMs: 1100 }, 'no limit stays no limit');
  });

  it('Qwen rates per model follow the notes (§7), overridable for a raised quota', () => {
    assert.equal(qwenRequestsPerMinute('qwen3-tts-flash-realtime'), 180);
    assert.equal(qwenRequestsPerMinute('qwen3-tts-instruct-flash-realtime'), 180);
    assert.equal(qwenRequestsPerMinute('qwen3-tts-flash-realtime-2025-09-18'), 10);
    assert.equal(qwenRequestsPerMinute('qwen-tts-realtime'), 10);
    assert.equal(qwenRequestsPerMinute('qwen-tts-realtime-latest'), 10);
    assert.equal(qwenRequestsPerMinute('qwen-tts-realtime', { 'qwen-tts-realtime': 60 }), 60);
  });

  it('the registry is keyed by a hash of endpoint and key, never the key', () => {
    const id = accountId(KEY_A, 'https://dashscope.aliyuncs.com/api/v1');
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.ok(!id.includes(KEY_A));
    assert.equal(id, accountId(KEY_A, 'https://dashscope.aliyuncs.com/api/v1'));
    assert.notEqual(id, accountId(KEY_A, 'https://dashscope-intl.aliyuncs.com/api/v1'), 'another region is another account');
    assert.notEqual(id, accountId(KEY_B, 'https://dashscope.aliyuncs.com/api/v1'));
  });

  it('holders of one account share its limiters; the smallest share wins; the last one out closes them', () => {
    const before = heldAccounts();
    const a = holdAccount('acct-1', DEFAULT_QUOTA);
    const b = holdAccount('acct-1', { ...DEFAULT_QUOTA, limitShare: 50 });
    const other = holdAccount('acct-2', DEFAULT_QUOTA);
    assert.equal(a.cosyvoice, b.cosyvoice);
    assert.equal(a.qwen(QWEN), b.qwen(QWEN));
    assert.notEqual(a.cosyvoice, other.cosyvoice);
    assert.notEqual(a.qwen(QWEN), a.qwen('qwen-tts-realtime'), 'per model');
    assert.deepEqual(a.cosyvoice.limit, { count: 1, windowMs: 1100 }, 'the 50 % share applies to both');
    assert.deepEqual(a.qwen(QWEN).limit, { count: 90, windowMs: 60_100 });
    b.release();
    assert.deepEqual(a.cosyvoice.limit, { count: 3, windowMs: 1100 }, 'back to the whole account');
    assert.equal(heldAccounts(), before + 2);
    a.release();
    a.release();
    other.release();
    assert.equal(heldAccounts(), before);
  });
  it('a redeploy does not get a fresh budget: the account outlives its last holder by one window, with no timer', async () => {
    const timers = trackSourceTimers();
    const id = 'acct-redeploy';
    const old = holdAccount(id, DEFAULT_QUOTA);
    const ran: number[] = [];
    for (let i = 0; i < 3; i++) assert.equal(old.cosyvoice.schedule(() => ran.push(i)), undefined, 'within the budget: at once');
    old.release(); // the old config node closed
    assert.equal(heldAccounts(), 0);
    const redeployed = holdAccount(id, DEFAULT_QUOTA);
    assert.equal(redeployed.cosyvoice, old.cosyvoice, 'the same limiter, history and all');
    const fourth = redeployed.cosyvoice.schedule(() => ran.push(3));
    assert.ok(fourth, 'the fourth start in the same second waits instead of being refused by the service');
    fourth.cancel();
    redeployed.release();
    await new Promise((r) => setTimeout(r, 1200)); // the 1.1 s window of the starts above
    const later = holdAccount(id, DEFAULT_QUOTA);
    assert.notEqual(later.cosyvoice, old.cosyvoice, 'after the window the account starts afresh');
    later.release();
    await new Promise((resolve) => setImmediate(resolve));
    timers.stop();
    assert.deepEqual(timers.live(), [], 'keeping the account costs no timer');
    assert.deepEqual(ran, [0, 1, 2]);
  });
});

describe('account limits across connection managers (simulator)', () => {
  let sim: DashScopeSimulator;
  const managers: ConnectionManager[] = [];

  async function start(simOptions: SimulatorOptions): Promise<void> {
    sim = await DashScopeSimulator.start({ apiKeys: [KEY_A, KEY_B], ...simOptions });
  }

  function manager(apiKey: string, options: Partial<ManagerOptions> = {}): ConnectionManager {
    const m = new ConnectionManager({
      endpoints: resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }),
      credentials: { apiKey },
      keepWarm: false,
      reconnect: { baseMs: 20, maxMs: 200 },
      ...options,
    });
    managers.push(m);
    return m;
  }

  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    await sim?.close();
  });

  it('two managers with one key: a burst of task starts across both is spaced to 3 a second, none refused', async () => {
    await start({ cosyvoice: { rateLimitPerSecond: 3 } });
    const [m1, m2] = [manager(KEY_A), manager(KEY_A)];
    const leases = await Promise.all([...Array.from({ length: 4 }, () => m1.acquireCosyVoice()), ...Array.from({ length: 4 }, () => m2.acquireCosyVoice())]);
    const since = Date.now();
    const outs = await Promise.all(leases.map((l, i) => runTask(l.runTask, params, [`Burst ${i}.`]).outcome));
    leases.forEach((l) => l.release());
    assert.deepEqual(outs.map((o) => o.error?.code), outs.map(() => undefined), 'the service refused none of them');
    assert.equal(sim.stats.tasks.failed, 0);
    const arrivals = runTaskArrivals(sim, since).get(KEY_A) ?? [];
    assert.equal(arrivals.length, 8);
    assert.ok(busiestSecond(arrivals) <= 3, `at most 3 starts in any second: ${arrivals.join(', ')}`);
    assert.ok((arrivals.at(-1) as number) >= 2000, 'eight starts need three windows');
    assert.equal(m1.stats().throttled + m2.stats().throttled, 5, 'three went at once, five waited their turn');
  });

  it('managers with different keys do not share: each account starts its own three at once', async () => {
    await start({ cosyvoice: { rateLimitPerSecond: 3 } });
    const [a, b] = [manager(KEY_A), manager(KEY_B)];
    const leases = await Promise.all([...Array.from({ length: 3 }, () => a.acquireCosyVoice()), ...Array.from({ length: 3 }, () => b.acquireCosyVoice())]);
    const since = Date.now();
    const outs = await Promise.all(leases.map((l, i) => runTask(l.runTask, params, [`Own budget ${i}.`]).outcome));
    leases.forEach((l) => l.release());
    assert.ok(outs.every((o) => !o.error));
    assert.equal(a.stats().throttled + b.stats().throttled, 0, 'nobody waited');
    const arrivals = runTaskArrivals(sim, since);
    assert.ok([...(arrivals.get(KEY_A) ?? []), ...(arrivals.get(KEY_B) ?? [])].every((t) => t < 500));
  });

  it('Qwen: sessions of one model count against the account across managers, and queue for the window', async () => {
    await start({});
    const quota = { qwenRequestsPerMinute: { [QWEN]: 2 }, qwenRateWindowMs: 600 };
    const [m1, m2] = [manager(KEY_A, quota), manager(KEY_A, quota)];
    const since = Date.now();
    const opened: number[] = [];
    const leases = await Promise.all(
      [m1, m2, m1, m2].map((m) =>
        m.acquireQwen(QWEN, cherry).then((lease) => {
          opened.push(Date.now() - since);
          return lease;
        }),
      ),
    );
    leases.forEach((l) => l.discard());
    opened.sort((x, y) => x - y);
    assert.ok((opened[1] as number) < 300, `two at once: ${opened.join(', ')}`);
    assert.ok((opened[2] as number) >= 600, `the third waited for the window: ${opened.join(', ')}`);
    assert.equal(m1.stats().throttled + m2.stats().throttled, 2);
  });

  it('Qwen: another key, another budget', async () => {
    await start({});
    const quota = { qwenRequestsPerMinute: { [QWEN]: 1 }, qwenRateWindowMs: 60_000 };
    const [a, b] = [manager(KEY_A, quota), manager(KEY_B, quota)];
    const leases = await Promise.all([a.acquireQwen(QWEN, cherry), b.acquireQwen(QWEN, cherry)]);
    leases.forEach((l) => l.discard());
    assert.equal(a.stats().throttled + b.stats().throttled, 0);
  });

  it('Qwen: refused connections never reached the service, so they do not use up the model budget', async () => {
    await start({});
    const m = manager(KEY_A, { qwenRequestsPerMinute: { [QWEN]: 1 }, qwenRateWindowMs: 60_000 });
    await sim.stopListening();
    const pending = m.acquireQwen(QWEN, cherry);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(m.stats().failed >= 2, 'several refused attempts');
    await sim.resumeListening();
    const started = Date.now();
    const lease = await pending;
    lease.discard();
    assert.ok(Date.now() - started < 1000, 'not held back for the minute');
  });

  it('Qwen: failed handshakes give their slot back, and a wait for a slot never outlasts the deadline', async () => {
    await start({});
    const deadlineMs = 700;
    const m = manager(KEY_A, { qwenRequestsPerMinute: { [QWEN]: 2 }, qwenRateWindowMs: 60_000, reconnect: { baseMs: 20, maxMs: 200, waitingMaxMs: 50, deadlineMs } });
    // An outage answered with 503 at the handshake: the service created no session, so counted no request.
    sim.inject({ kind: 'http-error', status: 503, service: 'qwen', times: Infinity });
    let started = Date.now();
    await assert.rejects(m.acquireQwen(QWEN, cherry), (e: DashScopeError) => e.retryable && /within 0.7 s/.test(e.message) && e.status === 503);
    assert.ok(Date.now() - started < deadlineMs + 500, `failed at the deadline (${Date.now() - started} ms), not after the 60 s window`);
    assert.ok(m.stats().failed >= 5, `kept trying to the deadline: ${m.stats().failed} attempts on a budget of 2`);
    sim.clearFaults();
    // The budget is whole: two sessions at once.
    const two = await Promise.all([m.acquireQwen(QWEN, cherry), m.acquireQwen(QWEN, cherry)]);
    two.forEach((l) => l.discard());
    // The budget is spent for the minute: the third waits for a slot only until its deadline.
    started = Date.now();
    await assert.rejects(m.acquireQwen(QWEN, cherry), (e: DashScopeError) => e.retryable && e.code === 'Throttling.RateQuota' && /rate limit/.test(e.message));
    const waited = Date.now() - started;
    assert.ok(waited >= deadlineMs - 50 && waited < deadlineMs + 500, `gave up at the deadline: ${waited} ms`);
    const hold = holdAccount(accountId(KEY_A, resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }).httpBase), DEFAULT_QUOTA);
    assert.equal(hold.qwen(QWEN).pending, 0, 'its place in the line given up');
    hold.release();
    assert.equal(sim.stats.connections.qwen, 2, 'no session beyond the budget');
  });

  it('closing a manager rejects its own waiting starts; the last manager of the account out leaves no timer', async () => {
    await start({});
    const timers = trackSourceTimers();
    const quota = { qwenRequestsPerMinute: { [QWEN]: 1 }, qwenRateWindowMs: 60_000 };
    const [m1, m2] = [manager(KEY_A, quota), manager(KEY_A, quota)];
    const first = await m1.acquireQwen(QWEN, cherry);
    first.discard();
    const waiting = m2.acquireQwen(QWEN, cherry).then(
      () => 'opened',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(m2.stats().throttled, 1);
    await m2.close();
    assert.match(await waiting, /closed/);
    await m1.close();
    await sim.close();
    await new Promise((resolve) => setImmediate(resolve));
    timers.stop();
    assert.deepEqual(timers.live(), [], 'the account limiter timer went with its last manager');
  });
});
