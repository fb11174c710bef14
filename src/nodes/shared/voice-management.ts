/**
 * list / query / delete, the same for both voice nodes: the work is src/voices/manage.ts; here it
 * becomes one output message and what the status says of it.
 */
import type { VoiceFamily, VoiceKind } from '../../dashscope/voice-services';
import { deleteVoice, listVoices, queryVoice } from '../../voices/manage';
import type { Message } from './message-base';
import { outputBase, type VoiceJob, type VoiceOutcome } from './voice-node';
import { voiceIdOf } from './voice-settings';

export type ManagementAction = 'list' | 'query' | 'delete';

export interface Managed {
  /** The message for output 1. */
  msg: Message;
  /** What the status says of it. */
  outcome: VoiceOutcome;
}

export async function manageVoices(job: VoiceJob, family: VoiceFamily, kind: VoiceKind, action: ManagementAction): Promise<Managed> {
  const base = outputBase(job.msg);
  if (action === 'list') {
    const voices = await listVoices(job, family, kind);
    return { msg: { ...base, payload: voices }, outcome: { status: voices.length === 1 ? 'listedOne' : 'listed', params: { count: voices.length } } };
  }
  const id = voiceIdOf(job.msg, true);
  if (action === 'query') {
    const voice = await queryVoice(job, family, kind, id);
    return { msg: { ...base, payload: voice, voice: voice.voice, model: voice.targetModel }, outcome: { status: 'queried', params: { voice: id, state: voice.status } } };
  }
  await deleteVoice(job, family, kind, id);
  return { msg: { ...base, payload: { voice: id, deleted: true }, voice: id }, outcome: { status: 'deleted', params: { voice: id } } };
}
