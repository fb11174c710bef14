import { benchFlow, BENCH_KEY, type Service } from '../flows';
import type { NodeRedHost } from '../node-red-host';
import { startSimProcess } from '../sim-process';
import { speak, sleep } from '../speak';
import { median, round } from '../stats';

export interface ColdResult {
  service: Service;
  keepWarm: boolean;
  /** First audio of the first utterance after a deploy (median of several deploys). */
  afterDeployMs: number;
  /** First audio of an utterance after the connection sat idle past the idle limit. */
  afterIdleMs: number;
  warmMs: number;
}

const TEXT = 'Someone is at the front door.';

/**
 * The first utterance after deploy, and after the idle close (the bench shortens the 60 s limit
 * through the ttsConfigConnection setting), with and without keepWarm.
 */
export async function cold(host: NodeRedHost, service: Service, keepWarm: boolean, idleMs: number, rounds: number): Promise<ColdResult> {
  const sim = await startSimProcess({ apiKeys: [BENCH_KEY], firstAudioLatencyMs: 20, realTimeFactor: 0 });
  const afterDeploy: number[] = [];
  const afterIdle: number[] = [];
  const warmRuns: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      await host.deploy([]);
      await host.deploy(benchFlow({ service, baseUrl: sim.baseUrl, keepWarm }));
      await sleep(200); // an alert rarely arrives in the same millisecond as the deploy
      afterDeploy.push((await speak(host, 'tts0', TEXT)).firstAudioMs);
      warmRuns.push((await speak(host, 'tts0', TEXT)).firstAudioMs);
      await sleep(idleMs * 2.5);
      afterIdle.push((await speak(host, 'tts0', TEXT)).firstAudioMs);
    }
    return { service, keepWarm, afterDeployMs: round(median(afterDeploy)), afterIdleMs: round(median(afterIdle)), warmMs: round(median(warmRuns)) };
  } finally {
    await host.deploy([]);
    await sim.stop();
  }
}
