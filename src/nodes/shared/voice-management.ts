/**
 * list / query / delete, the same for both voice nodes: one customization call (two for a Qwen
 * clone query, which has no query action) and one output message.
 */
import { CustomizationClient } from '../../dashscope/customization';
import { serviceFor, type VoiceFamily, type VoiceKind } from '../../dashscope/voice-services';
import { baseMessage, type Message, type VoiceJob } from './voice-node';
import { voiceIdOf } from './voice-settings';

export type ManagementAction = 'list' | 'query' | 'delete';

export interface Managed {
  /** The message for output 1. */
  msg: Message;
  /** Short status text. */
  summary: string;
}

export async function manageVoices(job: VoiceJob, family: VoiceFamily, kind: VoiceKind, action: ManagementAction): Promise<Managed> {
  const service = serviceFor(family, kind);
  const client = new CustomizationClient(job.http, { signal: job.signal });
  const base = baseMessage(job.msg);
  if (action === 'list') {
    job.progress('listing voices');
    // CosyVoice clones and designs share one service: each node lists its own kind.
    const voices = (await client.list(service)).filter((v) => v.kind === kind);
    return { msg: { ...base, payload: voices }, summary: `${voices.length} voice${voices.length === 1 ? '' : 's'}` };
  }
  const id = voiceIdOf(job.msg, true);
  if (action === 'query') {
    job.progress('querying voice');
    const voice = await client.query(service, id);
    return { msg: { ...base, payload: voice, voice: voice.voice, model: voice.targetModel }, summary: `${voice.status}: ${id}` };
  }
  job.progress('deleting voice');
  await client.remove(service, id);
  return { msg: { ...base, payload: { voice: id, deleted: true }, voice: id }, summary: `deleted ${id}` };
}
