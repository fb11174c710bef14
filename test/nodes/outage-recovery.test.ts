/**
 * Issue 16 item 8: one retry policy, whatever keepWarm says. With the service refusing connections
 * for 3 s, an utterance sent meanwhile waits and is spoken within 2 s of the service's return, on
 * both services with keepWarm on and off. Past the deadline it fails to catch, and the next
 * utterance after the return plays. The real built nodes, the default policy, a realistic pace.
 */
import assert from 'node:assert/strict';
import { waitFor } from '../support/collect';
import { helper, runsRigs } from '../support/node-red';
import { Rig, SERVICES, sleep } from '../reliability/harness';

/** The simulator's pace: first audio after 150 ms, audio streamed at 5x real time. */
const PACE = { firstAudioLatencyMs: 150, realTimeFactor: 0.2 };
const OUTAGE_MS = 3000;
const SAY = 'The garage door has been open for ten minutes.';
const NEXT = 'Everything is back to normal.';

describe('service outage: the waiting utterance is spoken when the service returns (issue 16)', function () {
  this.timeout(20_000);
  let rig: Rig | undefined;

  runsRigs(() => {
    const current = rig;
    rig = undefined;
    return current;
  });
  afterEach(() => {
    helper.settings({});
  });

  /** When the first audio chunk of `topic` reaches the node's output. */
  function firstAudioAt(topic: string): Promise<number> {
    return new Promise((resolve) => {
      helper.getNode('chunks').on('input', (raw: unknown) => {
        const msg = raw as { topic?: string; payload: Buffer };
        if (msg.topic === topic && msg.payload.length > 0) resolve(Date.now());
      });
    });
  }

  /** The service goes away: no new connection, and the ones open are cut (as a restart does). */
  async function goDown(r: Rig): Promise<void> {
    await r.sim.stopListening();
    r.sim.dropAll();
    await waitFor(() => r.sim.stats.openSockets === 0, 2000, 'every socket cut');
  }

  for (const service of SERVICES) {
    for (const keepWarm of [true, false]) {
      it(`${service}, keepWarm ${keepWarm ? 'on' : 'off'}: refused for 3 s, spoken within 2 s of the return`, async () => {
        helper.settings({});
        rig = await Rig.start(service, PACE, { cfg: { keepWarm } });
        await rig.spoken(SAY, 'before'); // warm: sockets, spares and (keepWarm) a task started ahead
        const down = Date.now();
        await goDown(rig);
        await sleep(300); // the background (keepWarm) attempts have failed a few times by now
        const heard = firstAudioAt('waiting');
        const outcome = rig.say(SAY, 'waiting', {}, 15_000);
        await sleep(OUTAGE_MS - (Date.now() - down));
        assert.equal(rig.outcomes.get('waiting'), undefined, 'still waiting, not failed');
        await rig.sim.resumeListening();
        const back = Date.now();
        const latency = (await heard) - back;
        const o = await outcome;
        assert.equal(o.kind, 'spoken', o.kind === 'error' ? `${o.code}: ${o.message}` : '');
        assert.ok(o.kind === 'spoken' && o.audio.equals(rig.audioOf(SAY)), 'the whole utterance, byte for byte');
        assert.ok(latency < 2000, `first audio ${latency} ms after the service returned`);
        assert.ok(rig.manager.stats().failed >= 3, 'it did keep trying during the outage');
        await rig.spoken(NEXT, 'after');
      });
    }
  }

  for (const service of SERVICES) {
    it(`${service}: past a (shortened) deadline the error reaches catch; the next utterance after the return plays`, async () => {
      helper.settings({ ttsConfigConnection: { waitDeadlineMs: 1500 } } as Record<string, unknown>);
      rig = await Rig.start(service, PACE, { cfg: { keepWarm: true } });
      await rig.spoken(SAY, 'before');
      await goDown(rig);
      const sent = Date.now();
      const msg = await rig.fails(SAY, 'late', 'NetworkError', /no connection to the service within 1\.5 s/);
      const waited = Date.now() - sent;
      assert.ok(waited >= 500 && waited < 2500, `failed at the deadline (${waited} ms)`);
      assert.match(String(msg.error?.message), /ECONNREFUSED/, 'the cause is named');
      assert.equal(rig.statuses().at(-1)?.fill, 'red', 'the node shows the failure');
      await rig.sim.resumeListening();
      await rig.spoken(NEXT, 'after');
      assert.equal(rig.statuses().at(-1)?.fill === 'red', false, 'and clears it');
    });
  }
});
