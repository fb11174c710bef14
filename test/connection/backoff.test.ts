import assert from 'node:assert/strict';
import sinon from 'sinon';
import { backoffDelay, type ReconnectPolicy } from '../../src/connection/backoff';
import { ConnectGate, WAITS_KEPT } from '../../src/connection/connect-gate';
import { RateLimiter } from '../../src/connection/rate-limiter';
import { DashScopeError } from '../../src/dashscope/errors';

const policy: ReconnectPolicy = { baseMs: 500, maxMs: 8000, waitingMaxMs: 1000, deadlineMs: 30_000 };

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

  /** Attempts that fail until `until` (a clock time), recording when each was made. */
  function outage(until: number, at: number[]): () => Promise<string> {
    return async () => {
      at.push(Date.now());
      if (Date.now() < until) throw refused();
      return 'open';
    };
  }

  it('while an utterance waits, attempts stay at most waitingMaxMs apart, however long the outage', async () => {
    const gate = new ConnectGate(policy, () => 1);
    const at: number[] = [];
    const result = gate.attempt(outage(10_000, at), 'waiting');
    await clock.tickAsync(12_000);
    assert.equal(await result, 'open');
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    assert.deepEqual(gaps.slice(0, 2), [500, 1000], 'it starts at baseMs and doubles');
    assert.ok(gaps.every((g) => g <= 1000), `never more than a second apart: ${gaps.join(', ')}`);
    assert.ok((at.at(-1) as number) - 10_000 <= 1000, 'the return is noticed within a second');
    assert.equal(gate.failures, 0, 'a success resets the failure count');
  });

  it('background attempts (nothing waits) back off up to maxMs, one attempt each', async () => {
    const gate = new ConnectGate(policy, () => 1);
    const at: number[] = [];
    const open = outage(Infinity, at);
    for (let i = 0; i < 6; i++) {
      const p = gate.attempt(open, 'background').catch((e: unknown) => e);
      await clock.runAllAsync();
      assert.ok((await p) instanceof DashScopeError, 'one attempt, then the failure');
    }
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    assert.deepEqual(gaps, [500, 1000, 2000, 4000, 8000]);
  });

  it('an utterance arriving during a long idle pause does not wait it out, and its success wakes the background attempt', async () => {
    const gate = new ConnectGate(policy, () => 1);
    const open = outage(Infinity, []);
    for (let i = 0; i < 5; i++) {
      const p = gate.attempt(open, 'background').catch(() => undefined);
      await clock.runAllAsync();
      await p;
    }
    // Five failures: the next background attempt may come 8 s after the last one.
    let backgroundAt = -1;
    const background = gate.attempt(async () => {
      backgroundAt = Date.now();
      return 'warm';
    }, 'background');
    const arrived = Date.now();
    let waitingAt = -1;
    const waiting = gate.attempt(async () => {
      waitingAt = Date.now();
      return 'spoken';
    }, 'waiting');
    await clock.tickAsync(1000);
    assert.equal(await waiting, 'spoken');
    assert.ok(waitingAt - arrived <= 1000, `the utterance tried within the cap (${waitingAt - arrived} ms)`);
    assert.equal(await background, 'warm');
    assert.equal(backgroundAt, waitingAt, 'the warm socket follows at once');
  });

  it('past the deadline a waiting attempt fails with the last cause, retryable, saying how long it waited', async () => {
    const gate = new ConnectGate({ ...policy, deadlineMs: 5000 }, () => 1);
    const at: number[] = [];
    const settled = gate.attempt(outage(Infinity, at), 'waiting').catch((e: unknown) => e);
    await clock.tickAsync(6000);
    const err = await settled;
    assert.ok(err instanceof DashScopeError);
    assert.equal(err.code, 'NetworkError');
    assert.equal(err.retryable, true, 'retryable: the fallback voice speaks it');
    assert.match(err.message, /no connection to the service within 5 s .*ECONNREFUSED/);
    assert.equal(at.at(-1), 5000, 'attempts went on until the deadline, the last one at it');
    assert.equal(clock.countTimers(), 0);
  });

  it('hands the time left before the deadline to the attempt (so a hanging handshake cannot outlast it)', async () => {
    const gate = new ConnectGate({ ...policy, deadlineMs: 3000 }, () => 1);
    const budgets: (number | undefined)[] = [];
    const settled = gate.attempt(async (budget) => {
      budgets.push(budget);
      throw refused();
    }, 'waiting').catch(() => undefined);
    await clock.tickAsync(4000);
    await settled;
    assert.equal(budgets[0], 3000);
    assert.ok(budgets.every((b, i) => i === 0 || (b as number) < (budgets[i - 1] as number)), 'it shrinks');
    let idleBudget: number | undefined = -1;
    await new ConnectGate(policy).attempt(async (budget) => (idleBudget = budget), 'background');
    assert.equal(idleBudget, undefined, 'nothing waits: no deadline');
  });

  it('a probe makes exactly one attempt, as early as a waiting one could', async () => {
    const gate = new ConnectGate(policy, () => 1);
    for (let i = 0; i < 5; i++) {
      const p = gate.attempt(outage(Infinity, []), 'background').catch(() => undefined);
      await clock.runAllAsync();
      await p;
    }
    let calls = 0;
    const started = Date.now();
    const probe = gate.attempt(async () => {
      calls++;
      throw refused();
    }, 'probe').catch((e: unknown) => e);
    await clock.tickAsync(1000);
    assert.ok((await probe) instanceof DashScopeError);
    assert.equal(calls, 1);
    assert.ok(Date.now() - started <= 1000);
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
    for (const mode of ['waiting', 'probe', 'background'] as const) {
      for (let i = 0; i < 5; i++) {
        await assert.rejects(
          gate.attempt(async () => {
            calls++;
            return 1;
          }, mode),
          /invalid API key/,
        );
      }
    }
    assert.equal(calls, 1);
    assert.equal(gate.waits.length, 0);
  });

  it('a background attempt waits for the one under way: a wrong key is one refused handshake, not two', async () => {
    const gate = new ConnectGate(policy, () => 0);
    let calls = 0;
    const auth = new DashScopeError({ code: 'InvalidApiKey', message: 'invalid API key', origin: 'handshake', retryable: false, status: 401 });
    const handshake = async (): Promise<number> => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      throw auth;
    };
    const utterance = gate.attempt(handshake, 'waiting').catch((e: unknown) => e);
    const spare = gate.attempt(handshake, 'background').catch((e: unknown) => e);
    await clock.tickAsync(100);
    assert.ok((await utterance) instanceof DashScopeError);
    assert.equal(((await spare) as DashScopeError).code, 'InvalidApiKey', 'the spare learns from the first answer');
    assert.equal(calls, 1);
  });

  it('a refusal that would repeat (not retryable) is reported at once', async () => {
    const gate = new ConnectGate(policy, () => 0);
    let calls = 0;
    const bad = new DashScopeError({ code: 'InvalidParameter', message: 'url error', origin: 'handshake', retryable: false, status: 400 });
    await assert.rejects(
      gate.attempt(async () => {
        calls++;
        throw bad;
      }),
      /url error/,
    );
    assert.equal(calls, 1);
  });

  it('shares the backoff window between concurrent callers', async () => {
    const gate = new ConnectGate(policy, () => 1);
    const first = gate.attempt(async () => {
      throw refused();
    }, 'background');
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

  it('keeps only the latest pauses in waits: an outage of hours does not grow it', async () => {
    const gate = new ConnectGate({ ...policy, deadlineMs: Infinity }, () => 1);
    // Two minutes of a waiting utterance at about one attempt a second, then the service is back.
    const result = gate.attempt(outage(120_000, []), 'waiting');
    await clock.tickAsync(125_000);
    assert.equal(await result, 'open');
    assert.equal(gate.waits.length, 50, 'the last 50 pauses, not one per failure');
    assert.equal(WAITS_KEPT, 50);
    assert.deepEqual(gate.waits.slice(-3), [1000, 1000, 1000], 'the newest kept');
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

  it('cancel() takes one waiting start out of the line; the last one out clears the timer', () => {
    const limiter = new RateLimiter(1);
    const ran: string[] = [];
    limiter.schedule(() => ran.push('a'));
    const b = limiter.schedule(() => ran.push('b'));
    const c = limiter.schedule(() => ran.push('c'));
    assert.ok(b && c);
    b.cancel();
    clock.tick(1100);
    assert.deepEqual(ran, ['a', 'c']);
    const d = limiter.schedule(() => ran.push('d'));
    assert.equal(clock.countTimers(), 1);
    d?.cancel();
    assert.equal(clock.countTimers(), 0);
    clock.tick(5000);
    assert.deepEqual(ran, ['a', 'c']);
  });

  it('refund() frees the slot of a start the service never saw', () => {
    const limiter = new RateLimiter(1, 60_000);
    let slot = -1;
    limiter.schedule((at) => (slot = at));
    let second = false;
    limiter.schedule(() => (second = true));
    assert.equal(second, false);
    limiter.refund(slot);
    assert.equal(second, true, 'the waiting start takes the freed slot at once');
    limiter.close();
  });

  it('configure() re-times waiting work', () => {
    const limiter = new RateLimiter(1, 10_000);
    const ran: number[] = [];
    limiter.schedule(() => ran.push(Date.now()));
    limiter.schedule(() => ran.push(Date.now()));
    limiter.configure(2, 10_000);
    assert.equal(ran.length, 2, 'a larger budget lets the waiting start go');
    limiter.close();
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
