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

/**
 * A text property of the node. The editor always stores strings, but a flow written by hand or
 * by a script may hold a number or an object: say which field is wrong instead of crashing on it.
 */
export function textField(name: string, raw: unknown): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') throw new InputError('InvalidSetting', `${name} must be text (got ${Array.isArray(raw) ? 'an array' : typeof raw})`);
  return raw;
}

/**
 * A number set by the node's field or, where the field is blank, by the message (`msg.<msgName>`).
 * A bad value is reported under the name the user actually wrote, so `msg.rate: "fast"` says
 * "msg.rate", not the service's parameter name.
 */
export function numberSetting(name: string, msgName: string, nodeValue: unknown, messageValue: unknown, min: number, max: number, integer: boolean): number | undefined {
  if (!blank(nodeValue)) return numberIn(name, nodeValue, min, max, integer);
  try {
    return numberIn(`msg.${msgName}`, messageValue, min, max, integer);
  } catch (err) {
    throw new InputError('InvalidOverride', (err as Error).message);
  }
}
