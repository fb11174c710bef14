// The live check's runner (src/live-check/run.ts) with small test probes: order and marks, one
// entry per point, the deadline, a probe that ignores its abort, the early stop when nothing can be
// reached or the key is refused (the free preflight, or a probe later), Ctrl-C, and the key kept
// out of what it reports.
import assert from 'node:assert/strict';
import { openSocket } from '../../src/dashscope/socket';
import { resolveEndpoints, type Endpoints } from '../../src/dashscope/endpoints';
import { authError, DashScopeError, serviceError } from '../../src/dashscope/errors';
import { preflight } from '../../src/live-check/preflight';
import type { HttpTap, SocketTap } from '../../src/dashscope/wire-tap';
import type { Finding, Probe, ProbeContext } from '../../src/live-check/probe';
import { maxCharacters, probeDeadlineMs, runLiveCheck, selectProbes, type Asked, type RunOptions, type RunTap } from '../../src/live-check/run';
import { DashScopeSimulator } from '../simulator';
import { closedPort, startSilentServer, type SilentServer } from '../support/dead-ends';
import { trackSourceTimers } from '../support/handles';

const KEY = 'sk-test-key';

/** A tap that keeps the order of marks and socket events, as the transcript would. */
class LogTap implements RunTap {
  readonly log: string[] = [];
  mark(probe: string, phase: 'start' | 'end'): void {
    this.log.push(`${phase} ${probe}`);
  }
  socket(url: string): SocketTap {
    const host = new URL(url).host;
    const note = (what: string) => (): void => void this.log.push(`${what} ${host}`);
    return {
      opened: note('opened'),
      refused: (status) => void this.log.push(`refused ${status}`),
      failed: note('failed'),
      sent: () => undefined,
      received: () => undefined,
      closing: () => undefined,
      closed: () => undefined,
    };
  }
  http(): HttpTap {
    return { replied: () => undefined, failed: () => undefined };
  }
}

function probe(id: string, points: string[], run: Probe['run'], extra: Partial<Probe> = {}): Probe {
  return { id, title: `probe ${id}`, maxCharacters: 10, points, run, ...extra };
}

/** Answers each of its points with `shown`. */
const answering = (id: string, points: string[], shown = 'yes'): Probe =>
  probe(id, points, async (_ctx, found) => {
    for (const point of points) found({ point, shown, evidence: `${point} seen` });
  });

/** Waits until its signal aborts, then returns (a probe that honours the deadline). */
const waiting = (id: string, points: string[], seen: AbortSignal[] = []): Probe =>
  probe(id, points, (ctx) => {
    seen.push(ctx.signal);
    return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  });

const ENDPOINTS = resolveEndpoints({ region: 'custom', endpoint: 'http://127.0.0.1:9' });

function options(probes: Probe[], extra: Partial<RunOptions> = {}): RunOptions & { tap: LogTap } {
  return { endpoints: ENDPOINTS, credentials: { apiKey: KEY }, region: 'custom', tap: new LogTap(), probes, ...extra } as RunOptions & { tap: LogTap };
}

