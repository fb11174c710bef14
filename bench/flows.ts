export type Service = 'cosyvoice' | 'qwen';
export const BENCH_KEY = 'sk-bench-key';

export interface FlowOptions {
  service: Service;
  baseUrl: string;
  keepWarm: boolean;
  nodes?: number;
  mode?: 'server_commit' | 'commit';
}

/** Synthesis node ids are tts0, tts1, ...; their outputs go to inactive debug nodes (a send needs a wire). */
export function benchFlow(o: FlowOptions): object[] {
  const flow: object[] = [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    { id: 'bench-cfg', type: 'tts-config', region: 'custom', endpoint: o.baseUrl, workspace: '', keepWarm: o.keepWarm, credentials: { apiKey: BENCH_KEY } },
    { id: 'bench-sink', type: 'debug', z: 'bench-tab', active: false, tosidebar: false, console: false, complete: 'false', wires: [] },
  ];
  for (let i = 0; i < (o.nodes ?? 1); i++) {
    const common = { id: `tts${i}`, z: 'bench-tab', config: 'bench-cfg', format: 'pcm', sampleRate: '24000', input: 'utterance', wires: [['bench-sink'], ['bench-sink']] };
    flow.push(
      o.service === 'cosyvoice'
        ? { ...common, type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang', volume: '', rate: '', pitch: '', bitRate: '', seed: '', languageHints: '', instruction: '', ssml: false, wordTimestamps: false }
        : { ...common, type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: o.mode ?? 'commit', languageType: '', instructions: '', optimizeInstructions: false, speechRate: '', volume: '', pitchRate: '', bitRate: '' },
    );
  }
  return flow;
}
