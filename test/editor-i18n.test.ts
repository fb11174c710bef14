import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { editorDefinition } from './support/editor-definition';

const ROOT = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const TYPES = Object.keys(pkg['node-red'].nodes);
const LANGS = ['en-US', 'zh-CN'];
const CJK = /[\u4e00-\u9fff]/;

type Catalog = { [k: string]: string | Catalog };
function catalog(lang: string, type: string): Catalog {
  return JSON.parse(readFileSync(join(ROOT, 'locales', lang, `${type}.json`), 'utf8')) as Catalog;
}
/** Every dotted key path of a catalog that leads to a string. */
function keys(c: Catalog, prefix = ''): string[] {
  return Object.entries(c).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`)));
}
function lookup(c: Catalog, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Catalog)[k] : undefined), c);
}

describe('editor texts in two languages', () => {
  for (const type of TYPES) {
    describe(type, () => {
      const { definition, html } = editorDefinition(type);

      it('has the same catalog keys in en-US and zh-CN, and the Chinese ones are Chinese', () => {
        const en = keys(catalog('en-US', type)).sort();
        const zh = keys(catalog('zh-CN', type)).sort();
        assert.deepEqual(zh, en);
        assert.ok(en.every((k) => k.startsWith(`${type}.`)), 'keys are namespaced by the node type');
        const label = catalog('zh-CN', type)[type] as Catalog;
        assert.ok(Object.values(label.label as Catalog).some((v) => typeof v === 'string' && CJK.test(v)), 'zh-CN labels are in Chinese');
      });

      it('every text key the editor uses exists in both catalogs', () => {
        const used = [...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1] as string);
        const called = [...html.matchAll(/_\('([^']+)'/g)].map((m) => m[1] as string);
        assert.ok(used.length > 0, 'the edit dialog takes its labels from the catalog');
        for (const lang of LANGS) {
          const c = catalog(lang, type);
          for (const key of [...used, ...called]) {
            if (key.startsWith('node-red:')) continue; // Node-RED's own catalog
            // A key built at run time ('x.outputs.' + i) must at least name an existing group.
            const value = lookup(c, key.endsWith('.') || key.endsWith('-') ? key.replace(/[.-]$/, '') : key);
            if (key.endsWith('.')) assert.equal(typeof value, 'object', `${lang}: no group ${key}`);
            else if (!key.endsWith('-')) assert.equal(typeof value, 'string', `${lang}: no text for ${key}`);
          }
        }
        // Labels left in English in the dialog itself would not be translated.
        const template = /data-template-name="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
        const bareLabels = [...template.matchAll(/<label[^>]*>(?:<i [^>]*><\/i>)?\s*([A-Za-z][^<]*)<\/label>/g)].map((m) => m[1]);
        assert.deepEqual(bareLabels, [], 'labels without data-i18n');
      });

      for (const lang of LANGS) {
        it(`has help in ${lang}, in Node-RED's help style`, () => {
          const { help } = editorDefinition(type, lang);
          assert.match(help, new RegExp(`^<script type="text/html" data-help-name="${type}">\\s*<p>`), 'starts with the summary paragraph');
          assert.match(help, /<h3>[^<]+<\/h3>[\s\S]*<dl class="message-properties">/);
          if (lang === 'zh-CN') assert.match(help, CJK);
        });
      }

      it('has an icon of its own, white on transparent, shipped in icons/', () => {
        assert.match(definition.icon, /^dashscope-[a-z]+\.svg$/);
        const svg = readFileSync(join(ROOT, 'icons', definition.icon), 'utf8');
        assert.match(svg, /viewBox="0 0 40 60"/);
        const colours = [...svg.matchAll(/(?:fill|stroke)="([^"]+)"/g)].map((m) => (m[1] as string).toLowerCase());
        assert.ok(colours.every((c) => c === '#fff' || c === '#ffffff' || c === 'none'), `only white: ${colours.join(', ')}`);
        assert.ok(existsSync(join(ROOT, 'nodes', 'icons', definition.icon)), 'the build puts it next to the node files');
      });
    });
  }

  it('each node type has a colour and an icon of its own', () => {
    const defs = TYPES.map((t) => editorDefinition(t).definition);
    assert.equal(new Set(defs.map((d) => d.color)).size, TYPES.length);
    assert.equal(new Set(defs.map((d) => d.icon)).size, TYPES.length);
  });
});
