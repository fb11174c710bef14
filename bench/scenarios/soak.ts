import { benchFlow, BENCH_KEY, type Service } from '../flows';
import type { NodeRedHost } from '../node-red-host';
import { startSimProcess } from '../sim-process';
import { speak, sleep } from '../speak';
import { round } from '../stats';

export interface SoakResult {
  service: Service;
  utterances: number;
  seconds: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssGrowthMb: number;
  /** Buffers outside the JS heap (audio lives there). */
  externalBeforeMb: number;
  externalAfterMb: number;
}

function settle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

const mb = (bytes: number): number => round(bytes / 1024 / 1024, 1);

/** Many utterances through one node: memory must come back to where it was. */
export async function soak(host: NodeRedHost, service: Service, utterances: number): Promise<SoakResult> {
  const sim = await startSimProcess({ apiKeys: [BENCH_KEY], firstAudioLatencyMs: 0, realTimeFactor: 0 });
  try {
    await host.deploy(benchFlow({ service, baseUrl: sim.baseUrl, keepWarm: true }));
    await sleep(300);
    for (let i = 0; i < 200; i++) await speak(host, 'tts0', `Warm-up ${i}.`);
    settle();
    const before = process.memoryUsage();
    const t0 = Date.now();
    for (let i = 0; i < utterances; i++) await speak(host, 'tts0', `Soak ${i % 100}.`);
    const seconds = (Date.now() - t0) / 1000;
    await sleep(200);
    settle();
    const after = process.memoryUsage();
    return {
      service,
      utterances,
      seconds: round(seconds, 1),
      heapBeforeMb: mb(before.heapUsed),
      heapAfterMb: mb(after.heapUsed),
      rssBeforeMb: mb(before.rss),
      rssAfterMb: mb(after.rss),
      rssGrowthMb: mb(after.rss - before.rss),
      externalBeforeMb: mb(before.external),
      externalAfterMb: mb(after.external),
    };
  } finally {
    await host.deploy([]);
    await sim.stop();
  }
}
