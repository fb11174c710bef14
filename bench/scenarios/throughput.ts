import { performance } from 'node:perf_hooks';
import { benchFlow, BENCH_KEY, type Service } from '../flows';
import type { NodeRedHost } from '../node-red-host';
import { startSimProcess } from '../sim-process';
import { sleep } from '../speak';
import { round } from '../stats';

export interface ThroughputRun {
  streams: number;
  audioSeconds: number;
  /** CPU time of this process (Node-RED and the nodes; the simulator runs elsewhere) per second of audio. */
  cpuMsPerAudioSecond: number;
  underruns: number;
  worstLatenessMs: number;
}

export interface ThroughputResult {
  service: Service;
  prebufferMs: number;
  runs: ThroughputRun[];
  maxStreamsWithoutUnderrun: number;
}

const BYTES_PER_SECOND = 24000 * 2;
// About six seconds of audio at the simulator's 60 ms per character.
const TEXT = 'Attention please: the evening train to the city centre leaves from platform two in five minutes.';

/**
 * N synthesis nodes, each speaking at once while the simulator streams in real time. A chunk that
 * reaches the output after a player with `prebufferMs` of buffer would have needed it is an underrun.
 */
async function run(host: NodeRedHost, service: Service, streams: number, prebufferMs: number): Promise<ThroughputRun> {
  const sim = await startSimProcess({ apiKeys: [BENCH_KEY], firstAudioLatencyMs: 50, realTimeFactor: 1, chunkMs: 100 });
  try {
    await host.deploy(benchFlow({ service, baseUrl: sim.baseUrl, keepWarm: false, nodes: streams }));
    await sleep(300);
    const state = new Map<string, { start: number; bytes: number; done: boolean }>();
    let underruns = 0;
    let worst = 0;
    let finished = 0;
    let audioBytes = 0;
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const off = host.onSend((e, at) => {
      const s = state.get(e.source.id);
      if (!s) return;
      if (e.source.port === 1) {
        if (!s.done && ++finished === streams) resolveAll();
        s.done = true;
        return;
      }
      const len = (e.msg.payload as Buffer).length;
      if (len === 0) return;
      if (s.start < 0) s.start = at;
      const deadline = s.start + prebufferMs + (s.bytes / BYTES_PER_SECOND) * 1000;
      const late = at - deadline;
      if (late > 0) underruns++;
      worst = Math.max(worst, late);
      s.bytes += len;
      audioBytes += len;
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < streams; i++) {
      state.set(`tts${i}`, { start: -1, bytes: 0, done: false });
      host.node(`tts${i}`).receive({ payload: TEXT });
    }
    await Promise.race([all, sleep(60_000)]);
    off();
    const cpu = process.cpuUsage(cpu0);
    void t0;
    const audioSeconds = audioBytes / BYTES_PER_SECOND;
    return {
      streams,
      audioSeconds: round(audioSeconds, 1),
      cpuMsPerAudioSecond: round((cpu.user + cpu.system) / 1000 / audioSeconds),
      underruns,
      worstLatenessMs: round(Math.max(0, worst)),
    };
  } finally {
    await host.deploy([]);
    await sim.stop();
  }
}

export async function throughput(host: NodeRedHost, service: Service, counts: number[], prebufferMs = 200): Promise<ThroughputResult> {
  const runs: ThroughputRun[] = [];
  let max = 0;
  for (const n of counts) {
    const r = await run(host, service, n, prebufferMs);
    runs.push(r);
    if (r.underruns === 0) max = n;
    else break;
  }
  return { service, prebufferMs, runs, maxStreamsWithoutUnderrun: max };
}
