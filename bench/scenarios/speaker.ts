import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BENCH_KEY } from '../flows';
import type { NodeRedHost } from '../node-red-host';
import { startSimProcess } from '../sim-process';
import { sleep } from '../speak';
import { median, round } from '../stats';

export interface SpeakerResult {
  backend: string;
  prebufferMs: number;
  /** 0: the simulator sends the whole utterance at once; 1: in real time, as the service streams. */
  realTimeFactor: number;
  /** First audio chunk out of the synthesis node → first write into the speaker addon. */
  firstChunkToFirstWriteMs: number;
  runs: number;
}

interface WritableProto {
  _write(chunk: Buffer, encoding: string, callback: (err?: Error | null) => void): void;
}

/**
 * pcm-speaker playing into the test ALSA device (a null sink: no sound card is touched). The
 * `speaker` addon is the one the node loads (same module instance), and its `_write` is wrapped
 * to timestamp the first bytes handed to the device.
 */
export async function speakerLatency(host: NodeRedHost, prebufferMs: number, realTimeFactor: number, runs: number): Promise<SpeakerResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Speaker = require('speaker') as { prototype: WritableProto };
  const original = Speaker.prototype._write;
  let firstWrite = -1;
  Speaker.prototype._write = function timed(this: WritableProto, chunk, encoding, callback) {
    if (firstWrite < 0) firstWrite = performance.now();
    return original.call(this, chunk, encoding, callback);
  };
  const sim = await startSimProcess({ apiKeys: [BENCH_KEY], firstAudioLatencyMs: 20, realTimeFactor });
  const samples: number[] = [];
  try {
    await host.deploy([
      { id: 'bench-tab', type: 'tab', label: 'bench' },
      { id: 'bench-cfg', type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, workspace: '', keepWarm: true, credentials: { apiKey: BENCH_KEY } },
      { id: 'tts0', type: 'cosyvoice-stream', z: 'bench-tab', config: 'bench-cfg', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: '24000', input: 'utterance', wires: [['spk'], []] },
      { id: 'spk', type: 'pcm-speaker', z: 'bench-tab', device: '', backend: 'speaker', volume: '100', prebufferMs: String(prebufferMs), queue: 'queue', wires: [['spk-done']] },
      { id: 'spk-done', type: 'debug', z: 'bench-tab', active: false, tosidebar: false, console: false, complete: 'false', wires: [] },
    ]);
    await sleep(1500); // the node probes the addon in a child process first
    for (let i = 0; i < runs + 1; i++) {
      let firstChunk = -1;
      const finished = new Promise<void>((resolve) => {
        const off = host.onSend((e, at) => {
          if (e.source.id === 'tts0' && e.source.port === 0 && firstChunk < 0 && (e.msg.payload as Buffer).length > 0) firstChunk = at;
          if (e.source.id === 'spk') {
            off();
            resolve();
          }
        });
      });
      firstWrite = -1;
      host.node('tts0').receive({ payload: 'The front door is open.' });
      await finished;
      if (i > 0) samples.push(firstWrite - firstChunk); // the first run opens the device
      await sleep(100);
    }
    return { backend: 'speaker', prebufferMs, realTimeFactor, firstChunkToFirstWriteMs: round(median(samples)), runs };
  } finally {
    Speaker.prototype._write = original;
    await host.deploy([]);
    await sim.stop();
  }
}

/** The test sound device: writes go to a null sink (see test/alsa/asound.conf). */
export const BENCH_ALSA_ENV = { ALSA_CONFIG_PATH: join(__dirname, '..', '..', 'test', 'alsa', 'asound.conf'), CAPTURE_FILE: '/dev/null' };
