import type { Node, NodeAPI, NodeDef } from 'node-red';
import { QWEN_ENGINE_DEFAULTS, QwenEngine } from '../../speech/qwen-engine';
import { resolveQwenSettings, type QwenNodeProps, type QwenUtteranceSettings } from '../../speech/qwen-settings';
import type { Message } from '../shared/message-base';
import { nodeDefaults } from '../shared/node-defaults';
import { attachSynthesis, type InputMode } from '../shared/synthesis-node';

interface QwenRealtimeDef extends NodeDef, QwenNodeProps {
  config: string;
  input: InputMode;
  cache?: boolean;
  fallback?: boolean;
}

/** Message properties that override a blank node field; rate and pitch use the same names as cosyvoice-stream. */
const OVERRIDES = ['voice', 'instructions', 'rate', 'pitch', 'volume', 'languageType'] as const;

function overridesOf(msg: Message) {
  return { voice: msg.voice, instructions: msg.instructions, speechRate: msg.rate, pitchRate: msg.pitch, volume: msg.volume, languageType: msg.languageType };
}

export = function registerQwenRealtime(RED: NodeAPI): void {
  function QwenRealtime(this: Node, def: QwenRealtimeDef): void {
    RED.nodes.createNode(this, def);
    const props: QwenNodeProps = def;
    const { defaults, defaultsError, voiceRequired } = nodeDefaults((voice) => resolveQwenSettings(props, voice ? { voice } : {}));
    attachSynthesis<QwenUtteranceSettings>(RED, this, def.config, def.input === 'stream' ? 'stream' : 'utterance', {
      resolve: (msg) => {
        if (OVERRIDES.some((k) => msg[k] !== undefined)) return resolveQwenSettings(props, overridesOf(msg));
        if (defaultsError) throw defaultsError;
        if (voiceRequired) throw voiceRequired;
        return defaults as QwenUtteranceSettings;
      },
      // The node's own settings seed the engine's guess of the next utterance's (its spare sessions).
      createEngine: (manager) => new QwenEngine(manager, QWEN_ENGINE_DEFAULTS, defaults),
      // keepWarm: a session ready before the first utterance; the engine opens each next one while one speaks.
      prewarm: (config) => {
        if (defaults && config.manager && config.keepWarm) config.manager.prewarmQwen(defaults.model, defaults.session);
      },
      speakingLabel: (s) => s.session.voice,
      settingsError: defaultsError,
      service: 'qwen',
      model: props.model,
      defaultSettings: defaults,
      audioOf: (s) => ({ format: s.session.responseFormat, sampleRate: s.session.sampleRate }),
      languageOf: (s) => s.session.languageType,
      // One attempt per recovery check, parked for the next utterance (docs/protocol.md "Reconnecting").
      probe: (manager, s) => manager.probeQwen(s.model, s.session),
    }, { cache: def.cache === true, fallback: def.fallback === true });
  }

  RED.nodes.registerType('qwen-realtime', QwenRealtime);
};
