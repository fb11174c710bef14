import raw from './catalog.json';
import type { AudioFormat } from './cosyvoice';
import type { Region } from './endpoints';

/** Typed view of the protocol catalog (shared/protocol/catalog.json, shipped with the package). */
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
}

interface RawVoice {
  voice: string;
  models: string[];
  languages?: string[];
  gender?: string | null;
  name?: string;
  display_name_zh?: string;
}

const rawModels = (raw as unknown as { models: RawModel[] }).models;

export const MODELS: readonly ModelInfo[] = rawModels.map((m) => ({
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
}));

const BY_ID = new Map(MODELS.map((m) => [m.id, m]));

function voices(list: RawVoice[]): VoiceInfo[] {
  return list.map((v) => ({ voice: v.voice, models: v.models, languages: v.languages ?? [], gender: v.gender, name: v.name ?? v.display_name_zh }));
}

const catalog = raw as unknown as { cosyvoice_system_voices: { voices: RawVoice[] }; qwen_system_voices: { voices: RawVoice[] } };
export const COSYVOICE_VOICES: readonly VoiceInfo[] = voices(catalog.cosyvoice_system_voices.voices);
export const QWEN_VOICES: readonly VoiceInfo[] = voices(catalog.qwen_system_voices.voices);

export function modelInfo(id: string): ModelInfo | undefined {
  return BY_ID.get(id);
}

export function modelsOf(family: ModelInfo['family']): ModelInfo[] {
  return MODELS.filter((m) => m.family === family);
}

/** The system voices a model accepts (custom voices are not listed here). */
export function systemVoicesFor(model: string): VoiceInfo[] {
  const info = BY_ID.get(model);
  if (!info) return [];
  const list = info.family === 'cosyvoice' ? COSYVOICE_VOICES : QWEN_VOICES;
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
  const listed = BY_ID.get(model)?.regions ?? [];
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
  if (!BY_ID.has(model) || offered.includes(region)) return undefined;
  const where = offered.length > 0 ? `only in ${offered.join(', ')}` : 'in no public region';
  return `${model} is offered ${where}, not in ${region} (per the model catalog): the service will probably refuse it; pick another model or a tts-config for ${offered[0] ?? 'another region'}`;
}
