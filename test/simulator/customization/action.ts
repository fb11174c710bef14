/** What every customization action handler receives and returns. */
import type { IncomingHttpHeaders } from 'node:http';
import type { JsonObject } from '../json';
import type { ResolvedOptions } from '../options';
import type { OssResolver } from '../upload/resolve';
import type { VoiceStore } from '../voice-store';

export interface ActionContext {
  input: JsonObject;
  /** `parameters` of the body, `{}` when absent (Java omits it, Python sends `{}`). */
  parameters: JsonObject;
  headers: IncomingHttpHeaders;
  voices: VoiceStore;
  options: ResolvedOptions['customization'];
  /** Looks up `oss://` samples uploaded to temporary storage by this caller for this model. */
  resolveOss: OssResolver;
}

export interface ActionResult {
  output: unknown;
  usage: unknown;
}

export type ActionHandler = (ctx: ActionContext) => ActionResult;

export function newestFirst<T extends { createdAt: number }>(items: T[]): T[] {
  return items.map((v, i) => ({ v, i })).sort((a, b) => b.v.createdAt - a.v.createdAt || b.i - a.i).map((x) => x.v);
}
