/**
 * Client of the voice customization endpoint (docs/protocol.md "Custom voices"): one POST per
 * action, routed by the body's `model`. Covers CosyVoice cloning and design (`voice-enrollment`),
 * Qwen cloning (`qwen-voice-enrollment`) and Qwen design (`qwen-voice-design`), and gives every
 * service's answers one shape (CustomVoice) so the nodes need not know four dialects.
 */
import { DashScopeError, isThrottling } from './errors';
import { requestJson, type CallOptions, type HttpAccess } from './http-json';
import { OSS_RESOLVE_HEADER } from './temporary-upload';
import { cosyVoiceTargetOf, type CustomizationModel, type VoiceFamily, type VoiceKind } from './voice-services';

export type VoiceStatus = 'DEPLOYING' | 'OK' | 'UNDEPLOYED';

/** A custom voice as the nodes report it, whichever service made it. */
export interface CustomVoice {
  voice: string;
  family: VoiceFamily;
  kind: VoiceKind;
  service: CustomizationModel;
  /** The only synthesis model the voice speaks with. */
  targetModel?: string;
  /** Qwen voices have no status: they are usable at once, so they are OK. */
  status: VoiceStatus;
  created?: string;
  modified?: string;
  language?: string;
  voicePrompt?: string;
  previewText?: string;
  /** CosyVoice clones: the sample URL the voice was made from. */
  sampleUrl?: string;
}

export interface PreviewAudio {
  data: Buffer;
  sampleRate: number;
  format: string;
}

export interface CreatedVoice {
  voice: string;
  targetModel: string;
  requestId?: string;
  /** Designs: the preview text spoken by the new voice. */
  preview?: PreviewAudio;
  /** Qwen clones made in a degraded mode because the sample was poor (newer docs). */
  fallbackReason?: string;
}

export interface CosyVoiceCloneRequest {
  targetModel: string;
  prefix: string;
  /** https:// or oss:// (the resolve header is added for the latter). */
  url: string;
  languageHints?: string[];
}

export interface DesignRequest {
  targetModel: string;
  /** CosyVoice prefix or Qwen preferred_name. */
  name: string;
  voicePrompt: string;
  previewText: string;
  language: string;
  sampleRate: number;
  format: string;
}

export interface QwenCloneRequest {
  targetModel: string;
  preferredName: string;
  /** data: URI or public URL. */
  audio: string;
  text?: string;
  language?: string;
}

const SERVICE_LABEL: Record<CustomizationModel, string> = {
  'voice-enrollment': 'CosyVoice voice customization',
  'qwen-voice-enrollment': 'Qwen voice cloning',
  'qwen-voice-design': 'Qwen voice design',
};

/**
 * Every action answers synchronously; a create makes the service fetch and process the sample
 * first, so calls get more time than the generic default (docs/protocol.md "Custom voices: requests").
 */
const CALL_TIMEOUT_MS = 120_000;

const PAGE_SIZE = 100;
/** Each service keeps at most 1000 voices: 11 pages of 100 reach the end (docs/protocol.md "Custom voices: requests"). */
const MAX_PAGES = 11;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function badResponse(service: CustomizationModel, what: string): DashScopeError {
  return new DashScopeError({ code: 'BadResponse', message: `${SERVICE_LABEL[service]}: the answer has no ${what}`, origin: 'protocol', retryable: false });
}

/**
 * Says quota and rate-limit failures plainly (the service's own code is kept for catch nodes):
 * a full voice quota needs a delete, a rate limit needs a pause, arrears need the console.
 */
export function explainError(err: DashScopeError, service: CustomizationModel): DashScopeError {
  const label = SERVICE_LABEL[service];
  const original = `(${err.code}: ${err.message})`;
  let message: string | undefined;
  if (err.code === 'Throttling.AllocationQuota' || /voice limit exceeded/i.test(err.message)) {
    message = `voice quota reached: the account already holds the most voices ${label} allows (1000); delete voices you no longer use and try again ${original}`;
  } else if (isThrottling(err)) {
    message = `rate limit: too many requests to ${label} right now; wait a little and try again ${original}`;
  } else if (err.code === 'Arrearage') {
    message = `the Alibaba Cloud account is not in good standing (overdue payment); check the billing console ${original}`;
  } else if (err.code.startsWith('AccessDenied') || err.code === 'Model.AccessDenied' || err.code === 'Workspace.AccessDenied') {
    message = `access denied: this key or workspace may not use ${label} ${original}`;
  }
  if (!message) return err;
  return new DashScopeError({ code: err.code, message, origin: err.origin, retryable: err.retryable, status: err.status, requestId: err.requestId, cause: err });
}

