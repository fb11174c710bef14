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

/** `<script src="resources/<module>/<file>">`: the editor library files a dialog loads (built into resources/). */
const LIBRARY = /<script src="resources\/node-red-contrib-dashscope-tts\/([^"]+)"><\/script>/g;

/**
 * The node's editor HTML, its registerType definition, and its help in `lang` (which lives in
 * locales/). The sandbox runs the library files the HTML loads, in its order, as the editor does:
 * a dialog that lost its <script src> fails here.
 */
export function editorDefinition(type: string, lang = 'en-US'): { definition: EditorDefinition; html: string; help: string } {
  const root = join(__dirname, '..', '..');
  const html = readFileSync(join(root, 'src', 'nodes', type, `${type}.html`), 'utf8');
  const help = readFileSync(join(root, 'locales', lang, `${type}.html`), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!script) throw new Error(`${type}.html has no editor script`);
  let definition: EditorDefinition | undefined;
  // Outside the dialog the validators read the node's own values: `$` finds no form fields.
  const $ = (): { length: number } => ({ length: 0 });
  const sandbox = vm.createContext({ RED: { nodes: { registerType: (t: string, d: EditorDefinition) => t === type && (definition = d) } }, $ });
  for (const [, file] of html.matchAll(LIBRARY)) vm.runInContext(readFileSync(join(root, 'resources', file as string), 'utf8'), sandbox, { filename: `resources/${file}` });
  vm.runInContext(script, sandbox);
  if (!definition) throw new Error(`${type}.html does not register ${type}`);
  return { definition, html, help };
}
