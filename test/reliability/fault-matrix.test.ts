/**
 * Issue 9, fault matrix: every fault the simulator can inject, for both services, through the
 * real built nodes. Each row ends one of two ways: the utterance is spoken byte for byte (after
 * a transparent recovery), or the catch node gets the utterance's own message with the cause's
 * code. Either way the next utterance plays, and undeploying leaves no socket and no timer.
 */
import assert from 'node:assert/strict';
import { helper, runsRigs } from '../support/node-red';
import { waitFor } from '../support/collect';
import { Rig, SERVICES, sleep, type Service } from './harness';
import type { SimulatorOptions } from '../simulator';

/** settings.js tuning: short clocks so every timeout row runs in well under a second. */
const TUNING = {
  connectTimeoutMs: 300,
  backoff: { baseMs: 40, maxMs: 200 },
  // An utterance waits this long for a connection (default 30 s), then fails to catch.
  waitDeadlineMs: 1000,
  // Five pauses of at least 125 + 4 x 250 ms: longer than the service's one-second rate window.
  throttleBackoff: { baseMs: 250, maxMs: 500, maxAttempts: 5 },
  cosyvoiceLimits: { startTimeoutMs: 300, finishTimeoutMs: 2000, idleFinishMs: 150 },
};

const SAY = 'The garage door has been open for ten minutes.';
const NEXT = 'Everything is back to normal.';
const LONG = 'This is a long announcement. It has many sentences. Each one makes more audio frames. The socket will drop in the middle of it. '.repeat(2);

interface Row {
  name: string;
  services?: Service[];
  sim?: SimulatorOptions;
  cfg?: Record<string, unknown>;
  run(rig: Rig, service: Service): Promise<void>;
}

