import type { AudioFormat } from '../audio/audio-message';
import type { Region } from './endpoints';

/** Typed view of the model and voice catalog (catalog.json, a snapshot of the public lists, shipped with the package). */
export interface ModelInfo {
  id: string;
  family: 'cosyvoice' | 'qwen-tts-realtime';
  regions: string[];
  systemVoices: boolean;
  formats: AudioFormat[];
  sampleRates: number[];
  defaultFormat: AudioFormat;
  defaultSampleRate: number;
  /** CosyVoice: the run-task parameters the model takes. */
  parameters: string[];
  /** Qwen: the session fields beyond voice/mode/format/rate the model takes. */
  tunables: string[];
  instructions: boolean;
  ssml: boolean;
  /** Qwen: the language_type values the model takes ("Auto" first); [] for CosyVoice. */
  languageTypes: string[];
}

export interface VoiceInfo {
  voice: string;
  models: string[];
  languages: string[];
  gender?: string | null;
  name?: string;
}

interface RawModel {
  id: string;
  family: string;
  regions: string[];
  system_voices: boolean;
  formats: string[];
  sample_rates: number[];
  default_format: string;
  default_sample_rate: number;
  supported_parameters?: string[];
  tunables?: string[];
  instruction?: { supported?: boolean | string };
  ssml?: boolean;
  language_type_values?: string[];
}

interface RawVoice {
  voice: string;
  models: string[];
  languages?: string[];
  gender?: string | null;
  name?: string;
  display_name_zh?: string;
}

/** The parsed catalog: models, system voices and limits. */
interface Catalog {
  raw: Record<string, unknown>;
  models: readonly ModelInfo[];
  byId: ReadonlyMap<string, ModelInfo>;
  cosyvoiceVoices: readonly VoiceInfo[];
  qwenVoices: readonly VoiceInfo[];
}

let parsed: Catalog | undefined;

/**
 * The catalog is read when it is first asked for (a node deployed, the editor's catalog), not when
 * Node-RED loads the node files: it is the largest single part of their load time, and a Node-RED
 * with the package installed but none of its nodes in use never needs it.
 */
function catalog(): Catalog {
  if (parsed) return parsed;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const raw = require('./catalog.json') as Record<string, unknown>;
  const models: ModelInfo[] = (raw.models as RawModel[]).map((m) => ({
    id: m.id,
    family: m.family === 'cosyvoice' ? 'cosyvoice' : 'qwen-tts-realtime',
    regions: m.regions,
    systemVoices: m.system_voices,
    formats: m.formats as AudioFormat[],
    sampleRates: m.sample_rates,
    defaultFormat: m.default_format as AudioFormat,
    defaultSampleRate: m.default_sample_rate,
    parameters: m.supported_parameters ?? [],
    tunables: m.tunables ?? [],
    instructions: m.instruction?.supported !== false && m.instruction?.supported !== undefined,
    ssml: m.ssml === true,
    languageTypes: m.language_type_values ?? [],
  }));
  const voiceLists = raw as { cosyvoice_system_voices: { voices: RawVoice[] }; qwen_system_voices: { voices: RawVoice[] } };
  parsed = {
    raw,
    models,
    byId: new Map(models.map((m) => [m.id, m])),
    cosyvoiceVoices: voices(voiceLists.cosyvoice_system_voices.voices),
    qwenVoices: voices(voiceLists.qwen_system_voices.voices),
  };
  return parsed;
}

function voices(list: RawVoice[]): VoiceInfo[] {
  return list.map((v) => ({ voice: v.voice, models: v.models, languages: v.languages ?? [], gender: v.gender, name: v.name ?? v.display_name_zh }));
}

/** The catalog as shipped (catalog.json), for the sections only one module reads. */
export function rawCatalog(): Readonly<Record<string, unknown>> {
  return catalog().raw;
}

