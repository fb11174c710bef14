import type { Node, NodeAPI, NodeDef } from 'node-red';
import { AudioSequence } from '../../audio/audio-message';
import { createDesign } from '../../voices/design';
import type { PlayableAudio } from '../../voices/preview-audio';
import type { Message } from '../shared/message-base';
import { attachVoiceNode, outputBase, type VoiceJob, type VoiceOutcome } from '../shared/voice-node';
import { manageVoices } from '../shared/voice-management';
import { actionPicker, familyOf, nodeActionOf } from '../shared/voice-settings';
import { checkDesignNode, DESIGN_ACTIONS, resolveDesignSettings, type DesignNodeProps } from './design-settings';

interface VoiceDesignDef extends NodeDef, DesignNodeProps {
  config: string;
}

/**
 * The preview on output 2 with the synthesis nodes' audio message contract: the audio as one
 * chunk, then the end marker, so pcm-speaker plays it and a join node in
 * automatic mode rebuilds it.
 */
function previewMessages(base: Message, preview: PlayableAudio): Message[] {
  const sequence = new AudioSequence(base, preview.audio);
  return [sequence.chunk(preview.payload), sequence.end('complete')];
}

export = function registerVoiceDesign(RED: NodeAPI): void {
  function VoiceDesign(this: Node, def: VoiceDesignDef): void {
    RED.nodes.createNode(this, def);
    const props: DesignNodeProps = def;
    let settingsError: Error | undefined;
    try {
      nodeActionOf(props.action, DESIGN_ACTIONS);
      checkDesignNode(props);
    } catch (err) {
      settingsError = err as Error;
    }

    const pickAction = actionPicker(props.action, DESIGN_ACTIONS);

    async function run(given: VoiceJob): Promise<VoiceOutcome> {
      const family = familyOf(props.family);
      const { action, job } = pickAction(given);
      if (action === 'list' || action === 'query' || action === 'delete') {
        const managed = await manageVoices(job, family, 'design', action);
        job.send([managed.msg, null]);
        return managed.outcome;
      }
      const { settings, ignoredPayload } = resolveDesignSettings(props, job.msg);
      if (ignoredPayload) job.warn('msg.payload was not used as the voice description: the node has its own (clear it to take the prompt from messages)');
      const base = outputBase(job.msg);
      const result = await createDesign(job, settings, (preview, voice, model) => {
        job.send([null, previewMessages({ ...base, voice, model }, preview)]);
      });
      const customVoice = { ...result.voice, ...(result.requestId ? { requestId: result.requestId } : {}) };
      job.send([{ ...base, payload: result.voice.voice, voice: result.voice.voice, model: result.voice.targetModel, customVoice }, null]);
      return { status: 'ready', params: { voice: result.voice.voice } };
    }

    attachVoiceNode(RED, this, def.config, { settingsError, run });
  }

  RED.nodes.registerType('voice-design', VoiceDesign);
};
