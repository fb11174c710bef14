import { benchFlow, BENCH_KEY, type Service } from '../flows';
import type { NodeRedHost } from '../node-red-host';
import { rawCosyVoice, rawQwen } from '../raw-clients';
import { startSimProcess } from '../sim-process';
import { speak, sleep } from '../speak';
import { median, percentile, round } from '../stats';

export interface WarmResult {
  service: Service;
  utterances: number;
  simLatencyMs: number;
  /** First audio minus the simulator's configured latency: the client's cost plus the simulator's own. */
  overheadP50: number;
  overheadP99: number;
  /** The same measured for a minimal hand-written client: what the simulator and loopback cost. */
  rawOverheadP50: number;
  rawOverheadP99: number;
  /** What the package adds over the minimal client (p50 difference). */
  packageP50: number;
}

const TEXT = 'The washing machine has finished.';
/** Utterances a little apart, as announcements are; both the nodes and the raw client get the same gap. */
const GAP_MS = 30;

/** Sequential utterances on a kept-warm connection, the everyday case. */
export async function warm(host: NodeRedHost, service: Service, utterances: number): Promise<WarmResult> {
  const simLatencyMs = 20;
  const sim = await startSimProcess({ apiKeys: [BENCH_KEY], firstAudioLatencyMs: simLatencyMs, realTimeFactor: 0 });
  try {
    await host.deploy(benchFlow({ service, baseUrl: sim.baseUrl, keepWarm: true }));
    await sleep(300);
    for (let i = 0; i < 20; i++) await speak(host, 'tts0', TEXT); // warm-up: JIT, sockets
    const node: number[] = [];
    for (let i = 0; i < utterances; i++) {
      await sleep(GAP_MS);
      node.push((await speak(host, 'tts0', TEXT)).firstAudioMs - simLatencyMs);
    }

    const wsBase = sim.baseUrl.replace(/^http/, 'ws');
    const raw = service === 'cosyvoice' ? await rawCosyVoice(wsBase, BENCH_KEY) : await rawQwen(wsBase, BENCH_KEY, 'qwen3-tts-flash-realtime');
    for (let i = 0; i < 20; i++) await raw.speak(TEXT);
    const base: number[] = [];
    for (let i = 0; i < utterances; i++) {
      await sleep(GAP_MS);
      base.push((await raw.speak(TEXT)) - simLatencyMs);
    }
    raw.close();
    return {
      service,
      utterances,
      simLatencyMs,
      overheadP50: round(median(node)),
      overheadP99: round(percentile(node, 99)),
      rawOverheadP50: round(median(base)),
      rawOverheadP99: round(percentile(base, 99)),
      packageP50: round(median(node) - median(base)),
    };
  } finally {
    await host.deploy([]);
    await sim.stop();
  }
}
