import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { MAX_CHIME_FILE_BYTES, MAX_CHIME_PCM_BYTES, MAX_CHIME_SECONDS } from '../src/audio/chime';
import { editorCatalog } from '../src/nodes/tts-config/catalog-endpoint';
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

/** The editor library every dialog loads (resources/editor.js), and the texts it writes itself (tts-config.editor.*). */
const LIBRARY = readFileSync(join(ROOT, 'resources', 'editor.js'), 'utf8');
const LIBRARY_TAG = '<script src="resources/node-red-contrib-dashscope-tts/editor.js"></script>';
const CATALOG_TAG = '<script src="resources/node-red-contrib-dashscope-tts/catalog.js"></script>';
const BARE_LABEL = /<label[^>]*>(?:<i [^>]*><\/i>)?\s*([A-Za-z][^<]*)<\/label>/g;
/** A row a template names by a token the library expands (see expandTemplate in resources/editor.js). */
const ROW_TOKEN = /^(?:advanced:|(?:check|language|tip|heading):\w+|(?:text|select|textarea):\w+(?::[\w-]+)?)$/;

/** The library run on its own, as a page runs it: its shared rows (DashScopeEditor.rows). */
function libraryRows(): Record<string, string> {
  const sandbox: { DashScopeEditor?: { rows: Record<string, string> } } = {};
  vm.runInNewContext(LIBRARY, sandbox);
  return sandbox.DashScopeEditor?.rows ?? {};
}
/** The shared rows by name, and the one each synthesis dialog gets built for its type (tuning). */
const SHARED_ROWS = [...Object.keys(libraryRows()), 'tuning'];

/**
 * The keys of a node's own catalog that the library looks up for it: its output labels, and by
 * the kind of node it registers, the texts of the rows and pickers the library builds for it.
 */
