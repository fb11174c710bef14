import assert from 'node:assert/strict';
import sinon from 'sinon';
import { backoffDelay } from '../../src/connection/backoff';
import { ConnectGate } from '../../src/connection/connect-gate';
import { RateLimiter } from '../../src/connection/rate-limiter';
import { DashScopeError } from '../../src/dashscope/errors';

const policy = { baseMs: 500, maxMs: 8000, maxAttempts: 6 };

function refused(): DashScopeError {
  return new DashScopeError({ code: 'NetworkError', message: 'ECONNREFUSED', origin: 'network', retryable: true });
}

describe('backoff', () => {
  it('doubles up to the ceiling, with jitter in the upper half', () => {
    const low = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, () => 0));
    const high = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, () => 1));
    assert.deepEqual(low, [250, 500, 1000, 2000, 4000, 4000]);
    assert.deepEqual(high, [500, 1000, 2000, 4000, 8000, 8000]);
  });
});

describe('ConnectGate (fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('waits an exponentially growing, jittered delay between failed attempts', async () => {
    const gate = new ConnectGate(policy, () => 0.5);
    const attemptsAt: number[] = [];
    let calls = 0;
    const result = gate.attempt(async () => {
      attemptsAt.push(Date.now());
      if (++calls < 5) throw refused();
      return 'open';
    });
    await clock.runAllAsync();
    assert.equal(await result, 'open');
    assert.deepEqual(gate.waits, [375, 750, 1500, 3000]);
    assert.deepEqual(
      attemptsAt.map((t) => t - (attemptsAt[0] as number)),
      [0, 375, 1125, 2625, 5625],
    );
    assert.equal(gate.failures, 0, 'a success resets the failure count');
  });

  it('gives up after maxAttempts with the last error', async () => {
    const gate = new ConnectGate({ ...policy, maxAttempts: 3 }, () => 0);
    let calls = 0;
    const result = gate.attempt(async () => {
      calls++;
      throw refused();
    });
    const settled = result.catch((e: unknown) => e);
    await clock.runAllAsync();
    const err = await settled;
    assert.ok(err instanceof DashScopeError);
    assert.equal(err.code, 'NetworkError');
    assert.equal(calls, 3);
  });

  it('an auth failure is never retried, and later attempts fail without a request', async () => {
    const gate = new ConnectGate(policy, () => 0);
    let calls = 0;
    const auth = new DashScopeError({ code: 'InvalidApiKey', message: 'invalid API key', origin: 'handshake', retryable: false, status: 401 });
    await assert.rejects(
      gate.attempt(async () => {
        calls++;
        throw auth;
      }),
      /invalid API key/,
    );
    for (let i = 0; i < 20; i++) {
      await assert.rejects(
        gate.attempt(async () => {
          calls++;
          return 1;
        }),
        /invalid API key/,
      );
    }
    assert.equal(calls, 1);
    assert.equal(gate.waits.length, 0);
  });

  it('shares the backoff window between concurrent callers', async () => {
    const gate = new ConnectGate(policy, () => 1);
    const first = gate.attempt(async () => {
      throw refused();
    });
    void first.catch(() => undefined);
    await clock.tickAsync(0);
    const startedAt = Date.now();
    let openedAt = -1;
    const second = gate.attempt(async () => {
      openedAt = Date.now();
      return true;
    });
    await clock.tickAsync(499);
    assert.equal(openedAt, -1, 'a second caller must not bypass the backoff');
    await clock.tickAsync(1);
    await second;
    assert.equal(openedAt - startedAt, 500);
    gate.close();
    await clock.runAllAsync();
  });

  it('close() wakes sleepers and leaves no timers', async () => {
    const gate = new ConnectGate(policy, () => 1);
    const p = gate.attempt(async () => {
      throw refused();
    });
    const settled = p.catch((e: unknown) => e);
    await clock.tickAsync(0);
    assert.equal(clock.countTimers(), 1);
    gate.close();
    assert.equal(clock.countTimers(), 0);
    const err = await settled;
    assert.ok(err instanceof DashScopeError);
    assert.equal(err.code, 'Closed');
  });
});

describe('RateLimiter (fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('runs 3 starts at once, queues the rest in order, at most 3 per rolling second', async () => {
    const limiter = new RateLimiter(3);
    const ran: [number, number][] = [];
    for (let i = 0; i < 8; i++) limiter.schedule(() => ran.push([i, Date.now()]));
    assert.deepEqual(ran.map(([i]) => i), [0, 1, 2], 'within budget: synchronous');
    assert.equal(limiter.pending, 5);
    await clock.tickAsync(1099);
    assert.deepEqual(ran.map(([i]) => i), [0, 1, 2], 'a margin over the service\'s second, against network jitter');
    await clock.tickAsync(1);
    assert.deepEqual(ran.map(([i]) => i), [0, 1, 2, 3, 4, 5]);
    await clock.tickAsync(1100);
    assert.deepEqual(ran.map(([i]) => i), [0, 1, 2, 3, 4, 5, 6, 7]);
    for (let k = 0; k < ran.length; k++) {
      const inWindow = ran.filter(([, t]) => t > (ran[k] as [number, number])[1] - 1000 && t <= (ran[k] as [number, number])[1]);
      assert.ok(inWindow.length <= 3, `more than 3 starts in one second around #${k}`);
    }
    assert.equal(limiter.queuedTotal, 5);
    assert.equal(clock.countTimers(), 0);
  });

  it('close() drops queued work and clears its timer', () => {
    const limiter = new RateLimiter(1);
    let ran = 0;
    limiter.schedule(() => ran++);
    limiter.schedule(() => ran++);
    assert.equal(clock.countTimers(), 1);
    limiter.close();
    assert.equal(clock.countTimers(), 0);
    clock.tick(5000);
    assert.equal(ran, 1);
  });
});
