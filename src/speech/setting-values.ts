import { InputError } from './input-error';

/** Editor fields arrive as strings and blanks as ''; a blank means "not set". */
export function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** A number from a field or a message, checked against its range; undefined when blank. */
export function numberIn(name: string, raw: unknown, min: number, max: number, integer: boolean): number | undefined {
  if (blank(raw)) return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new InputError('InvalidSetting', `${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return n;
}

/** Node-RED's override rule: the message's value counts only where the node's field is blank. */
export function nodeOrMessage(nodeValue: unknown, messageValue: unknown): unknown {
  return blank(nodeValue) ? messageValue : nodeValue;
}