function familyOf(service: CustomizationModel): VoiceFamily {
  return service === 'voice-enrollment' ? 'cosyvoice' : 'qwen';
}

function statusOf(v: unknown): VoiceStatus {
  return v === 'DEPLOYING' || v === 'UNDEPLOYED' ? v : 'OK';
}

/**
 * A CosyVoice designed voice carries its description; its id has a `-vd-` after the model
 * (docs/protocol.md "Custom voices: requests").
 */
function cosyVoiceKind(id: string, entry: Record<string, unknown>): VoiceKind {
  if (entry.voice_prompt !== undefined) return 'design';
  const target = cosyVoiceTargetOf(id);
  return target && /^-vd-[A-Za-z0-9]+-[0-9a-f]+$/.test(id.slice(target.length)) ? 'design' : 'clone';
}

/** One list/query entry (or create answer) of any service, as a CustomVoice. */
export function toCustomVoice(service: CustomizationModel, entry: Record<string, unknown>, id?: string): CustomVoice {
  const voice = id ?? str(entry.voice_id) ?? str(entry.voice) ?? '';
  const family = familyOf(service);
  const kind: VoiceKind = service === 'voice-enrollment' ? cosyVoiceKind(voice, entry) : service === 'qwen-voice-design' ? 'design' : 'clone';
  const out: CustomVoice = {
    voice,
    family,
    kind,
    service,
    targetModel: str(entry.target_model) ?? (family === 'cosyvoice' ? cosyVoiceTargetOf(voice) : undefined),
    status: statusOf(entry.status),
    created: str(entry.gmt_create),
    modified: str(entry.gmt_modified),
    language: str(entry.language),
    voicePrompt: str(entry.voice_prompt),
    previewText: str(entry.preview_text),
    sampleUrl: str(entry.resource_link),
  };
  for (const key of Object.keys(out) as (keyof CustomVoice)[]) if (out[key] === undefined) delete out[key];
  return out;
}

function previewOf(output: Record<string, unknown>): PreviewAudio | undefined {
  const p = output.preview_audio;
  if (!isRecord(p) || typeof p.data !== 'string') return undefined;
  return {
    data: Buffer.from(p.data, 'base64'),
    sampleRate: typeof p.sample_rate === 'number' ? p.sample_rate : Number(p.sample_rate) || 0,
    format: str(p.response_format) ?? 'wav',
  };
}

export class CustomizationClient {
  constructor(
    private readonly access: HttpAccess,
    private readonly options: CallOptions = {},
  ) {}

  /** One action: the parsed `output` (an object, `{}` when absent) and the request id. */
  async call(
    service: CustomizationModel,
    input: Record<string, unknown>,
    parameters?: Record<string, unknown>,
  ): Promise<{ output: Record<string, unknown>; requestId?: string }> {
    // An oss:// sample (CosyVoice `url`, or Qwen `audio.data`) is resolvable only with this header
    // (docs/protocol.md "Temporary file upload").
    const usesOss = JSON.stringify(input).includes('"oss://');
    const body: Record<string, unknown> = { model: service, input };
    if (parameters) body.parameters = parameters;
    try {
      const reply = await requestJson({
        method: 'POST',
        url: this.access.endpoints.customization,
        credentials: this.access.credentials,
        headers: usesOss ? { [OSS_RESOLVE_HEADER]: 'enable' } : undefined,
        body,
        what: SERVICE_LABEL[service],
        timeoutMs: CALL_TIMEOUT_MS,
        ...this.options,
      });
      return { output: isRecord(reply.body.output) ? reply.body.output : {}, requestId: reply.requestId };
    } catch (err) {
      throw err instanceof DashScopeError ? explainError(err, service) : err;
    }
  }

  // ---- create ------------------------------------------------------------------------------

  async createCosyVoiceClone(req: CosyVoiceCloneRequest): Promise<CreatedVoice> {
    const input: Record<string, unknown> = { action: 'create_voice', target_model: req.targetModel, prefix: req.prefix, url: req.url };
    if (req.languageHints?.length) input.language_hints = req.languageHints;
    const { output, requestId } = await this.call('voice-enrollment', input);
    const voice = str(output.voice_id);
    if (!voice) throw badResponse('voice-enrollment', 'voice_id');
    return { voice, targetModel: req.targetModel, requestId };
  }