export function allModels(): readonly ModelInfo[] {
  return catalog().models;
}

export function cosyVoiceVoices(): readonly VoiceInfo[] {
  return catalog().cosyvoiceVoices;
}

export function qwenVoices(): readonly VoiceInfo[] {
  return catalog().qwenVoices;
}

export function modelInfo(id: string): ModelInfo | undefined {
  return catalog().byId.get(id);
}

export function modelsOf(family: ModelInfo['family']): ModelInfo[] {
  return catalog().models.filter((m) => m.family === family);
}

/** The system voices a model accepts (custom voices are not listed here). */
export function systemVoicesFor(model: string): VoiceInfo[] {
  const info = catalog().byId.get(model);
  if (!info) return [];
  const list = info.family === 'cosyvoice' ? catalog().cosyvoiceVoices : catalog().qwenVoices;
  return list.filter((v) => v.models.includes(model));
}

export function isSystemVoiceOf(model: string, voice: string): boolean {
  return systemVoicesFor(model).some((v) => v.voice === voice);
}

/** The catalog names regions by their Alibaba Cloud ids; the tts-config node by their city. */
const REGION_IDS: Readonly<Record<Exclude<Region, 'custom'>, string>> = {
  beijing: 'cn-beijing',
  singapore: 'ap-southeast-1',
};

/** The public regions (as the tts-config node names them) where the catalog lists the model; [] for an unknown model. */
export function regionsOffering(model: string): Exclude<Region, 'custom'>[] {
  const listed = catalog().byId.get(model)?.regions ?? [];
  return (Object.keys(REGION_IDS) as Exclude<Region, 'custom'>[]).filter((r) => listed.includes(REGION_IDS[r]));
}

/**
 * A deploy-time warning for a model the catalog does not list in the configured region, naming
 * the regions that have it. Only a warning: the catalog is a snapshot and the service decides
 * (docs/protocol.md "Endpoints and regions"). None for a custom endpoint (its region is unknown)
 * or for a model the catalog does not know (the node's settings check reports that).
 */
export function regionWarning(model: string, region: Region): string | undefined {
  if (region === 'custom') return undefined;
  const offered = regionsOffering(model);
  if (!catalog().byId.has(model) || offered.includes(region)) return undefined;
  const where = offered.length > 0 ? `only in ${offered.join(', ')}` : 'in no public region';
  return `${model} is offered ${where}, not in ${region} (per the model catalog): the service will probably refuse it; pick another model or a tts-config for ${offered[0] ?? 'another region'}`;
}

export type ParamRange = readonly [min: number, max: number];

/** A service's task or session parameters: their ranges and defaults, by the service's parameter names. */
export interface ServiceParameters {
  ranges: Readonly<Record<string, ParamRange>>;
  defaults: Readonly<Record<string, unknown>>;
}

interface Limits {
  cosyvoice_limits: { instruction_max_chars: number; param_ranges: Record<string, ParamRange>; defaults: Record<string, unknown> };
  qwen_realtime_session_defaults: Record<string, unknown> & { param_ranges: Record<string, ParamRange> };
}

/** Parameter ranges and defaults of a model family (docs/protocol.md "CosyVoice: limits", "Qwen: limits and rate limits"). */
export function serviceParameters(family: ModelInfo['family']): ServiceParameters {
  const limits = catalog().raw as unknown as Limits;
  if (family === 'cosyvoice') return { ranges: limits.cosyvoice_limits.param_ranges, defaults: limits.cosyvoice_limits.defaults };
  const { param_ranges: ranges, ...defaults } = limits.qwen_realtime_session_defaults;
  return { ranges, defaults };
}

/** The longest CosyVoice instruction, in characters by the counting rule (docs/protocol.md "CosyVoice: limits"). */
export function cosyVoiceInstructionMaxChars(): number {
  return (catalog().raw as unknown as Limits).cosyvoice_limits.instruction_max_chars;
}