function libraryKeysFor(type: string, html: string, outputs: number): string[] {
  const keys = Array.from({ length: outputs }, (_, i) => `${type}.outputs.${i}`);
  for (const [, field] of html.matchAll(/(?:check|text|select|textarea):(\w+)/g)) keys.push(`${type}.label.${field}`);
  for (const [, tip] of html.matchAll(/\btip:(\w+)/g)) keys.push(`${type}.tip.${tip}`);
  for (const [, heading] of html.matchAll(/\bheading:(\w+)/g)) keys.push(`${type}.heading.${heading}`);
  const tuning = /tuning: \{([^}]*)\}/.exec(html)?.[1] ?? '';
  for (const [, field] of tuning.matchAll(/(\w+):/g)) keys.push(`${type}.label.${field}`);
  if (html.includes('DashScopeEditor.synthesis(')) keys.push(`${type}.placeholder.voice`, `${type}.placeholder.voiceCustomOnly`);
  if (html.includes('DashScopeEditor.voiceNode(')) {
    const actions = [...(/actions: \[([^\]]*)\]/.exec(html)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1] as string);
    assert.ok(actions.length > 0, `${type}: its actions are listed`);
    keys.push(`${type}.nodeLabel.create`, `${type}.nodeLabel.action`, `${type}.family.cosyvoice`, `${type}.family.qwen`, ...[...actions, 'msg'].map((a) => `${type}.action.${a}`));
  }
  return keys;
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
        // Most texts are Chinese (names, codes and values such as "CosyVoice" or "pcm" stay as they are).
        const zhCatalog = catalog('zh-CN', type);
        const texts = zh.map((k) => lookup(zhCatalog, k) as string);
        assert.ok(texts.filter((t) => CJK.test(t)).length * 2 > texts.length, `zh-CN texts are in Chinese: ${texts.filter((t) => !CJK.test(t)).join(' | ')}`);
      });

      it('loads the editor library from resources/, before its own script', () => {
        const own = html.indexOf('<script type="text/javascript">');
        assert.ok(html.indexOf(LIBRARY_TAG) >= 0 && html.indexOf(LIBRARY_TAG) < own, 'editor.js');
        if (/DashScopeEditor\.(catalog|chimes)\b/.test(html) || /DashScopeEditor\.(synthesis|voiceNode)\(/.test(html)) {
          assert.ok(html.indexOf(CATALOG_TAG) >= 0 && html.indexOf(CATALOG_TAG) < own, 'catalog.js, for a dialog that uses the catalog');
        }
      });

      it('every text key the editor uses exists in both catalogs', () => {
        const used = [...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1] as string);
        const called = [...html.matchAll(/_\('([^']+)'/g)].map((m) => m[1] as string);
        const built = type === 'tts-config' ? [] : libraryKeysFor(type, html, definition.outputs);
        const rowLabels = built.filter((k) => k.startsWith(`${type}.label.`));
        // Each row its template names is one the library builds (a shared row, labelled from the
        // service node's catalog, or a token such as text:<field>) or one the dialog defines itself.
        const tokens = (/data-dashscope-rows="([^"]*)"/.exec(html)?.[1] ?? '').split(/\s+/).filter(Boolean);
        assert.ok(used.length + rowLabels.length + tokens.length > 0, 'the edit dialog takes its labels from the catalogs');
        const script = html.slice(0, html.indexOf('data-template-name='));
        const unknown = tokens.filter((t) => !ROW_TOKEN.test(t) && !SHARED_ROWS.includes(t) && !new RegExp(`[{,\\s]${t}: `).test(script));
        assert.deepEqual(unknown, [], 'rows the template names that nobody builds');
        for (const lang of LANGS) {
          const c = catalog(lang, type);
          for (const key of [...used, ...called, ...built]) {
            if (key.startsWith('node-red:')) continue; // Node-RED's own catalog
            // A key built at run time ('x.outputs.' + i) must at least name an existing group.
            const value = lookup(c, key.endsWith('.') || key.endsWith('-') ? key.replace(/[.-]$/, '') : key);
            if (key.endsWith('.')) assert.equal(typeof value, 'object', `${lang}: no group ${key}`);
            else if (!key.endsWith('-')) assert.equal(typeof value, 'string', `${lang}: no text for ${key}`);
          }
        }
        // Labels left in English in the dialog itself would not be translated.
        const template = /data-template-name="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
        const bareLabels = [...template.matchAll(BARE_LABEL)].map((m) => m[1]);
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

  it('the texts of the editor library exist in both catalogs of the service node, and its rows have no bare labels', () => {
    // 'label.' + key is the label of a row: those keys are the label('<key>', …) calls.
    const called = [...LIBRARY.matchAll(/\b(?:textKey|text)\('([^']+)'/g)].map((m) => m[1] as string).filter((k) => k !== 'label.');
    const labels = [...LIBRARY.matchAll(/\blabel\('(\w+)', '/g)].map((m) => `label.${m[1] as string}`);
    assert.ok(called.length > 10 && labels.length > 5, 'the library looks up its texts by literal keys');
    for (const lang of LANGS) {
      const c = catalog(lang, 'tts-config');
      for (const key of [...called, ...labels]) assert.equal(typeof lookup(c, `tts-config.editor.${key}`), 'string', `${lang}: no text for tts-config.editor.${key}`);
    }
    const rows = Object.values(libraryRows());
    assert.ok(rows.length > 5);
    assert.deepEqual(rows.flatMap((r) => [...r.matchAll(BARE_LABEL)].map((m) => m[1])), [], 'labels without data-i18n');
  });

  it('names each Qwen language type by the language it is, with a text for it in both catalogs', () => {
    const qwen = editorCatalog().families.qwen;
    const types = qwen.languageTypes ?? {};
    const languageTypes = [...new Set(editorCatalog().models.flatMap((m) => m.languageTypes))].filter((t) => t !== 'Auto');
    assert.deepEqual(Object.keys(types).sort(), languageTypes.sort(), 'every language type the models take');
    for (const [type, code] of Object.entries(types)) {
      assert.ok(qwen.languages.includes(code), `${type} → ${code}, one of the family's languages`);
      for (const lang of LANGS) assert.equal(typeof lookup(catalog(lang, 'tts-config'), `tts-config.editor.language.${code}`), 'string', `${lang}: a name for ${type}`);
    }
    assert.equal(types.German, 'de');
  });

  it("the pcm-speaker help states the chime limits the code applies, and the chime folder's setting, in both languages", () => {
    const MB = 1024 * 1024;
    // [file size and length, converted size] as each language writes them.
    const patterns: Record<string, [RegExp, RegExp]> = {
      'en-US': [/PCM WAV file \(at most (\d+) MB and (\d+) s;/, /more than (\d+) MB in the utterance's audio format/],
      'zh-CN': [/PCM WAV 文件的完整路径\s*（最大 (\d+) MB、(\d+) 秒；/, /转换后超过 (\d+) MB 的提示音/],
    };
    for (const lang of LANGS) {
      const { help } = editorDefinition('pcm-speaker', lang);
      const [limits, converted] = patterns[lang] as [RegExp, RegExp];
      const file = limits.exec(help);
      assert.ok(file, `${lang}: the chime file limits are stated`);
      assert.deepEqual([Number(file[1]), Number(file[2])], [MAX_CHIME_FILE_BYTES / MB, MAX_CHIME_SECONDS], `${lang}: MAX_CHIME_FILE_BYTES and MAX_CHIME_SECONDS`);
      assert.equal(Number(converted.exec(help)?.[1]), MAX_CHIME_PCM_BYTES / MB, `${lang}: MAX_CHIME_PCM_BYTES`);
      assert.match(help, /pcmSpeakerChimeFolder/, `${lang}: where msg.chime files may come from`);
    }
  });

  it('each node type has a colour and an icon of its own', () => {
    const defs = TYPES.map((t) => editorDefinition(t).definition);
    assert.equal(new Set(defs.map((d) => d.color)).size, TYPES.length);
    assert.equal(new Set(defs.map((d) => d.icon)).size, TYPES.length);
  });
});
