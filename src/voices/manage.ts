/**
 * The custom voices an account holds: list, query and delete, the same for clones and designs of
 * both families. One customization call each (a Qwen clone query searches the list: that service
 * has no query action, docs/protocol.md "Custom voices: requests").
 */
import { CustomizationClient, type CustomVoice } from '../dashscope/customization';
import type { HttpAccess } from '../dashscope/http-json';
import { serviceFor, type VoiceFamily, type VoiceKind } from '../dashscope/voice-services';
import type { ActionContext } from './context';

function clientFor(ctx: ActionContext): CustomizationClient {
  return new CustomizationClient(ctx.http, { signal: ctx.signal });
}

/** The voices of one kind: CosyVoice clones and designs share one service, so the list is filtered. */
export async function listVoices(ctx: ActionContext, family: VoiceFamily, kind: VoiceKind): Promise<CustomVoice[]> {
  ctx.progress('listingVoices');
  return (await clientFor(ctx).list(serviceFor(family, kind))).filter((v) => v.kind === kind);
}

export async function queryVoice(ctx: ActionContext, family: VoiceFamily, kind: VoiceKind, voice: string): Promise<CustomVoice> {
  ctx.progress('queryingVoice');
  return clientFor(ctx).query(serviceFor(family, kind), voice);
}

export async function deleteVoice(ctx: ActionContext, family: VoiceFamily, kind: VoiceKind, voice: string): Promise<void> {
  ctx.progress('deletingVoice');
  await clientFor(ctx).remove(serviceFor(family, kind), voice);
}

/** Every custom voice of a family, clones and designs, optionally only those made for `model`. */
export async function listFamilyVoices(http: HttpAccess, family: VoiceFamily, model?: string): Promise<CustomVoice[]> {
  const client = new CustomizationClient(http);
  const services = [...new Set([serviceFor(family, 'clone'), serviceFor(family, 'design')])];
  const lists = await Promise.all(services.map((s) => client.list(s)));
  return lists.flat().filter((v) => !model || v.targetModel === model);
}
