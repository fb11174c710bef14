import type { NodeAPI } from 'node-red';

export type StatusParams = Record<string, string | number>;

/** One status line, by name, in the runtime's language. */
export type StatusText = (name: string, params?: StatusParams) => string;

/**
 * Status lines come from the node's message catalog: `<type>.status.<name>` in
 * locales/<lang>/<type>.json, with `__param__` placeholders (Node-RED's i18n). Error texts, which
 * also reach catch nodes, are not looked up: they are shown as the error says them.
 *
 * A line is looked up once (the runtime's language does not change while it runs): the status
 * changes with every utterance, and an i18n lookup costs microseconds on the way to first audio.
 * A line with values is remembered for the values it had last (a voice name, a count).
 */
export function statusTexts(RED: NodeAPI, type: string): StatusText {
  const lines = new Map<string, string>();
  return (name, params) => {
    const key = params ? `${name}\u0000${Object.values(params).join('\u0000')}` : name;
    let line = lines.get(key);
    if (line === undefined) {
      line = RED._(`${type}.status.${name}`, params as Record<string, string> | undefined);
      // Lines with values: only the last of each name is kept (no growth with every voice or count).
      if (params) for (const k of lines.keys()) if (k.startsWith(`${name}\u0000`)) lines.delete(k);
      lines.set(key, line);
    }
    return line;
  };
}
