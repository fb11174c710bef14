import { benchFlow, BENCH_KEY, type Service } from '../flows';
import type { NodeRedHost } from '../node-red-host';
import { startSimProcess } from '../sim-process';
import { speak, sleep } from '../speak';
import { median, percentile, round } from '../stats';

export interface CacheHitResult {
  service: Service;
  utterances: number;
  /** First audio of the same phrase synthesized live on a warm connection (simulator latency 20 ms). */
  liveP50: number;
  /** First audio of a phrase cache hit: a file read, no network. */
  hitP50: number;
  hitP99: number;
  /** Sockets the tts-config's connection manager opened or reused during the hits (0 expected). */
  connectionsDuringHits: number;
}

const TEXT = 'The front door is open.';
const GAP_MS = 30;

interface ManagerView {
  manager?: { stats(): { opened: number; reused: number } };
}

/** Sockets opened plus sockets reused by the bench's tts-config so far. */
function sockets(host: NodeRedHost): number {
  const stats = (host.node('bench-cfg') as unknown as ManagerView).manager?.stats();
  return stats ? stats.opened + stats.reused : NaN;
}

/** Time to first audio of a phrase cache hit, next to the same phrase synthesized live. */
export async function cacheHit(host: NodeRedHost, service: Service, utterances: number): Promise<CacheHitResult> {
  const sim = await startSimProcess({ apiKeys: [BENCH_KEY], firstAudioLatencyMs: 20, realTimeFactor: 0 });
  try {
    // Live first, on a node without cache; then the same phrase from a node with the cache on.
    await host.deploy(benchFlow({ service, baseUrl: sim.baseUrl, keepWarm: true }));
    await sleep(300);
    for (let i = 0; i < 10; i++) await speak(host, 'tts0', TEXT);
    const live: number[] = [];
    for (let i = 0; i < utterances; i++) {
      await sleep(GAP_MS);
      live.push((await speak(host, 'tts0', TEXT)).firstAudioMs);
    }

    const cached = benchFlow({ service, baseUrl: sim.baseUrl, keepWarm: false }).map((n) => ((n as { id: string }).id === 'tts0' ? { ...n, cache: true } : n));
    await host.deploy([]);
    await host.deploy(cached);
    await sleep(300);
    await speak(host, 'tts0', TEXT); // the miss that fills the cache
    await sleep(200); // the entry is written after the utterance
    const before = sockets(host);
    const hits: number[] = [];
    for (let i = 0; i < utterances; i++) {
      await sleep(GAP_MS);
      hits.push((await speak(host, 'tts0', TEXT)).firstAudioMs);
    }
    const after = sockets(host);
    return {
      service,
      utterances,
      liveP50: round(median(live)),
      hitP50: round(median(hits)),
      hitP99: round(percentile(hits, 99)),
      connectionsDuringHits: after - before,
    };
  } finally {
    await host.deploy([]);
    await sim.stop();
  }
}
