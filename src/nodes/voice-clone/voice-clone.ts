import type { Node, NodeAPI, NodeDef } from 'node-red';
import { InputError } from '../../speech/input-error';
import { createClone, updateClone } from '../../voices/clone';
import { attachVoiceNode, outputBase, type VoiceJob, type VoiceOutcome } from '../shared/voice-node';
import { manageVoices } from '../shared/voice-management';
import { sampleFolderOf } from '../shared/limits';
import { actionPicker, familyOf, nodeActionOf, pollingOf, voiceIdOf } from '../shared/voice-settings';
import { checkCloneNode, CLONE_ACTIONS, resolveCloneSettings, type CloneNodeProps } from './clone-settings';
import type { SampleFileAccess } from './sample-file';
import { readSampleInput } from './sample-input';

interface VoiceCloneDef extends NodeDef, CloneNodeProps {
  config: string;
}

export = function registerVoiceClone(RED: NodeAPI): void {
  function VoiceClone(this: Node, def: VoiceCloneDef): void {
    RED.nodes.createNode(this, def);
    const props: CloneNodeProps = def;
    // The node's own settings are checked at deploy (nothing is called then), so a mistake shows at once.
    let settingsError: Error | undefined;
    try {
      nodeActionOf(props.action, CLONE_ACTIONS);
      checkCloneNode(props);
    } catch (err) {
      settingsError = err as Error;
    }

    const pickAction = actionPicker(props.action, CLONE_ACTIONS);
    // Local sample files come only from the folder settings.js names (never from the flow, which
    // may have been imported); why a path was refused is told only to the debug log.
    const files: SampleFileAccess = {
      folder: sampleFolderOf(RED.settings as unknown as Record<string, unknown>),
      logDetail: (text) => this.debug(text),
    };

    async function run(given: VoiceJob): Promise<VoiceOutcome> {
      const family = familyOf(props.family);
      const { action, job } = pickAction(given);
      if (action === 'list' || action === 'query' || action === 'delete') {
        const managed = await manageVoices(job, family, 'clone', action);
        job.send(managed.msg);
        return managed.outcome;
      }
      if (action === 'update') {
        if (family === 'qwen') throw new InputError('InvalidInput', 'Qwen voice cloning has no update: delete the voice and create it again');
        const id = voiceIdOf(job.msg, false);
        const polling = pollingOf(props, job.msg);
        const input = await readSampleInput(job.msg.payload, family, files);
        const voice = await updateClone(job, polling, id, input);
        job.send({ ...outputBase(job.msg), payload: voice.voice, voice: voice.voice, model: voice.targetModel, customVoice: voice });
        return { status: 'updated', params: { voice: voice.voice } };
      }
      const settings = resolveCloneSettings(props, job.msg);
      const input = await readSampleInput(job.msg.payload, family, files);
      const result = await createClone(job, settings, input);
      if (result.fallbackReason) {
        job.warn(`voice ${result.voice.voice} was made in fallback mode (${result.fallbackReason}): the sample was poor or did not match msg.text; it may sound less like the speaker`);
      }
      const customVoice = {
        ...result.voice,
        ...(result.requestId ? { requestId: result.requestId } : {}),
        ...(result.fallbackReason ? { fallbackReason: result.fallbackReason } : {}),
      };
      job.send({ ...outputBase(job.msg), payload: result.voice.voice, voice: result.voice.voice, model: result.voice.targetModel, customVoice });
      return { status: 'ready', params: { voice: result.voice.voice } };
    }

    attachVoiceNode(RED, this, def.config, { settingsError, run });
  }

  RED.nodes.registerType('voice-clone', VoiceClone);
};
