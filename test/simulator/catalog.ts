/**
 * Typed view of src/dashscope/catalog.json (the model and voice catalog the package ships) plus
 * the lookups the services need.
 */
import catalogJson from '../../src/dashscope/catalog.json';

export interface CatalogModel {
  id: string;
  family: string;
  protocol: string;
  regions: string[];
  system_voices: boolean;
  custom_voices: { cloned?: boolean; designed?: boolean; service: string } | null;
  /** `true`, `false`, or a string describing a restricted form (v3-plus: system voices' templates only). */
  instruction: { supported: boolean | string; max_chars?: number };
  ssml?: boolean;
  word_timestamps?: boolean | string;
  formats: string[];
  default_format: string;
  sample_rates: number[];
  default_sample_rate: number;
  tunables?: string[];
  language_type_values?: string[];
  usage_unit: string;
  equivalent_to?: string | null;
}

export interface CosyVoiceSystemVoice {
  voice: string;
  ssml: boolean;
  instruct: boolean;
  word_timestamp: boolean;
  models: string[];
}

export interface QwenSystemVoice {
  voice: string;
  models: string[];
}

export interface CustomizationService {
  model: string;
  clone_targets?: string[];
  design_targets?: string[];
  targets?: string[];
}

export interface QwenSessionDefaults {
  mode: string;
  voice: string;
  response_format: string;
  sample_rate: number;
  language_type: string;
  param_ranges: Record<string, number[]>;
}

interface CatalogShape {
  models: CatalogModel[];
  qwen_realtime_session_defaults: QwenSessionDefaults;
  customization_services: CustomizationService[];
  qwen_system_voices: { voices: QwenSystemVoice[] };
  cosyvoice_system_voices: { voices: CosyVoiceSystemVoice[] };
  cosyvoice_instruct_templates: Record<string, unknown>;
}

// Assigned (not cast) so the compiler checks the JSON against the fields used here.
const catalog: CatalogShape = catalogJson;

export const COSYVOICE_PROTOCOL = 'cosyvoice-duplex-ws';
export const QWEN_PROTOCOL = 'qwen-realtime-ws';

const modelsById = new Map(catalog.models.map((m) => [m.id, m]));

export function findModel(id: string, protocol: string): CatalogModel | undefined {
  const m = modelsById.get(id);
  return m && m.protocol === protocol ? m : undefined;
}

export function cosyVoiceSystemVoice(voice: string): CosyVoiceSystemVoice | undefined {
  return catalog.cosyvoice_system_voices.voices.find((v) => v.voice === voice);
}

export function isQwenSystemVoiceAnywhere(voice: string): boolean {
  return catalog.qwen_system_voices.voices.some((v) => v.voice === voice);
}

/** `equivalent_to` may carry a remark ("… (assumed)"); only the id matters. */
function aliasKey(m: CatalogModel): string {
  return (m.equivalent_to ?? m.id).split(' ')[0] ?? m.id;
}

/**
 * Voice tables list some aliases only under one name (qwen-tts-realtime-latest is filed under
 * qwen-tts-realtime), so a model accepts the voices of every model sharing its snapshot.
 */
function aliasGroup(model: CatalogModel): Set<string> {
  const key = aliasKey(model);
  return new Set(catalog.models.filter((m) => aliasKey(m) === key || m.id === key).map((m) => m.id).concat(model.id));
}

export function qwenSystemVoicesFor(model: CatalogModel): Set<string> {
  if (!model.system_voices) return new Set();
  const group = aliasGroup(model);
  return new Set(catalog.qwen_system_voices.voices.filter((v) => v.models.some((m) => group.has(m))).map((v) => v.voice));
}

export function customizationService(model: string): CustomizationService | undefined {
  return catalog.customization_services.find((s) => s.model === model);
}

/** Raw per-voice instruct template entry (shape varies per voice, so it is parsed by its user). */
export function instructTemplateEntry(voice: string): unknown {
  return catalog.cosyvoice_instruct_templates[voice];
}

export function qwenSessionDefaults(): QwenSessionDefaults {
  return catalog.qwen_realtime_session_defaults;
}
