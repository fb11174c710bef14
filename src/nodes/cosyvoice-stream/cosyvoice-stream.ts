import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { CosyVoiceTaskParams } from '../../dashscope/cosyvoice';
import { CosyVoiceEngine } from '../../speech/cosyvoice-engine';
import { resolveCosyVoiceParams, type CosyVoiceNodeProps } from '../../speech/cosyvoice-settings';
import { nodeDefaults } from '../shared/node-defaults';
import { attachSynthesis, type InputMode } from '../shared/synthesis-node';

interface CosyVoiceStreamDef extends NodeDef, CosyVoiceNodeProps {
  config: string;
  input: InputMode;
  cache?: boolean;
  fallback?: boolean;
}

const OVERRIDES = ['voice', 'instruction', 'rate', 'pitch', 'volume'] as const;

export = function registerCosyVoiceStream(RED: NodeAPI): void {
  function CosyVoiceStream(this: Node, def: CosyVoiceStreamDef): void {
    RED.nodes.createNode(this, def);
    const props: CosyVoiceNodeProps = def;
    // The node's own settings are checked once, at deploy; messages without overrides reuse them.
    const { defaults, defaultsError, voiceRequired } = nodeDefaults((voice) => resolveCosyVoiceParams(props, voice ? { voice } : {}));
    attachSynthesis<CosyVoiceTaskParams>(RED, this, def.config, def.input === 'stream' ? 'stream' : 'utterance', {
      resolve: (msg) => {
        if (OVERRIDES.some((k) => msg[k] !== undefined)) {
          return resolveCosyVoiceParams(props, { voice: msg.voice, instruction: msg.instruction, rate: msg.rate, pitch: msg.pitch, volume: msg.volume });
        }
        if (defaultsError) throw defaultsError;
        if (voiceRequired) throw voiceRequired;
        return defaults as CosyVoiceTaskParams;
      },
      createEngine: (manager) => new CosyVoiceEngine(manager),
      warmsCosyVoice: true,
      prewarm: (config) => {
        if (defaults) config.manager?.armCosyVoice(defaults);
      },
      speakingLabel: (p) => p.voice,
      settingsError: defaultsError,
      service: 'cosyvoice',
      model: props.model,
      defaultSettings: defaults,
      audioOf: (p) => ({ format: p.format, sampleRate: p.sampleRate }),
      languageOf: (p) => p.languageHints?.[0],
      // One attempt per recovery check, not an utterance's wait (docs/protocol.md "Reconnecting").
      probe: (manager) => manager.probeCosyVoice(),
    }, { cache: def.cache === true, fallback: def.fallback === true });
  }

  RED.nodes.registerType('cosyvoice-stream', CosyVoiceStream);
};
