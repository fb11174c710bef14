// Writes resources/catalog.js, the model and voice catalog of the edit dialogs, from the runtime's
// own view of it (editorCatalog() in src/nodes/tts-config/catalog-endpoint.ts, over
// src/dashscope/catalog.json), so a dialog offers and checks exactly what the runtime accepts.
// It is a static file beside the hand-written editor library (resources/editor.js) because a
// dialog's validators run synchronously while the editor loads flows: they cannot wait for a
// request. Node-RED serves resources/ at resources/<module>/<file>. Beside the catalog it holds the
// runtime rules a dialog applies as they are (src/nodes/tts-config/editor-rules.ts, bundled for the
// browser as DashScopeEditor.rules), so that a rule is written once; and the names of the chimes
// the package ships (CHIME_NAMES in src/audio/chime.ts, DashScopeEditor.chimes), which pcm
// speaker's dialog offers.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One module of src/ with what it imports, as CommonJS text (not written anywhere). */
async function bundleText(root, entry, platform, target) {
  const result = await build({ entryPoints: [join(root, entry)], bundle: true, platform, format: 'cjs', target, write: false, logLevel: 'warning' });
  return result.outputFiles[0].text;
}

/** The exports of one module of src/, run in this process as Node would run it from where it is. */
async function loadModule(root, entry) {
  const loaded = { exports: {} };
  const text = await bundleText(root, entry, 'node', 'node20');
  const file = join(root, entry);
  new Function('module', 'exports', 'require', '__filename', '__dirname', text)(loaded, loaded.exports, createRequire(import.meta.url), file, dirname(file));
  return loaded.exports;
}

export async function buildEditor(root) {
  const catalog = (await loadModule(root, 'src/nodes/tts-config/catalog-endpoint.ts')).editorCatalog();
  const chimes = (await loadModule(root, 'src/audio/chime.ts')).CHIME_NAMES;
  // The runtime rules a dialog runs as they are (not rewritten for the browser): bundled for it.
  const rules = await bundleText(root, 'src/nodes/tts-config/editor-rules.ts', 'browser', 'es2017');
  mkdirSync(join(root, 'resources'), { recursive: true });
  writeFileSync(
    join(root, 'resources', 'catalog.js'),
    '// Written by scripts/build-editor.mjs from src/dashscope/catalog.json, src/nodes/tts-config/editor-rules.ts and src/audio/chime.ts: edit those, not this.\n' +
      '(function (lib) {\n' +
      `lib.catalog = ${JSON.stringify(catalog)};\n` +
      `lib.chimes = ${JSON.stringify(chimes)};\n` +
      'lib.rules = (function () { var module = { exports: {} }, exports = module.exports;\n' +
      rules +
      'return module.exports; })();\n' +
      '})(this.DashScopeEditor = this.DashScopeEditor || {});\n',
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildEditor(join(dirname(fileURLToPath(import.meta.url)), '..'));
}