  async createCosyVoiceDesign(req: DesignRequest): Promise<CreatedVoice> {
    const input = {
      action: 'create_voice',
      target_model: req.targetModel,
      prefix: req.name,
      voice_prompt: req.voicePrompt,
      preview_text: req.previewText,
      language_hints: [req.language],
    };
    const { output, requestId } = await this.call('voice-enrollment', input, { sample_rate: req.sampleRate, response_format: req.format });
    const voice = str(output.voice_id);
    if (!voice) throw badResponse('voice-enrollment', 'voice_id');
    return { voice, targetModel: str(output.target_model) ?? req.targetModel, requestId, preview: previewOf(output) };
  }

  async createQwenClone(req: QwenCloneRequest): Promise<CreatedVoice> {
    const input: Record<string, unknown> = { action: 'create', target_model: req.targetModel, preferred_name: req.preferredName, audio: { data: req.audio } };
    if (req.text) input.text = req.text;
    if (req.language) input.language = req.language;
    const { output, requestId } = await this.call('qwen-voice-enrollment', input);
    const voice = str(output.voice);
    if (!voice) throw badResponse('qwen-voice-enrollment', 'voice');
    const created: CreatedVoice = { voice, targetModel: str(output.target_model) ?? req.targetModel, requestId };
    if (output.fallback_mode === true) created.fallbackReason = str(output.fallback_reason) ?? 'unknown';
    return created;
  }

  async createQwenDesign(req: DesignRequest): Promise<CreatedVoice> {
    const input = {
      action: 'create',
      target_model: req.targetModel,
      voice_prompt: req.voicePrompt,
      preview_text: req.previewText,
      preferred_name: req.name,
      language: req.language,
    };
    const { output, requestId } = await this.call('qwen-voice-design', input, { sample_rate: req.sampleRate, response_format: req.format });
    const voice = str(output.voice);
    if (!voice) throw badResponse('qwen-voice-design', 'voice');
    return { voice, targetModel: str(output.target_model) ?? req.targetModel, requestId, preview: previewOf(output) };
  }

  /** CosyVoice clones only: a new sample, and the voice deploys again (docs/protocol.md "Custom voices: requests"). */
  async updateCosyVoiceClone(voiceId: string, url: string): Promise<void> {
    await this.call('voice-enrollment', { action: 'update_voice', voice_id: voiceId, url });
  }

  // ---- manage ------------------------------------------------------------------------------

  /** Every voice of the service (all pages), newest first as the service orders them. */
  async list(service: CustomizationModel, filter: { prefix?: string } = {}): Promise<CustomVoice[]> {
    const action = service === 'voice-enrollment' ? 'list_voice' : 'list';
    const voices: CustomVoice[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const input: Record<string, unknown> = { action, page_index: page, page_size: PAGE_SIZE };
      if (filter.prefix && service === 'voice-enrollment') input.prefix = filter.prefix;
      const { output } = await this.call(service, input);
      const entries = Array.isArray(output.voice_list) ? output.voice_list.filter(isRecord) : [];
      voices.push(...entries.map((e) => toCustomVoice(service, e)));
      const total = typeof output.total_count === 'number' ? output.total_count : undefined;
      if (entries.length < PAGE_SIZE || (total !== undefined && voices.length >= total)) break;
    }
    return voices;
  }

  /** One voice's details. Qwen cloning has no query action, so its list is searched (docs/protocol.md "Custom voices: requests"). */
  async query(service: CustomizationModel, voice: string): Promise<CustomVoice> {
    if (service === 'qwen-voice-enrollment') {
      const found = (await this.list(service)).find((v) => v.voice === voice);
      if (!found) {
        throw new DashScopeError({ code: 'VoiceNotFound', message: `no Qwen cloned voice "${voice}" on this account`, origin: 'http', retryable: false });
      }
      return found;
    }
    const input = service === 'voice-enrollment' ? { action: 'query_voice', voice_id: voice } : { action: 'query', voice };
    const { output } = await this.call(service, input);
    return toCustomVoice(service, output, voice);
  }

  async remove(service: CustomizationModel, voice: string): Promise<void> {
    const input = service === 'voice-enrollment' ? { action: 'delete_voice', voice_id: voice } : { action: 'delete', voice };
    await this.call(service, input);
  }
}
