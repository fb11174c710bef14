import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import type { TtsConfigNode } from '../../src/nodes/tts-config/types';
import { DashScopeSimulator } from '../simulator';
import type { ConnectionTranscript } from '../simulator';
import { waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';
import { builtNode, coreNode, freshServerEachTest, helper, nextMessages } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';
import { clientTypes } from '../variants/qwen-transcripts';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('qwen-realtime'), coreNode('sequence/17-split.js'), coreNode('common/25-catch.js')];
const RATES = [0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3];

type Receiver = Node & { receive(msg: Record<string, unknown>): void };
interface EventMsg {
  payload: { text: string; sessionId: string };
}

/** The speech_rate a Qwen connection was set up with. */
function rateOf(t: ConnectionTranscript): number | undefined {
  const update = t.entries.find((e) => e.dir === 'C' && (e.json as { type?: string }).type === 'session.update');
  return (update?.json as { session?: { speech_rate?: number } } | undefined)?.session?.speech_rate;
}

describe('idle sessions per config node, through qwen-realtime', () => {
  let sim: DashScopeSimulator;

  freshServerEachTest({ ownSettings: true, after: () => sim?.close() });

  const manager = (): NonNullable<TtsConfigNode['manager']> => (helper.getNode('cfg') as TtsConfigNode).manager!;
  /** Spares opened for a repeated setting and ended without ever getting text. */
  const evicted = (): (number | undefined)[] =>
    sim.transcripts.filter((t) => t.service === 'qwen' && clientTypes(t).includes('session.finish') && !clientTypes(t).includes('input_text_buffer.append')).map(rateOf);

  async function say(rate: number, text: string): Promise<void> {
    const events = nextMessages<EventMsg>(helper.getNode('events'), 1);
    (helper.getNode('qwen') as Receiver).receive({ payload: text, rate });
    const [event] = await events;
    assert.equal(event?.payload.text, text);
  }

  for (const bound of [4, 2]) {
    it(`${bound === 4 ? 'default' : 'settings.js maxIdleSessions'}: seven rates each said twice leave ${bound} spares open, the least recently used closed`, async () => {
      if (bound !== 4) helper.settings({ ttsConfigConnection: { maxIdleSessions: bound } } as Record<string, unknown>);
      const timers = trackSourceTimers();
      sim = await DashScopeSimulator.start({ firstAudioLatencyMs: 10, realTimeFactor: 0.02 });
      // A blank rate on the node: msg.rate decides.
      const flow = synthesisFlow(sim.baseUrl, { id: 'qwen', type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'commit' });
      await helper.load(nodes, flow, { cfg: { apiKey: KEY } });

      for (const [i, rate] of RATES.entries()) {
        // The second of a pair repeats the settings, so it opens a spare for a third (qwen-engine.ts).
        await say(rate, `Rate ${rate}, first.`);
        await say(rate, `Rate ${rate}, again.`);
        await waitFor(
          () => sim.stats.connections.qwen === 3 * (i + 1) && (i < bound ? manager().stats().idle === i + 1 : evicted().length === i + 1 - bound),
          2000,
          `the spare for rate ${rate}`,
        );
        assert.ok(manager().stats().idle <= bound, `${manager().stats().idle} idle sessions`);
        // At rest only the parked spares are open: the utterances' sessions and evicted spares have ended.
        await waitFor(() => sim.stats.openSockets === Math.min(i + 1, bound), 2000, `${Math.min(i + 1, bound)} open sockets after rate ${rate}`);
      }
      assert.deepEqual(evicted(), RATES.slice(0, RATES.length - bound), 'the spares parked first were the ones ended');

      const opened = sim.stats.connections.qwen;
      const oldestKept = RATES[RATES.length - bound] as number;
      await say(oldestKept, 'A kept setting again.');
      assert.equal(sim.stats.connections.qwen, opened, `rate ${oldestKept}: its spare was kept and is used`);
      await say(RATES[0] as number, 'An evicted setting again.');
      assert.equal(sim.stats.connections.qwen, opened + 1, `rate ${RATES[0]}: its spare was ended, a new session`);

      await helper.unload();
      await waitFor(() => sim.stats.openSockets === 0, 2000, 'every socket closed');
      await new Promise((resolve) => setImmediate(resolve));
      timers.stop();
      assert.deepEqual(timers.live(), [], 'no timer left behind');
    });
  }
});
