/**
 * Issue 9, bounded soak: hundreds of utterances per service through the real nodes, with faults
 * injected at random from a seeded PRNG (the seed is in the test name, so a failure can be
 * replayed exactly). Every utterance is accounted for — spoken byte for byte, or reported to the
 * catch node on its own message — the heap stays flat, and nothing is left open at the end.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Fault } from '../simulator';
import { helper, runsRigs } from '../support/node-red';
import { prng, Rig, type Service } from './harness';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SEED = Number(process.env.SOAK_SEED ?? 20261126);
const BATCH = 25;

const TUNING = {
  // The simulator enforces no rate here: the client's own limit (3 starts a second) would make this minutes long.
  taskStartsPerSecond: 1000,
  // Each Qwen utterance opens its own session, and a session counts against the model's request rate.
  qwenRequestsPerMinute: { 'qwen3-tts-flash-realtime': 1_000_000 },
  connectTimeoutMs: 300,
  backoff: { baseMs: 20, maxMs: 100, maxAttempts: 6 },
  throttleBackoff: { baseMs: 40, maxMs: 80, maxAttempts: 5 },
  cosyvoiceLimits: { startTimeoutMs: 200, finishTimeoutMs: 2000, idleFinishMs: 150 },
};

/** Faults the soak draws from, per service; each is either recovered from or reported. */
const FAULTS: Record<Service, Fault[]> = {
  cosyvoice: [
    { kind: 'drop-after-frames', frames: 0 },
    { kind: 'drop-after-frames', frames: 2 },
    { kind: 'fail-task', code: 'InternalError', message: 'Internal server error.' },
    { kind: 'fail-task', code: 'InvalidParameter', message: '[tts:]Engine return error code: 418' },
    { kind: 'fail-task', code: 'InvalidParameter', message: '[tts:]Engine return error code: 428', after: 'first-text' },
    { kind: 'fail-task', code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded, please try again later.' },
    { kind: 'malformed-frame', what: 'not-json' },
    { kind: 'malformed-frame', what: 'truncated' },
    { kind: 'delay-task-started', ms: 2000 },
    { kind: 'refuse-connection' },
    { kind: 'http-error', status: 503 },
    { kind: 'idle-close' },
    { kind: 'empty-audio' },
  ],
  qwen: [
    { kind: 'drop-after-frames', frames: 0 },
    { kind: 'drop-after-frames', frames: 2 },
    { kind: 'qwen-error', code: 'invalid_value', message: 'Invalid value.', on: 'append' },
    { kind: 'qwen-error', code: 'InternalError', message: 'Internal server error.', on: 'append', fatal: true },
    { kind: 'qwen-error', code: 'Throttling.RateQuota', message: 'Requests rate limit exceeded.', on: 'append' },
    { kind: 'malformed-frame', what: 'not-json' },
    { kind: 'malformed-frame', what: 'no-header' },
    { kind: 'delay-session-created', ms: 2000 },
    { kind: 'refuse-connection' },
    { kind: 'http-error', status: 429, code: 'Throttling.RateQuota' },
  ],
};

/** Codes a fault above may lead to; anything else (or no code) is a failure that is not explained. */
const EXPLAINED: Record<Service, Set<string>> = {
  cosyvoice: new Set(['ConnectionClosed', 'ProtocolError', 'InvalidParameter', 'InternalError', 'Throttling.RateQuota', 'NoAudio', 'StartTimeout', 'ConnectTimeout', 'NetworkError']),
  qwen: new Set(['ConnectionClosed', 'ProtocolError', 'invalid_value', 'InternalError', 'Throttling.RateQuota', 'NoAudio', 'StartTimeout', 'ConnectTimeout', 'NetworkError']),
};

const WORDS = ['the', 'kitchen', 'light', 'is', 'on', 'door', 'open', 'garden', 'rain', 'soon', 'battery', 'low', 'window', 'closed'];

function sentence(random: () => number, i: number): string {
  const n = 3 + Math.floor(random() * 8);
  const words = Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]);
  return `Notice ${i}: ${words.join(' ')}.`;
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('reliability: bounded soak (issue 9)', function () {
  this.timeout(90_000);
  let rig: Rig | undefined;

  before(() => {
    helper.settings({ ttsConfigConnection: { ...TUNING, qwenIdleMs: 60_000 } } as Record<string, unknown>);
  });
  after(() => {
    helper.settings({});
  });
  runsRigs(() => {
    const current = rig;
    rig = undefined;
    return current;
  });

  const plan: { service: Service; utterances: number; faultRate: number }[] = [
    { service: 'cosyvoice', utterances: 1500, faultRate: 0.08 },
    { service: 'qwen', utterances: 1000, faultRate: 0.08 },
  ];

  for (const { service, utterances, faultRate } of plan) {
    it(`${service}: ${utterances} utterances, faults at random (seed ${SEED}): every one spoken or reported, heap flat, no handles left`, async () => {
      const random = prng(SEED + (service === 'qwen' ? 1 : 0));
      // Commit mode for Qwen: the utterance ends on its response, without server_commit's grace wait.
      rig = await Rig.start(service, { recordTranscripts: false }, { node: service === 'qwen' ? { mode: 'commit' } : {} });
      const faults = FAULTS[service];
      let spoken = 0;
      let reported = 0;
      let injected = 0;
      const codes = new Map<string, number>();
      let baseline = 0;
      const heapSamples: number[] = [];

      for (let start = 0; start < utterances; start += BATCH) {
        const batch: { topic: string; text: string; outcome: ReturnType<Rig['outcome']> }[] = [];
        for (let i = start; i < Math.min(utterances, start + BATCH); i++) {
          if (random() < faultRate) {
            const fault = faults[Math.floor(random() * faults.length)] as Fault;
            rig.sim.inject(fault);
            injected++;
            if (process.env.SOAK_DEBUG) console.log(`u${i}: ${JSON.stringify(fault)}`);
          }
          const text = sentence(random, i);
          const topic = `u${i}`;
          // Generous: the whole batch may be queued ahead of this one, some of it recovering from faults.
          batch.push({ topic, text, outcome: rig.say(text, topic, {}, 30_000) });
        }
        for (const { topic, text, outcome } of batch) {
          const o = await outcome;
          if (o.kind === 'spoken') {
            assert.ok(o.audio.equals(rig.audioOf(text)), `${topic}: spoken audio differs from the service's`);
            spoken++;
          } else {
            assert.equal(o.msg.topic, topic, 'the report names its utterance');
            assert.ok(o.code && EXPLAINED[service].has(o.code), `${topic}: reported with an unexplained code ${o.code} (${o.message})`);
            codes.set(o.code as string, (codes.get(o.code as string) ?? 0) + 1);
            reported++;
          }
        }
        rig.assertEachOnce();
        rig.outcomes.clear();
        rig.partials.clear();
        rig.forgetSpyHistory();
        if (start === BATCH * 2) baseline = heapAfterGc();
        else if (start > BATCH * 2 && (start / BATCH) % 4 === 0) heapSamples.push(heapAfterGc());
      }

      rig.sim.clearFaults();
      if (process.env.SOAK_DEBUG) console.log({ spoken, reported, injected, codes: [...codes] });
      assert.equal(spoken + reported, utterances, 'every utterance accounted for');
      assert.ok(injected > utterances * faultRate * 0.5, `faults were injected (${injected})`);
      assert.ok(spoken > utterances * 0.8, `most utterances were spoken (${spoken}); reported: ${JSON.stringify([...codes])}`);
      const end = heapAfterGc();
      const growth = end - baseline;
      // Loose bound: tens of MB would mean utterances, sockets or listeners are kept.
      assert.ok(growth < 8 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MB over the soak (samples: ${heapSamples.map((h) => (h / 1048576).toFixed(1)).join(', ')})`);
    });
  }
});