const rows: Row[] = [
  // ---- the socket drops ------------------------------------------------------------------
  {
    name: 'socket dropped before any audio: retried once on a fresh socket, spoken',
    run: async (rig) => {
      rig.sim.inject({ kind: 'drop-after-frames', frames: 0 });
      await rig.spoken(SAY, 'alert');
      assert.equal(rig.textConnections(), 2, 'one more socket for the retry');
    },
  },
  {
    name: 'socket dropped in the middle of an utterance: ConnectionClosed to catch (audio was heard: no replay)',
    run: async (rig) => {
      rig.sim.inject({ kind: 'drop-after-frames', frames: 3 });
      await rig.fails(LONG, 'long', 'ConnectionClosed');
      const heard = rig.partials.get('long');
      assert.ok(heard && heard.length > 0, 'the audio heard before the drop was closed as a partial sequence');
      assert.ok(rig.audioOf(LONG).subarray(0, heard.length).equals(heard), 'the partial audio is exactly the start of the utterance');
    },
  },
  {
    name: 'every socket dropped by the network while idle between utterances: invisible',
    run: async (rig) => {
      await rig.spoken(SAY, 'first');
      rig.sim.dropAll();
      await waitFor(() => rig.sim.stats.openSockets === 0, 2000, 'the drop');
      await rig.spoken(NEXT, 'second');
    },
  },

  // ---- task-failed / error events ---------------------------------------------------------
  {
    name: 'task-failed InvalidParameter 418 (unknown voice): catch gets the code and the message',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'fail-task', code: 'InvalidParameter', message: '[tts:]Engine return error code: 418' });
      await rig.fails(SAY, 'alert', 'InvalidParameter', /418/);
      assert.equal(rig.sim.stats.tasks.failed, 1, 'not retried: the same request fails the same way');
    },
  },
  {
    name: 'task-failed InvalidParameter 428 after the first text: catch gets it',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'fail-task', code: 'InvalidParameter', message: '[tts:]Engine return error code: 428', after: 'first-text' });
      await rig.fails(SAY, 'alert', 'InvalidParameter', /428/);
    },
  },
  {
    name: 'task-failed InternalError once: retried transparently, spoken',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'fail-task', code: 'InternalError', message: 'Internal server error.' });
      await rig.spoken(SAY, 'alert');
      assert.equal(rig.sim.stats.tasks.failed, 1);
    },
  },
  {
    name: 'task-failed InternalError twice in a row: catch gets InternalError (one retry, no storm)',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'fail-task', code: 'InternalError', message: 'Internal server error.', times: 2 });
      await rig.fails(SAY, 'alert', 'InternalError');
      assert.equal(rig.sim.stats.tasks.failed, 2);
    },
  },
  {
    name: 'error event invalid_value on append: catch gets it',
    services: ['qwen'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'qwen-error', code: 'invalid_value', message: 'Invalid value for text.', on: 'append' });
      await rig.fails(SAY, 'alert', 'invalid_value', /Invalid value/);
    },
  },
  {
    name: 'error event InternalError on append, then the service closes the session: said again on a fresh session, spoken',
    services: ['qwen'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'qwen-error', code: 'InternalError', message: 'Internal server error.', on: 'append', fatal: true });
      await rig.spoken(SAY, 'alert');
      assert.equal(rig.textConnections(), 2);
    },
  },
  {
    name: 'error event InternalError on append twice, each session closed: catch gets it after one retry',
    services: ['qwen'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'qwen-error', code: 'InternalError', message: 'Internal server error.', on: 'append', fatal: true, times: 2 });
      await rig.fails(SAY, 'alert', 'InternalError');
    },
  },
  {
    name: 'error event InternalError on the closing commit, session closed: the audio already heard is complete, spoken',
    services: ['qwen'],
    run: async (rig) => {
      // server_commit: the service cut and spoke the sentence itself, so the closing commit's error is harmless.
      rig.sim.inject({ kind: 'qwen-error', code: 'InternalError', message: 'Internal server error.', on: 'commit', fatal: true });
      await rig.spoken(SAY, 'alert');
    },
  },
  {
    name: 'error event on session.update (bad voice for the model): catch gets it',
    services: ['qwen'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'qwen-error', code: 'invalid_value', message: 'Voice not supported.', on: 'session.update' });
      await rig.fails(SAY, 'alert', 'invalid_value', /Voice/);
    },
  },

  // ---- rate limited -------------------------------------------------------------------------
  {
    name: 'Throttling.RateQuota: retried after a backoff, spoken',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'fail-task', code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' });
      await rig.spoken(SAY, 'alert');
      assert.equal(rig.sim.stats.tasks.failed, 1);
    },
  },
  {
    name: "the service's own rate limit (1 task per second) with three queued utterances: all spoken, in order",
    services: ['cosyvoice'],
    sim: { cosyvoice: { rateLimitPerSecond: 1 } },
    run: async (rig) => {
      const texts = [1, 2, 3].map((i) => `Queued message ${i}.`);
      const outs = await Promise.all(texts.map((t, i) => rig.say(t, `q${i}`)));
      outs.forEach((o, i) => assert.ok(o.kind === 'spoken' && o.audio.equals(rig.audioOf(texts[i] as string)), `q${i}: ${o.kind === 'error' ? o.code : o.kind}`));
      assert.ok(rig.sim.stats.tasks.failed >= 1, 'the service did refuse some starts');
    },
  },
  {
    name: 'Throttling error event: the session is replaced and the utterance said again after a pause, spoken',
    services: ['qwen'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'qwen-error', code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded.', on: 'append' });
      const started = Date.now();
      await rig.spoken(SAY, 'alert');
      assert.ok(Date.now() - started >= 125, 'it waited (backoff) before trying again');
      assert.equal(rig.textConnections(), 2);
    },
  },
  {
    name: 'Throttling that does not let up: after bounded backoff the error reaches catch',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'fail-task', code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.', times: 6 });
      await rig.fails(SAY, 'alert', 'Throttling.RateQuota');
      assert.equal(rig.sim.stats.tasks.failed, 6, 'five pauses, then reported: no storm');
    },
  },
  {
    name: 'msg.stop while a throttled utterance waits out its backoff: nothing is sent late, nothing reported',
    run: async (rig, service) => {
      const rate = 'Requests rate limit exceeded.';
      if (service === 'cosyvoice') rig.sim.inject({ kind: 'fail-task', code: 'Throttling.RateQuota', message: rate, times: 6 });
      else rig.sim.inject({ kind: 'qwen-error', code: 'Throttling.RateQuota', message: rate, on: 'append', times: 6 });
      rig.tts.receive({ payload: SAY, topic: 'throttled' });
      const attempts = (): number => (service === 'cosyvoice' ? rig.sim.stats.tasks.failed : rig.sim.stats.connections.qwen);
      await waitFor(() => attempts() >= 1 && (service === 'cosyvoice' || rig.sim.stats.openSockets === 0), 3000, 'the first refusal');
      const before = attempts();
      rig.tts.receive({ stop: true });
      await sleep(800); // longer than the pause it was waiting out
      assert.equal(attempts(), before, 'no attempt after the stop');
      assert.equal(rig.outcomes.get('throttled'), undefined, 'a stopped utterance is neither spoken nor an error');
      await waitFor(() => rig.liveTimers().length === 0, 2000, `the backoff timer cleared (${rig.liveTimers().join(' | ')})`);
      rig.sim.clearFaults();
    },
  },
  {
    name: 'handshake answered 429 (rate limited): retried with backoff, spoken',
    run: async (rig) => {
      rig.sim.inject({ kind: 'http-error', status: 429, code: 'Throttling.RateQuota' });
      await rig.spoken(SAY, 'alert');
      assert.ok(rig.manager.backoffWaits.length >= 1, 'a backoff pause before the next handshake');
    },
  },

  // ---- handshake rejected ---------------------------------------------------------------------
  ...([401, 403] as const).map(
    (status): Row => ({
      name: `handshake rejected ${status}: no retry storm, status "invalid API key", recovery after redeploy with a good key`,
      run: async (rig) => {
        rig.sim.inject({ kind: 'reject-auth', status, times: Infinity });
        await rig.fails(SAY, 'a1', status === 401 ? 'InvalidApiKey' : /InvalidApiKey|AccessDenied/);
        await rig.fails(SAY, 'a2', /InvalidApiKey|AccessDenied/);
        await rig.fails(SAY, 'a3', /InvalidApiKey|AccessDenied/);
        assert.equal(rig.sim.stats.handshakesRejected, 1, 'one handshake, then the gate stays shut');
        assert.equal(rig.statuses().at(-1)?.text, 'invalid API key');
        rig.sim.clearFaults();
        await rig.deploy({ cfg: { keepWarm: false } });
        await rig.spoken(SAY, 'fixed');
      },
    }),
  ),

  // ---- refused / reset for a while ----------------------------------------------------------
  {
    name: 'connection refused for a while, then back: bounded backoff, then spoken',
    run: async (rig) => {
      await rig.sim.stopListening();
      const pending = rig.say(SAY, 'alert');
      await sleep(250);
      await rig.sim.resumeListening();
      const o = await pending;
      assert.equal(o.kind, 'spoken', o.kind === 'error' ? o.message : '');
      const waits = rig.manager.backoffWaits;
      assert.ok(waits.length >= 1, 'it backed off');
      assert.ok(waits.every((w) => w <= TUNING.backoff.maxMs), `bounded: ${waits.join(', ')}`);
      await rig.spoken(NEXT, 'next');
    },
  },
  {
    name: 'connections reset during the handshake (twice), then accepted: spoken',
    run: async (rig) => {
      rig.sim.inject({ kind: 'refuse-connection', times: 2 });
      await rig.spoken(SAY, 'alert');
      assert.equal(rig.sim.stats.connectionsRefused, 2);
    },
  },
  {
    name: 'refused past the wait deadline: NetworkError to catch, and the service back later works',
    run: async (rig) => {
      await rig.sim.stopListening();
      await rig.fails(SAY, 'alert', 'NetworkError');
      await rig.sim.resumeListening();
      await rig.spoken(NEXT, 'next');
    },
  },
  {
    name: 'handshake answered 503 once: retried, spoken',
    run: async (rig) => {
      rig.sim.inject({ kind: 'http-error', status: 503 });
      await rig.spoken(SAY, 'alert');
    },
  },

  // ---- idle close, the 23 s limit, the server closing ---------------------------------------
  {
    name: "the service's idle close between utterances: invisible",
    sim: { cosyvoice: { idleCloseMs: 150 }, qwen: { idleTimeoutMs: 400 } },
    run: async (rig) => {
      await rig.spoken(SAY, 'first');
      await waitFor(() => rig.sim.stats.openSockets === 0, 2000, 'the idle close');
      await rig.spoken(NEXT, 'second');
    },
  },
  {
    name: 'an idle-close fault on the parked socket: the next utterance is spoken anyway',
    services: ['cosyvoice'],
    run: async (rig) => {
      await rig.spoken(SAY, 'first');
      rig.sim.inject({ kind: 'idle-close' });
      await waitFor(() => rig.sim.stats.openSockets === 0, 2000, 'the idle close');
      await rig.spoken(NEXT, 'second');
    },
  },
  {
    name: 'the 23 s mid-task timeout never happens: a stream that pauses longer is finished by the client first',
    services: ['cosyvoice'],
    sim: { cosyvoice: { taskTimeoutMs: 400 } },
    run: async (rig) => {
      await rig.deploy({ node: { input: 'stream' } });
      const out = rig.outcome('llm');
      rig.tts.receive({ payload: 'The first sentence arrives. ', topic: 'llm' });
      await sleep(700); // longer than the service's limit; idleFinishMs (150) ends the task before it
      rig.tts.receive({ payload: 'The rest arrives much later.', topic: 'llm', complete: true });
      const o = await out;
      assert.equal(o.kind, 'spoken', o.kind === 'error' ? `${o.code}: ${o.message}` : '');
      const expected = Buffer.concat([rig.audioOf('The first sentence arrives. '), rig.audioOf('The rest arrives much later.')]);
      assert.ok(o.kind === 'spoken' && o.audio.equals(expected), 'both parts, in order');
      assert.equal(rig.sim.stats.tasks.failed, 0, 'the service never timed a task out');
      assert.equal(rig.sim.stats.tasks.finished, 2);
    },
  },
  {
    name: 'the server closes after session.finish (client idle close): the next utterance opens a new session',
    services: ['qwen'],
    cfg: {},
    run: async (rig) => {
      await rig.spoken(SAY, 'first');
      // The client's own idle timer (qwenIdleMs, tuned to 100 ms below) sends session.finish; the service closes.
      await waitFor(() => rig.sim.stats.openSockets === 0, 2000, 'session.finished and close');
      await rig.spoken(NEXT, 'second');
      assert.equal(rig.textConnections(), 2);
    },
  },

  // ---- the service never answers the start ---------------------------------------------------
  {
    name: 'task-started never arrives: client timeout, socket discarded, retried once: spoken',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'delay-task-started', ms: 5000 });
      await rig.spoken(SAY, 'alert');
      assert.equal(rig.sim.stats.connections.cosyvoice, 2, 'the stuck socket was discarded');
    },
  },
  {
    name: 'task-started never arrives, twice: StartTimeout to catch, next plays',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'delay-task-started', ms: 5000, times: 2 });
      await rig.fails(SAY, 'alert', 'StartTimeout');
    },
  },
  {
    name: 'session.created never arrives: client timeout, connection discarded, retried: spoken',
    services: ['qwen'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'delay-session-created', ms: 5000 });
      await rig.spoken(SAY, 'alert');
      assert.notEqual(rig.sim.transcripts[0]?.closeCode, undefined, 'the stuck socket was discarded');
      assert.equal(rig.textConnections(), 1);
    },
  },
  {
    name: 'the handshake itself hangs: ConnectTimeout, retried: spoken',
    run: async (rig) => {
      rig.sim.inject({ kind: 'delay-handshake', ms: 5000 });
      await rig.spoken(SAY, 'alert');
    },
  },

  // ---- malformed frames, empty audio --------------------------------------------------------
  ...(['not-json', 'no-header', 'truncated'] as const).map(
    (what): Row => ({
      name: `a malformed frame (${what}) before any audio: the socket is discarded, spoken on a fresh one`,
      run: async (rig) => {
        rig.sim.inject({ kind: 'malformed-frame', what });
        await rig.spoken(SAY, 'alert');
        // The first frame of the first connection was the nonsense (task-started or session.created).
        assert.notEqual(rig.sim.transcripts[0]?.closeCode, undefined, 'the socket that spoke nonsense was closed');
        assert.ok(rig.sim.transcripts.length >= 2, 'and replaced');
      },
    }),
  ),
  ...(['not-json', 'truncated'] as const).map(
    (what): Row => ({
      name: `a malformed frame (${what}) in the middle of the audio: ProtocolError to catch, partial audio closed`,
      sim: { realTimeFactor: 1, chunkMs: 40 },
      run: async (rig) => {
        const out = rig.say(LONG, 'long');
        await waitFor(() => rig.chunkCount >= 2, 5000, 'audio flowing');
        rig.sim.inject({ kind: 'malformed-frame', what });
        const o = await out;
        assert.equal(o.kind, 'error');
        assert.equal(o.kind === 'error' && o.code, 'ProtocolError');
        assert.equal(o.kind === 'error' && o.msg.topic, 'long');
        const heard = rig.partials.get('long');
        assert.ok(heard && rig.audioOf(LONG).subarray(0, heard.length).equals(heard), 'what was heard is the start of the utterance');
      },
    }),
  ),
  {
    name: 'a task that produces no audio: NoAudio to catch',
    services: ['cosyvoice'],
    run: async (rig) => {
      rig.sim.inject({ kind: 'empty-audio' });
      await rig.fails(SAY, 'alert', 'NoAudio');
    },
  },
];

