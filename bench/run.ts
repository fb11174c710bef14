/**
 * npm run bench: the real nodes in a real Node-RED runtime against the simulator on loopback.
 * Prints a table and writes bench/results.json. `--quick` runs fewer iterations.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Service } from './flows';
import { NodeRedHost } from './node-red-host';
import { announce, type AnnounceResult } from './scenarios/announce';
import { cacheHit, type CacheHitResult } from './scenarios/cache-hit';
import { cold, type ColdResult } from './scenarios/cold';
import { load, type LoadResult } from './scenarios/load';
import { roundTrip, type RoundTripResult } from './scenarios/round-trip';
import { soak, type SoakResult } from './scenarios/soak';
import { BENCH_ALSA_ENV, speakerLatency, type SpeakerResult } from './scenarios/speaker';
import { throughput, type ThroughputResult } from './scenarios/throughput';
import { missing } from '../test/support/system-deps';
import { warm, type WarmResult } from './scenarios/warm';

const quick = process.argv.includes('--quick');
/** `--only=warm,roundTrip` runs just those scenarios (names: the keys of Results below). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wanted = (name: string): boolean => !only || only.includes(name);
const SERVICES: Service[] = ['cosyvoice', 'qwen'];
const IDLE_MS = 1000;

interface Results {
  machine: { cpu: string; cores: number; memoryGb: number; node: string; date: string };
  command: string;
  load: LoadResult | null;
  warm: WarmResult[];
  announce: AnnounceResult[];
  cold: ColdResult[];
  roundTrip: RoundTripResult[];
  throughput: ThroughputResult[];
  soak: SoakResult[];
  speaker: SpeakerResult[];
  cacheHit: CacheHitResult[];
  /** Scenarios that could not run on this machine, and why. */
  skipped: Record<string, string>;
}

/** `rows`: one row per element of an array, or one row per property of a single result. */
function table(title: string, rows: object): void {
  console.log(`\n${title}`);
  console.table(rows);
}

// Before anything can load the speaker addon: the test ALSA device, never a real sound card.
Object.assign(process.env, BENCH_ALSA_ENV);

async function main(): Promise<void> {
  if (!(globalThis as { gc?: unknown }).gc) console.warn('run with --expose-gc (npm run bench does) for the soak figures');
  // Fresh processes, before this one starts a runtime: nothing of ours competes for the CPU.
  const loaded = wanted('load') ? load(join(__dirname, '..'), quick ? 7 : 15) : null;
  if (loaded) table('Load: requiring the six node files in a fresh process (baseline: what Node-RED has loaded already)', loaded);
  if (only?.every((name) => name === 'load')) {
    console.log('\n(--only: bench/results.json left as it was)');
    process.exit(0);
  }
  // The client-side limits guard a real account's quotas (3 CosyVoice starts/s, Qwen sessions per
  // minute per model); the simulator has none, and a soak opens a Qwen session per utterance.
  const host = await NodeRedHost.start({
    taskStartsPerSecond: 0,
    qwenRequestsPerMinute: { 'qwen3-tts-flash-realtime': 1_000_000 },
    cosyvoiceIdleMs: IDLE_MS,
    qwenIdleMs: IDLE_MS,
  });
  const results: Results = {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() },
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    load: loaded,
    warm: [],
    announce: [],
    cold: [],
    roundTrip: [],
    throughput: [],
    soak: [],
    speaker: [],
    cacheHit: [],
    skipped: {},
  };
  try {
    if (wanted('warm')) for (const s of SERVICES) results.warm.push(await warm(host, s, quick ? 100 : 500));
    if (wanted('warm')) table('Warm: first-audio overhead in ms over the simulator\'s configured latency', results.warm);

    if (wanted('announce')) for (const s of SERVICES) results.announce.push(await announce(host, s, quick ? 25 : 100));
    if (wanted('announce')) table('Announcement pace (400 ms apart): first-audio overhead in ms, node and raw client taking turns', results.announce);

    if (wanted('cold')) for (const s of SERVICES) for (const keepWarm of [false, true]) results.cold.push(await cold(host, s, keepWarm, IDLE_MS, quick ? 3 : 7));
    if (wanted('cold')) table('Cold: first audio in ms (simulator latency 20 ms), after deploy and after the idle close', results.cold);

    if (wanted('roundTrip')) for (const s of SERVICES) results.roundTrip.push(await roundTrip(host, s, 50, quick ? 5 : 15));
    if (wanted('roundTrip')) table('50 ms round trip (service latency 200 ms): warm vs. a connection per utterance, ms', results.roundTrip);

    const counts = quick ? [25, 100] : [25, 50, 100, 150, 200, 300];
    if (wanted('throughput')) for (const s of SERVICES) results.throughput.push(await throughput(host, s, counts));
    for (const t of results.throughput) table(`Throughput, ${t.service}: concurrent real-time streams (max without underrun: ${t.maxStreamsWithoutUnderrun})`, t.runs);

    if (wanted('soak')) for (const s of SERVICES) results.soak.push(await soak(host, s, quick ? 2000 : 10_000));
    if (wanted('soak')) table('Soak: memory before and after (after GC), MB', results.soak);

    const noSpeaker = wanted('speaker') ? await missing('speaker') : undefined;
    if (noSpeaker) {
      results.skipped.speaker = noSpeaker;
      console.log(`\npcm-speaker scenario skipped: ${noSpeaker}`);
    } else if (wanted('speaker')) {
      for (const [prebufferMs, rtf] of [[0, 0], [200, 0], [0, 1], [200, 1]] as const) {
        results.speaker.push(await speakerLatency(host, prebufferMs, rtf, quick ? 5 : 20));
      }
      table('pcm-speaker: first chunk out of the synthesis node → first bytes into the device, ms', results.speaker);
    }

    if (wanted('cacheHit')) for (const s of SERVICES) results.cacheHit.push(await cacheHit(host, s, quick ? 50 : 200));
    if (wanted('cacheHit')) table('Phrase cache: first audio in ms, a hit vs. the same phrase live (simulator latency 20 ms)', results.cacheHit);
  } finally {
    await host.stop();
  }
  if (only || Object.keys(results.skipped).length > 0) {
    console.log(`\n(${only ? '--only' : 'scenarios skipped'}: bench/results.json left as it was)`);
  } else {
    writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log('\nwrote bench/results.json');
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
