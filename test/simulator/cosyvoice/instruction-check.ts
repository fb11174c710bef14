/**
 * The `instruction` parameter rules (cosyvoice.md §1, §5.1): free text only for custom voices of
 * v3.5 and v3-flash; system voices flagged "Instruct" accept only their fixed Chinese templates;
 * everything else, and anything over 100 characters, is `[tts:]Engine return error code: 428`.
 */
import { instructTemplateEntry, type CatalogModel } from '../catalog';
import { isRecord } from '../json';
import { billedCharacters } from '../text-count';
import type { VoiceCheck } from './voice-check';

export const ENGINE_428 = '[tts:]Engine return error code: 428';
const MAX_INSTRUCTION_CHARS = 100;

const PLACEHOLDER_LISTS: Record<string, string> = {
  情感值: 'emotions',
  场景: 'scenes',
  角色: 'roles',
  身份: 'identities',
  方言: 'dialects',
};

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Values allowed for a placeholder; scene lists may differ per model. */
function placeholderValues(entry: Record<string, unknown>, placeholder: string, model: string): string[] {
  const field = PLACEHOLDER_LISTS[placeholder];
  if (!field) return [];
  const v = entry[field];
  return isRecord(v) ? stringList(v[model]) : stringList(v);
}

function matchesTemplate(voice: string, model: string, instruction: string): boolean {
  const entry = instructTemplateEntry(voice);
  if (!isRecord(entry) || !stringList(entry.models).includes(model)) return false;
  return stringList(entry.templates).some((template) => {
    const pattern = template
      .split(/(<[^<>]+>)/)
      .map((part) => {
        const ph = /^<([^<>]+)>$/.exec(part)?.[1];
        if (ph === undefined) return escapeRegex(part);
        const values = placeholderValues(entry, ph, model);
        return values.length ? `(?:${values.map(escapeRegex).join('|')})` : '(?!)';
      })
      .join('');
    return new RegExp(`^${pattern}$`).test(instruction);
  });
}

/** Returns an error message, or undefined when the instruction is acceptable. */
export function checkInstruction(model: CatalogModel, voice: string, check: VoiceCheck & { ok: true }, instruction: string): string | undefined {
  if (billedCharacters(instruction) > MAX_INSTRUCTION_CHARS) return ENGINE_428;
  if (check.kind === 'custom') return model.instruction.supported === true ? undefined : ENGINE_428;
  if (!check.system.instruct) return ENGINE_428;
  return matchesTemplate(voice, model.id, instruction) ? undefined : ENGINE_428;
}
