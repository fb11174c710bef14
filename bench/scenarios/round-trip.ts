import { startDelayProxy } from '../delay-proxy';
import { benchFlow, BENCH_KEY, type Service } from '../flows';
import type { NodeRedHost } from '../node-red-host';
import { cosyVoicePerConnection, qwenPerConnection, rawCosyVoice, rawQwen } from '../raw-clients';
import { startSimProcess } from '../sim-process';
import { speak, sleep } from '../speak';
import { median, round } from '../stats';

export interface RoundTripResult {
  service: Service;
  rttMs: number;
  serviceLatencyMs: number;
  /** Warm node: message in → first audio out. */
  warmFirstAudioMs: number;
  /** Warm first audio minus (service latency + one round trip): the target is ≤ 3 ms. */
  warmOverOneRttMs: number;
  /** A minimal hand-written client on a warm connection through the same proxy: the floor here. */
  rawWarmFirstAudioMs: number;
  /** A new connection per utterance, as the official samples do it. */
  perConnectionFirstAudioMs: number;
}

const TEXT = 'The garage door has been open for ten minutes.';
/** Announcements come seconds apart, not back to back: time enough to get the next task ready. */
const GAP_MS = 300;

/** A 50 ms round trip between the nodes and the service, through a delaying proxy on loopback. */
export async function roundTrip(host: NodeRedHost, service: Service, rttMs: number, runs: number): Promise<RoundTripResult> {
  const serviceLatencyMs = 200;
  const sim = await startSimProcess({ apiKeys: [BENCH_KEY], firstAudioLatencyMs: serviceLatencyMs, realTimeFactor: 0 });
  const proxy = await startDelayProxy(sim.port, rttMs / 2);
  const proxied = `http://127.0.0.1:${proxy.port}`;
  try {
    await host.deploy(benchFlow({ service, baseUrl: proxied, keepWarm: true }));
    await sleep(500);
    await speak(host, 'tts0', TEXT);
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      await sleep(GAP_MS);
      warm.push((await speak(host, 'tts0', TEXT)).firstAudioMs);
    }
    const perConnection: number[] = [];
    const wsBase = proxied.replace(/^http/, 'ws');
    for (let i = 0; i < runs; i++) {
      perConnection.push(
        service === 'cosyvoice'
          ? await cosyVoicePerConnection(wsBase, BENCH_KEY, TEXT)
          : await qwenPerConnection(wsBase, BENCH_KEY, 'qwen3-tts-flash-realtime', TEXT),
      );
    }
    const raw = service === 'cosyvoice' ? await rawCosyVoice(wsBase, BENCH_KEY) : await rawQwen(wsBase, BENCH_KEY, 'qwen3-tts-flash-realtime');
    await raw.speak(TEXT);
    const rawWarm: number[] = [];
    for (let i = 0; i < runs; i++) rawWarm.push(await raw.speak(TEXT));
    raw.close();
    const warmMs = median(warm);
    return {
      service,
      rttMs,
      serviceLatencyMs,
      warmFirstAudioMs: round(warmMs),
      warmOverOneRttMs: round(warmMs - serviceLatencyMs - rttMs),
      rawWarmFirstAudioMs: round(median(rawWarm)),
      perConnectionFirstAudioMs: round(median(perConnection)),
    };
  } finally {
    await host.deploy([]);
    await proxy.close();
    await sim.stop();
  }
}
