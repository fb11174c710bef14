/** Readers for `input` / `parameters` fields that throw the endpoint's InvalidParameter errors. */
import type { JsonObject } from '../json';
import { invalidParameter } from './errors';

export function requiredString(obj: JsonObject, field: string): string {
  const v = obj[field];
  if (typeof v !== 'string' || v === '') throw invalidParameter(`Missing required parameter '${field}'.`);
  return v;
}

export function optionalString(obj: JsonObject, field: string): string | undefined {
  const v = obj[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`Parameter '${field}' must be a string.`);
  return v;
}

export function oneOf<T extends string | number>(value: unknown, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw invalidParameter(`Parameter '${field}' must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)}).`);
  }
  return value as T;
}

export function integerIn(obj: JsonObject, field: string, fallback: number, min: number, max: number): number {
  const v = obj[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidParameter(`Parameter '${field}' must be an integer in [${min}, ${max}] (got ${JSON.stringify(obj[field])}).`);
  }
  return v;
}

export function matching(value: string, pattern: RegExp, field: string, rule: string): string {
  if (!pattern.test(value)) throw invalidParameter(`Parameter '${field}' is invalid: ${rule}.`);
  return value;
}

export function maxLength(value: string, field: string, max: number, min = 1): string {
  const n = Array.from(value).length;
  if (n > max) throw invalidParameter(`Parameter '${field}' exceeds ${max} characters.`);
  if (n < min) throw invalidParameter(`${field} should not be shorter than ${min} characters`);
  return value;
}

/** language_hints: an array whose first element is the language (only that one is used). */
export function firstLanguageHint(obj: JsonObject, allowed: readonly string[]): string | undefined {
  const v = obj.language_hints;
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidParameter("Parameter 'language_hints' must be an array of strings.");
  const first: unknown = v[0];
  if (first === undefined) return undefined;
  return oneOf(first, allowed, 'language_hints');
}

export function paging(obj: JsonObject, maxIndex: number, maxSize: number, minSize = 0): { index: number; size: number } {
  return { index: integerIn(obj, 'page_index', 0, 0, maxIndex), size: integerIn(obj, 'page_size', 10, minSize, maxSize) };
}

export function page<T>(items: T[], p: { index: number; size: number }): T[] {
  return items.slice(p.index * p.size, p.index * p.size + p.size);
}