describe('reliability: fault matrix (issue 9)', function () {
  this.timeout(15000);
  let rig: Rig | undefined;

  before(() => {
    helper.settings({ ttsConfigConnection: { ...TUNING, qwenIdleMs: 100 } } as Record<string, unknown>);
  });
  after(() => {
    helper.settings({});
  });
  runsRigs(() => {
    const current = rig;
    rig = undefined;
    return current;
  });

  for (const service of SERVICES) {
    it(`${service}: a redeploy in the middle of an utterance: no late sends, no errors, no socket or timer left, then it speaks`, async () => {
      rig = await Rig.start(service, { realTimeFactor: 1, chunkMs: 40 });
      const old = rig.tts as unknown as { error: { callCount: number } };
      void rig.say(LONG, 'long').catch(() => undefined);
      await waitFor(() => rig!.chunkCount >= 3, 5000, 'audio flowing');
      const errorsBefore = old.error.callCount;
      await rig.deploy();
      const atRedeploy = rig.chunkCount;
      await waitFor(() => rig!.sim.stats.openSockets === 0, 2000, 'the old socket closed by the redeploy');
      await waitFor(() => rig!.liveTimers().length === 0, 2000, `no timer of the old flow left (${rig.liveTimers().join(' | ')})`);
      await sleep(300);
      assert.equal(rig.chunkCount, atRedeploy, 'no audio from the old node after it closed');
      assert.equal(old.error.callCount, errorsBefore, 'the closed node reported no error');
      assert.equal(rig.outcomes.get('long'), undefined, 'the cut utterance is neither joined nor reported as an error');
      await rig.spoken(NEXT, 'after');
    });
  }

  for (const row of rows) {
    for (const service of row.services ?? SERVICES) {
      it(`${service}: ${row.name}`, async () => {
        rig = await Rig.start(service, row.sim ?? {}, { cfg: row.cfg });
        await row.run(rig, service);
        // The queue behind the fault still plays.
        await rig.spoken(NEXT, 'after', { complete: true });
        rig.assertEachOnce();
      });
    }
  }
});
