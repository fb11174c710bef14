import type { TestFlows } from './node-red';

/**
 * The flow the synthesis-node tests deploy: a tts-config on the simulator, the node under test
 * (id `node.id`), its audio into a core join (whole utterances at `joined`) and into `chunks`,
 * its events into `events`, and a catch node whose messages reach `caught`.
 */
export function synthesisFlow(baseUrl: string, node: { id: string; type: string } & Record<string, unknown>, cfg: Record<string, unknown> = {}): TestFlows {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: baseUrl, keepWarm: false, ...cfg },
    { z: 'tab', config: 'cfg', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [['joiner', 'chunks'], ['events']], ...node },
    { id: 'joiner', type: 'join', z: 'tab', mode: 'auto', wires: [['joined']] },
    { id: 'joined', type: 'helper', z: 'tab' },
    { id: 'chunks', type: 'helper', z: 'tab' },
    { id: 'events', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}
