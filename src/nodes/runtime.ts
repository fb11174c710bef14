/**
 * The one runtime bundle every node file loads (`nodes/lib/runtime.js`): each module, class and
 * the catalog exist once however many node types Node-RED loads, so `instanceof` holds across
 * nodes and a Pi pays for the code once. `nodes/<type>.js` is a one-line entry picking its
 * registration function from here (written by scripts/build.mjs).
 */
import type { NodeAPI } from 'node-red';
import registerCosyVoiceStream = require('./cosyvoice-stream/cosyvoice-stream');
import registerPcmSpeaker = require('./pcm-speaker/pcm-speaker');
import registerQwenRealtime = require('./qwen-realtime/qwen-realtime');
import registerTtsConfig = require('./tts-config/tts-config');
import registerVoiceClone = require('./voice-clone/voice-clone');
import registerVoiceDesign = require('./voice-design/voice-design');

export const nodeTypes: Record<string, (RED: NodeAPI) => void> = {
  'tts-config': registerTtsConfig,
  'cosyvoice-stream': registerCosyVoiceStream,
  'qwen-realtime': registerQwenRealtime,
  'voice-clone': registerVoiceClone,
  'voice-design': registerVoiceDesign,
  'pcm-speaker': registerPcmSpeaker,
};
