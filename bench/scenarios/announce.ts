import { benchFlow, BENCH_KEY, type Service } from '../flows';
import type { NodeRedHost } from '../node-red-host';
import { rawCosyVoiceArmed, rawQwenSessions } from '../raw-clients';
import { startSimProcess } from '../sim-process';
import { speak, sleep } from '../speak';
import { percentile, round } from '../stats';

export interface AnnounceResult {
  service: Service;
  /** Utterances each for the node and for the raw client. */
  utterances: number;
  gapMs: number;
  simLatencyMs: number;
  /** First audio minus the simulator's configured latency, for the node. */
  nodeP50: number;
  nodeP99: number;
  /**
   * The same for a minimal hand-written client taking the node's protocol steps, in the same run:
   * for CosyVoice a task started ahead (keepWarm), for Qwen a session per utterance with the next
   * one opened while it speaks. What is left over is the package's code, not its protocol choices
   * (the warm scenario's clients take neither step: one saves a round trip, the other costs a
   * handshake during the wait for audio).
   */
  rawP50: number;
  rawP99: number;
  /** What the package adds: node minus raw client, at p50 and at p99. */
  packageP50: number;
  packageP99: number;
}

const TEXT = 'The washing machine has finished.';
/**
 * Alerts come one at a time, well apart: 400 ms is under the account's 3 task starts a second
 * (docs/protocol.md "CosyVoice: rate limit") and long enough for every timer of the node to fire in
 * the gap, which the 30 ms of the warm scenario is not.
 */
const GAP_MS = 400;

/** Utterances measured in a block before the other client takes over. */
const BLOCK = 25;

/**
 * Sequential utterances at announcement pace, the node and the raw client taking turns in blocks:
 * within a block each utterance follows the previous one of the same client by the gap, with
 * nothing else running in between (what an idle gap costs is the question), and the blocks
 * alternate so that both see the same machine (a shared machine drifts over a minute; one node
 * block followed by one raw block would measure the drift). The first utterance of a block follows
 * the other client's block, not the gap (and the bench's shortened idle close, 1 s, may have
 * closed the socket meanwhile): it is spoken but not counted.
 */
export async function announce(host: NodeRedHost, service: Service, utterances: number): Promise<AnnounceResult> {
  const simLatencyMs = 20;
  const sim = await startSimProcess({ apiKeys: [BENCH_KEY], firstAudioLatencyMs: simLatencyMs, realTimeFactor: 0 });
  const wsBase = sim.baseUrl.replace(/^http/, 'ws');
  const raw = service === 'cosyvoice' ? await rawCosyVoiceArmed(wsBase, BENCH_KEY) : await rawQwenSessions(wsBase, BENCH_KEY, 'qwen3-tts-flash-realtime');
  try {
    await host.deploy(benchFlow({ service, baseUrl: sim.baseUrl, keepWarm: true }));
    await sleep(300);
    for (let i = 0; i < 20; i++) {
      // warm-up, JIT and sockets: back to back is enough for that
      await speak(host, 'tts0', TEXT);
      await raw.speak(TEXT);
    }
    const node: number[] = [];
    const base: number[] = [];
    while (node.length < utterances) {
      const n = Math.min(BLOCK, utterances - node.length);
      await speak(host, 'tts0', TEXT);
      for (let i = 0; i < n; i++) {
        await sleep(GAP_MS);
        node.push((await speak(host, 'tts0', TEXT)).firstAudioMs - simLatencyMs);
      }
      await raw.speak(TEXT);
      for (let i = 0; i < n; i++) {
        await sleep(GAP_MS);
        base.push((await raw.speak(TEXT)) - simLatencyMs);
      }
    }
    const p = (values: number[], q: number): number => round(percentile(values, q));
    return {
      service,
      utterances,
      gapMs: GAP_MS,
      simLatencyMs,
      nodeP50: p(node, 50),
      nodeP99: p(node, 99),
      rawP50: p(base, 50),
      rawP99: p(base, 99),
      packageP50: round(percentile(node, 50) - percentile(base, 50)),
      packageP99: round(percentile(node, 99) - percentile(base, 99)),
    };
  } finally {
    raw.close();
    await host.deploy([]);
    await sim.stop();
  }
}
