/** Runs a node's editor registerType block in a sandbox and returns its definition, for checking. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';

export interface EditorDefinition {
  category: string;
  color: string;
  icon: string;
  inputs: number;
  outputs: number;
  defaults: Record<string, { value: unknown; required?: boolean; type?: string; validate?: (this: Record<string, unknown>, v: unknown) => boolean }>;
}

/** The node's editor HTML, its registerType definition, and its help in `lang` (which lives in locales/). */
export function editorDefinition(type: string, lang = 'en-US'): { definition: EditorDefinition; html: string; help: string } {
  const root = join(__dirname, '..', '..');
  const html = readFileSync(join(root, 'src', 'nodes', type, `${type}.html`), 'utf8');
  const help = readFileSync(join(root, 'locales', lang, `${type}.html`), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!script) throw new Error(`${type}.html has no editor script`);
  let definition: EditorDefinition | undefined;
  // Outside the dialog the validators read the node's own values: `$` finds no form fields.
  const $ = (): { length: number } => ({ length: 0 });
  vm.runInNewContext(script, { RED: { nodes: { registerType: (t: string, d: EditorDefinition) => t === type && (definition = d) } }, $ });
  if (!definition) throw new Error(`${type}.html does not register ${type}`);
  return { definition, html, help };
}