describe('live-check runner', () => {
  let timers: ReturnType<typeof trackSourceTimers>;
  beforeEach(() => (timers = trackSourceTimers()));
  afterEach(async () => {
    await new Promise((r) => setImmediate(r));
    const live = timers.live();
    timers.stop();
    assert.deepEqual(live, [], 'no timer of the runner outlives the run');
  });

  it('runs the probes one by one in order, marking each in the tap, and reports each finding as it comes', async () => {
    const events: string[] = [];
    const opts = options([answering('a', ['p1', 'p2']), answering('b', ['p3'], 'no')], {
      probeStarted: (p, i, n) => events.push(`started ${p.id} ${i + 1}/${n}`),
      found: (a) => events.push(`found ${a.point}=${a.shown}`),
      probeEnded: (p, error) => events.push(`ended ${p.id} ${error ?? 'ok'}`),
    });
    const result = await runLiveCheck(opts);
    assert.deepEqual(opts.tap.log, ['start a', 'end a', 'start b', 'end b']);
    assert.deepEqual(events, ['started a 1/2', 'found p1=yes', 'found p2=yes', 'ended a ok', 'started b 2/2', 'found p3=no', 'ended b ok']);
    assert.deepEqual(
      result.asked.map((a) => [a.point, a.probe, a.shown, a.evidence]),
      [
        ['p1', 'a', 'yes', 'p1 seen'],
        ['p2', 'a', 'yes', 'p2 seen'],
        ['p3', 'b', 'no', 'p3 seen'],
      ],
    );
    assert.equal(result.interrupted, false);
    assert.equal(result.unreachable, undefined);
    assert.ok(Date.parse(result.started) <= Date.parse(result.finished));
  });

  it('gives a probe one wait at a time: the next starts only when the previous has ended', async () => {
    let running = 0;
    let most = 0;
    const slow = (id: string): Probe =>
      probe(id, [id], async (_ctx, found) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        found({ point: id, shown: 'x', evidence: '' });
        running -= 1;
      });
    await runLiveCheck(options([slow('a'), slow('b'), slow('c')]));
    assert.equal(most, 1);
  });

  it('selects the normal probes, the long ones with long, and exactly the named ones with only (in plan order)', () => {
    const all = [answering('a', ['p']), answering('slow', ['q']), answering('b', ['r'])];
    (all[1] as Probe).long = true;
    assert.deepEqual(selectProbes(all, {}).map((p) => p.id), ['a', 'b']);
    assert.deepEqual(selectProbes(all, { long: true }).map((p) => p.id), ['a', 'slow', 'b']);
    assert.deepEqual(selectProbes(all, { only: ['b', 'slow'] }).map((p) => p.id), ['slow', 'b']);
    assert.equal(maxCharacters([{ ...(all[0] as Probe), maxCharacters: 7 }, { ...(all[2] as Probe), maxCharacters: 35 }]), 42);
  });

  it('a probe that throws: its unanswered points carry the error message (never the key), the answered ones stay, the run goes on', async () => {
    const failing = probe('bad', ['p1', 'p2'], async (_ctx, found) => {
      found({ point: 'p1', shown: 'speaks', evidence: 'fine' });
      throw new DashScopeError({ code: 'InvalidParameter', message: `voice not found (key ${KEY} was used)`, origin: 'task', retryable: false });
    });
    const result = await runLiveCheck(options([failing, answering('next', ['p3'])]));
    const [p1, p2, p3] = result.asked as [Asked, Asked, Asked];
    assert.equal(p1.shown, 'speaks');
    assert.equal(p2.shown, undefined);
    assert.equal(p2.evidence, 'voice not found (key [redacted key] was used)');
    assert.equal(p3.shown, 'yes', 'the probe after a failed one still runs');
    assert.ok(!JSON.stringify(result).includes(KEY));
  });

  it('a probe that answers nothing and returns leaves its points unanswered, saying so', async () => {
    const result = await runLiveCheck(options([probe('mute', ['p'], async () => undefined)]));
    assert.deepEqual(result.asked, [{ point: 'p', probe: 'mute', evidence: 'the probe could not tell' }]);
  });

  it('a probe that never ends is aborted at its deadline (× timeScale), and the next probe runs', async () => {
    const signals: AbortSignal[] = [];
    const timeScale = 0.002; // 60 s → 120 ms
    const t0 = Date.now();
    const result = await runLiveCheck(options([waiting('hang', ['p1'], signals), answering('after', ['p2'])], { timeScale }));
    const took = Date.now() - t0;
    assert.equal(signals.length, 1);
    assert.equal(signals[0]?.aborted, true, 'the hanging probe was told to stop');
    assert.ok(took >= probeDeadlineMs(waiting('x', [])) * timeScale - 5, `ended after ${took} ms, before its deadline`);
    assert.ok(took < 2_000, `took ${took} ms`);
    assert.equal(result.asked[0]?.evidence, 'no answer within 60 s', 'the deadline is reported unscaled, as the service would see it');
    assert.equal(result.asked[1]?.shown, 'yes');
  });

  it('a long probe gets its own wait on top of the normal deadline', () => {
    const normal = probeDeadlineMs(answering('a', []));
    const long = probeDeadlineMs({ ...answering('b', []), long: true });
    assert.equal(normal, 60_000);
    assert.ok(long >= normal + 90_000, `${long} ms leaves no room for a 90 s wait`);
  });

  it('a probe that ignores its abort is left behind after a short grace: the run still ends', async () => {
    const stubborn = probe('stubborn', ['p'], () => new Promise<void>(() => undefined));
    const t0 = Date.now();
    const result = await runLiveCheck(options([stubborn, answering('after', ['q'])], { timeScale: 0.002 }));
    assert.ok(Date.now() - t0 < 2_000);
    assert.equal(result.asked[0]?.evidence, 'no answer within 60 s');
    assert.equal(result.asked[1]?.shown, 'yes');
  });

  it('findings a probe makes after it was given up are ignored', async () => {
    let late: ((f: Finding) => void) | undefined;
    const stubborn = probe('late', ['p'], (_ctx, found) => {
      late = found;
      return new Promise<void>(() => undefined);
    });
    const seen: Asked[] = [];
    const result = await runLiveCheck(options([stubborn], { timeScale: 0.001, found: (a) => seen.push(a) }));
    late?.({ point: 'p', shown: 'too late', evidence: '' });
    assert.equal(result.asked[0]?.shown, undefined);
    assert.deepEqual(seen.map((a) => a.shown), [undefined]);
  });

  describe('a service that cannot be reached', () => {
    let silent: SilentServer | undefined;
    afterEach(async () => {
      await silent?.close();
      silent = undefined;
    });

    /** Connects through the package's own openSocket with the run's tap, as a probe does. */
    const connecting = (id: string, points: string[], url: (ctx: ProbeContext) => string, connectTimeoutMs = 2_000): Probe =>
      probe(id, points, async (ctx) => {
        const ws = await openSocket(url(ctx), ctx.credentials, { connectTimeoutMs, tap: ctx.tap });
        ws.close();
      });

    it('a refused first connection stops the run after the first probe: "cannot reach", every later point not asked', async () => {
      const port = await closedPort();
      const endpoints = resolveEndpoints({ region: 'custom', endpoint: `http://127.0.0.1:${port}` });
      const asked: string[] = [];
      const t0 = Date.now();
      const result = await runLiveCheck(
        options([connecting('first', ['p1'], (ctx) => ctx.endpoints.cosyvoiceWs), answering('second', ['p2']), answering('third', ['p3'])], {
          endpoints,
          probeStarted: (p) => asked.push(p.id),
        }),
      );
      assert.ok(Date.now() - t0 < 2_000);
      assert.deepEqual(asked, ['first'], 'no probe after the first is started');
      assert.match(result.unreachable ?? '', new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
      assert.match(result.asked[0]?.evidence ?? '', /ECONNREFUSED/);
      assert.deepEqual(result.asked.slice(1).map((a) => [a.shown, a.evidence]), [
        [undefined, `not asked: ${result.unreachable}`],
        [undefined, `not asked: ${result.unreachable}`],
      ]);
    });

    it('a server that accepts and never answers: the connect timeout ends the first probe and the run stops', async () => {
      silent = await startSilentServer();
      const endpoints = resolveEndpoints({ region: 'custom', endpoint: `http://127.0.0.1:${silent.port}` });
      const t0 = Date.now();
      const result = await runLiveCheck(options([connecting('first', ['p1'], (ctx) => ctx.endpoints.cosyvoiceWs, 200), answering('second', ['p2'])], { endpoints }));
      assert.ok(Date.now() - t0 < 2_000);
      assert.match(result.unreachable ?? '', /^cannot reach/);
      assert.equal(result.asked[1]?.shown, undefined);
    });

    it('a probe that catches the failure itself still stops the run: the tap saw it', async () => {
      const port = await closedPort();
      const endpoints = resolveEndpoints({ region: 'custom', endpoint: `http://127.0.0.1:${port}` });
      const careful = probe('careful', ['p1'], async (ctx, found) => {
        try {
          await openSocket(ctx.endpoints.cosyvoiceWs, ctx.credentials, { connectTimeoutMs: 2_000, tap: ctx.tap });
        } catch (e) {
          found({ point: 'p1', evidence: (e as Error).message });
        }
      });
      const result = await runLiveCheck(options([careful, answering('second', ['p2'])], { endpoints }));
      assert.match(result.unreachable ?? '', /^cannot reach/);
      assert.match(result.asked[1]?.evidence ?? '', /^not asked: cannot reach/);
    });

    it('a failure after the service was reached does not stop the run', async () => {
      const port = await closedPort();
      const gone = probe('gone', ['p2'], async (ctx) => {
        await openSocket(`ws://127.0.0.1:${port}/`, ctx.credentials, { connectTimeoutMs: 2_000, tap: ctx.tap });
      });
      const sim = await DashScopeSimulator.start({});
      try {
        const endpoints = resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl });
        const result = await runLiveCheck(options([connecting('ok', ['p1'], (ctx) => ctx.endpoints.cosyvoiceWs), gone, answering('third', ['p3'])], { endpoints }));
        assert.equal(result.unreachable, undefined);
        assert.match(result.asked[1]?.evidence ?? '', /ECONNREFUSED/);
        assert.equal(result.asked[2]?.shown, 'yes');
      } finally {
        await sim.close();
      }
    });
  });

  describe('a refused key', () => {
    let sim: DashScopeSimulator | undefined;
    afterEach(async () => {
      await sim?.close();
      sim = undefined;
      // fetch's (undici's) shared one-second tick is created inside the first request the
      // preflight makes, so it carries http-json's frame; it stops on its own once no request is
      // pending. Wait for that, and only that, before the no-timer check above.
      const t0 = Date.now();
      while (timers.live().some((frame) => frame.includes('http-json')) && Date.now() - t0 < 2_000) await new Promise((r) => setTimeout(r, 50));
    });

    async function simulatorEndpoints(path = ''): Promise<{ endpoints: Endpoints; host: string }> {
      sim = await DashScopeSimulator.start({});
      return { endpoints: resolveEndpoints({ region: 'custom', endpoint: `${sim.baseUrl}${path}` }), host: new URL(sim.baseUrl).host };
    }

    /** Connects through the package's own openSocket with the run's tap and rethrows what it meets, as a probe does with its user's key. */
    const connecting = (id: string, points: string[]): Probe =>
      probe(id, points, async (ctx) => {
        const ws = await openSocket(ctx.endpoints.cosyvoiceWs, ctx.credentials, { connectTimeoutMs: 2_000, tap: ctx.tap });
        ws.close();
      });

    it('the preflight: a refused key ends the run before any probe, naming the host and what to try (the other region; the endpoint)', async () => {
      const { endpoints, host } = await simulatorEndpoints();
      for (const [region, advice] of [
        ['beijing', 'is it a key of the singapore region? try --region singapore'],
        ['singapore', 'is it a key of the beijing region? try --region beijing'],
        ['custom', 'check the key and the endpoint'],
      ] as const) {
        const started: string[] = [];
        const opts = options([answering('first', ['p1']), answering('second', ['p2'])], {
          endpoints,
          region,
          credentials: { apiKey: 'sk-wrong' },
          preflight: true,
          probeStarted: (p) => started.push(p.id),
        });
        const result = await runLiveCheck(opts);
        assert.equal(result.keyRefused, `the key was refused at ${host} (HTTP 401 InvalidApiKey): ${advice}`);
        assert.equal(result.unreachable, undefined, 'a refusal is an answer from the service, not "cannot reach"');
        assert.deepEqual(started, [], 'no probe was started');
        assert.deepEqual(opts.tap.log, ['start preflight', 'end preflight'], 'the preflight is marked in the transcript like a probe');
        assert.deepEqual(
          result.asked.map((a) => [a.point, a.shown, a.evidence]),
          [
            ['p1', undefined, `not asked: ${result.keyRefused}`],
            ['p2', undefined, `not asked: ${result.keyRefused}`],
          ],
        );
      }
      assert.equal(sim?.stats.httpRequests, 3, 'one request per run');
      assert.equal(sim?.stats.billedCharacters, 0, 'the preflight is free');
    });

    it('the preflight with a key the service takes: marked before the first probe, and the run goes on', async () => {
      const { endpoints } = await simulatorEndpoints();
      const opts = options([answering('first', ['p1'])], { endpoints, preflight: true });
      const result = await runLiveCheck(opts);
      assert.equal(result.keyRefused, undefined);
      assert.deepEqual(opts.tap.log, ['start preflight', 'end preflight', 'start first', 'end first']);
      assert.deepEqual(result.asked.map((a) => a.shown), ['yes']);
      assert.deepEqual(result.probes.map((p) => p.id), ['first'], 'the preflight is not one of the plan\'s probes');
    });

    it('a preflight the endpoint cannot answer (a proxy without that path) leaves the question to the probes', async () => {
      const { endpoints } = await simulatorEndpoints('/elsewhere');
      const result = await runLiveCheck(options([answering('first', ['p1'])], { endpoints, preflight: true, credentials: { apiKey: 'sk-wrong' } }));
      assert.equal(result.keyRefused, undefined);
      assert.equal(result.unreachable, undefined);
      assert.deepEqual(result.asked.map((a) => a.shown), ['yes']);
    });

    it('a preflight that cannot reach the host stops the run before any probe', async () => {
      const port = await closedPort();
      const started: string[] = [];
      const endpoints = resolveEndpoints({ region: 'custom', endpoint: `http://127.0.0.1:${port}` });
      const result = await runLiveCheck(options([answering('first', ['p1'])], { endpoints, preflight: true, probeStarted: (p) => started.push(p.id) }));
      assert.match(result.unreachable ?? '', new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port}`));
      assert.deepEqual(started, []);
      assert.equal(result.asked[0]?.evidence, `not asked: ${result.unreachable}`);
    });

    it('a probe that meets a refused key (probes rethrow it) stops the run: its points and the later ones are not answered', async () => {
      const { endpoints, host } = await simulatorEndpoints();
      const ended: [string, string | undefined][] = [];
      const result = await runLiveCheck(
        options([connecting('first', ['p1']), answering('second', ['p2'])], {
          endpoints,
          region: 'singapore',
          credentials: { apiKey: 'sk-wrong' },
          probeEnded: (p, error) => ended.push([p.id, error]),
        }),
      );
      const expected = `the key was refused at ${host} (HTTP 401 InvalidApiKey): is it a key of the beijing region? try --region beijing`;
      assert.equal(result.keyRefused, expected);
      assert.deepEqual(ended, [['first', expected]]);
      assert.deepEqual(result.asked.map((a) => [a.shown, a.evidence]), [
        [undefined, expected],
        [undefined, `not asked: ${expected}`],
      ]);
    });

    it('a key refused after the service took it once was revoked: the message says so, not the region', async () => {
      const { endpoints, host } = await simulatorEndpoints();
      const revoked = probe('revoked', ['p2'], async () => {
        throw authError(401, 'InvalidApiKey');
      });
      const result = await runLiveCheck(options([connecting('ok', ['p1']), revoked, answering('later', ['p3'])], { endpoints, region: 'beijing', preflight: true }));
      assert.equal(result.keyRefused, `the key was refused at ${host} (HTTP 401 InvalidApiKey) after it had been accepted: was it revoked or disabled? Check it in the console`);
      assert.equal(result.asked[2]?.evidence, `not asked: ${result.keyRefused}`);
    });

    it('a refusal a probe reads as its answer (the made-up key of the bad-key probe) does not stop the run', async () => {
      const { endpoints } = await simulatorEndpoints();
      const badKey = probe('bad-key', ['p1'], async (ctx, found) => {
        try {
          await openSocket(ctx.endpoints.cosyvoiceWs, { apiKey: 'sk-made-up' }, { connectTimeoutMs: 2_000, tap: ctx.tap });
        } catch (e) {
          found({ point: 'p1', shown: 'refused, final', evidence: (e as Error).message });
        }
      });
      const result = await runLiveCheck(options([badKey, answering('after', ['p2'])], { endpoints, preflight: true }));
      assert.equal(result.keyRefused, undefined);
      assert.deepEqual(result.asked.map((a) => a.shown), ['refused, final', 'yes']);
    });

    it('after the preflight took the key, a 403 that names the account, a model, the request or nothing does not stop the run', async () => {
      const { endpoints } = await simulatorEndpoints();
      for (const code of ['AllocationQuota.FreeTierOnly', 'InvalidParameter', 'Model.NotFound', 'InvalidModel', undefined]) {
        const refused = probe('refused', ['p1'], async () => {
          throw authError(403, code);
        });
        const result = await runLiveCheck(options([refused, answering('after', ['p2'])], { endpoints, preflight: true }));
        assert.equal(result.keyRefused, undefined, code ?? 'no code');
        assert.equal(result.accountRefused, undefined, code ?? 'no code');
        assert.deepEqual(result.asked.map((a) => a.shown), [undefined, 'yes'], code ?? 'no code');
      }
    });

    it('before the key was taken, a 403 with no code is the key\'s refusal; after it, only a 401 or an auth code is', async () => {
      const bare = probe('bare', ['p1'], async () => {
        throw authError(403, undefined);
      });
      const before = await runLiveCheck(options([bare, answering('after', ['p2'])]));
      assert.match(before.keyRefused ?? '', /^the key was refused at 127\.0\.0\.1:9 \(HTTP 403 AccessDenied\): check the key and the endpoint$/);
      assert.equal(before.asked[1]?.evidence, `not asked: ${before.keyRefused}`);
      const { endpoints } = await simulatorEndpoints();
      const auth = probe('auth', ['p1'], async () => {
        throw authError(403, 'InvalidApiKey');
      });
      const after = await runLiveCheck(options([auth, answering('after', ['p2'])], { endpoints, preflight: true }));
      assert.match(after.keyRefused ?? '', /\(HTTP 403 InvalidApiKey\) after it had been accepted/);
    });

    it('an account in arrears stops the run like a refused key: the later probes are not asked', async () => {
      const { endpoints, host } = await simulatorEndpoints();
      const ended: [string, string | undefined][] = [];
      const arrears = probe('arrears', ['p1'], async () => {
        throw serviceError('task', 'Arrearage', 'Access denied, please make sure your account is in good standing.');
      });
      const result = await runLiveCheck(options([arrears, answering('later', ['p2'])], { endpoints, preflight: true, probeEnded: (p, error) => ended.push([p.id, error]) }));
      const expected = `the account is in arrears at ${host} (Arrearage): top it up in the console, then run the check again`;
      assert.equal(result.accountRefused, expected);
      assert.equal(result.keyRefused, undefined);
      assert.deepEqual(ended, [['arrears', expected]]);
      assert.deepEqual(result.asked.map((a) => [a.shown, a.evidence]), [
        [undefined, expected],
        [undefined, `not asked: ${expected}`],
      ]);
    });

    it('the preflight\'s timeout is a guard with a floor of a second, as the probes\' (a tiny time scale does not make it time out)', async () => {
      const { endpoints } = await simulatorEndpoints();
      const ctx: ProbeContext = {
        endpoints,
        credentials: { apiKey: KEY },
        region: 'custom',
        tap: new LogTap(),
        signal: new AbortController().signal,
        timeScale: 1e-5,
        progress: () => undefined,
      };
      await preflight.run(ctx, () => undefined);
      assert.equal(sim?.stats.httpRequests, 1);
    });
  });

  it('Ctrl-C: the current probe is aborted, the later ones are not asked, the findings before are kept', async () => {
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    const interrupting = probe('now', ['p2', 'p3'], (ctx, found) => {
      signals.push(ctx.signal);
      found({ point: 'p2', shown: 'half', evidence: 'before Ctrl-C' });
      setTimeout(() => controller.abort(), 10);
      return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    });
    const started: string[] = [];
    const result = await runLiveCheck(
      options([answering('first', ['p1']), interrupting, answering('later', ['p4'])], { signal: controller.signal, probeStarted: (p) => started.push(p.id) }),
    );
    assert.equal(result.interrupted, true);
    assert.equal(signals[0]?.aborted, true);
    assert.deepEqual(started, ['first', 'now']);
    assert.deepEqual(
      result.asked.map((a) => [a.point, a.shown, a.evidence]),
      [
        ['p1', 'yes', 'p1 seen'],
        ['p2', 'half', 'before Ctrl-C'],
        ['p3', undefined, 'interrupted'],
        ['p4', undefined, 'not asked: interrupted'],
      ],
    );
  });

  it('a point asked by two probes has one entry: the first answer stands', async () => {
    const result = await runLiveCheck(options([probe('a', ['p'], async () => undefined), answering('b', ['p'], 'second'), answering('c', ['p'], 'third')]));
    assert.deepEqual(result.asked.map((a) => [a.point, a.probe, a.shown]), [['p', 'b', 'second']]);
  });
});
