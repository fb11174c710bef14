#!/usr/bin/env node
// Offline version of the checks node-red-dev's Flow Library scorecard runs (node-red-dev-cli,
// src/libs/checkpackage.js and checknodes.js), so a regression shows up in `npm test` instead of
// after publishing. Network checks (npm view of the latest Node-RED, outdated dependencies) are
// replaced by the facts they resolve to: Node-RED 5 is the latest and needs Node >= 22.9.
//
//   node scripts/scorecard.mjs [package-dir]      exit status 1 when a check fails
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const acorn = require('acorn');
const walk = require('acorn-walk');
const semver = require('semver');

/** What `npm view node-red version` and its engines.node answer today (see ecosystem research). */
const LATEST_NODE_RED = '5.0.7';
const LATEST_NODE_RED_MIN_NODE = '22.9.0';
const LANGS = ['en-US', 'zh-CN'];
/** registerType properties node-red-dev wants written inline (checknodes.js). */
const INLINE = ['category', 'defaults', 'color', 'icon', 'inputs', 'outputs'];

export function scorecard(dir) {
  const results = [];
  const check = (id, title, problems) => results.push({ id, title, ok: problems.length === 0, problems });
  const pkgPath = join(dir, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  const nr = pkg['node-red'] ?? {};
  const nodeFiles = nr.nodes ?? {};

  check('P01', 'license', pkg.license ? [] : ['package.json has no license']);
  check('P03', 'repository or bugs', pkg.repository || pkg.bugs ? [] : ['package.json has neither repository nor bugs']);
  const name = String(pkg.name ?? '');
  const scoped = /^@[^/]+\/.+/.test(name);
  check('P04', 'naming', scoped || /^node-red-contrib-[a-z0-9-]+$/.test(name) ? [] : [`"${name}" is neither scoped nor node-red-contrib-*`]);
  check('P05', 'node-red keyword', (pkg.keywords ?? []).includes('node-red') ? [] : ['keywords lack "node-red"']);
  const nrRange = nr.version;
  check('P06', 'node-red.version', !nrRange ? ['no node-red.version'] : !semver.validRange(nrRange) ? [`invalid range ${nrRange}`] : semver.satisfies(LATEST_NODE_RED, nrRange) ? [] : [`${nrRange} excludes the latest Node-RED ${LATEST_NODE_RED}`]);
  const engines = pkg.engines?.node;
  check('P07', 'engines.node', !engines ? ['no engines.node'] : !semver.validRange(engines) ? [`invalid range ${engines}`] : semver.satisfies(LATEST_NODE_RED_MIN_NODE, engines) ? [] : [`${engines} excludes Node ${LATEST_NODE_RED_MIN_NODE}, which the latest Node-RED needs`]);
  const deps = Object.keys(pkg.dependencies ?? {});
  check('D01', 'at most 6 dependencies', [
    ...(deps.length > 6 ? [`${deps.length} dependencies: ${deps.join(', ')}`] : []),
    ...(deps.includes('node-red') ? ['node-red itself is a dependency'] : []),
  ]);
  check('N00', 'node-red.nodes', Object.keys(nodeFiles).length ? [] : ['package.json lists no nodes']);

  // Every type each node set registers, read from its editor HTML like the Node-RED loader does.
  const types = []; // { type, category, icon }
  const parseProblems = [];
  for (const [set, file] of Object.entries(nodeFiles)) {
    const html = editorHtml(dir, set, file);
    if (!html) {
      parseProblems.push(`${set}: no editor HTML next to ${file}`);
      continue;
    }
    const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    let found = 0;
    for (const code of scripts) {
      let ast;
      try {
        ast = acorn.parse(code, { ecmaVersion: 'latest' });
      } catch (err) {
        parseProblems.push(`${set}: editor script does not parse: ${err.message}`);
        continue;
      }
      walk.simple(ast, {
        CallExpression(call) {
          const c = call.callee;
          const isRegister = c.type === 'MemberExpression' && c.property.name === 'registerType' && c.object.type === 'MemberExpression' && c.object.property.name === 'nodes' && c.object.object.name === 'RED';
          if (!isRegister) return;
          found++;
          const [typeArg, defArg] = call.arguments;
          if (typeArg?.type !== 'Literal' || typeof typeArg.value !== 'string') return parseProblems.push(`${set}: type name is not a string literal`);
          const type = typeArg.value;
          if (defArg?.type !== 'ObjectExpression') return parseProblems.push(`${type}: definition is not an object literal`);
          const props = new Map(defArg.properties.filter((p) => p.type === 'Property').map((p) => [p.key.name ?? p.key.value, p.value]));
          const category = props.get('category');
          const isConfig = category?.type === 'Literal' && category.value === 'config';
          for (const key of INLINE) {
            const v = props.get(key);
            if (!v) {
              if (!isConfig || key === 'category' || key === 'defaults') parseProblems.push(`${type}: no ${key}`);
              continue;
            }
            const inline = key === 'defaults' ? v.type === 'ObjectExpression' : v.type === 'Literal';
            if (!inline) parseProblems.push(`${type}: ${key} is not inline (${key}-not-inline)`);
          }
          const credentials = props.get('credentials');
          if (credentials && credentials.type !== 'ObjectExpression') parseProblems.push(`${type}: credentials is not inline`);
          types.push({ type, isConfig, icon: props.get('icon')?.value });
        },
      });
    }
    if (!found) parseProblems.push(`${set}: no RED.nodes.registerType call`);
  }
  check('N01', 'literal registerType definitions', parseProblems);

  const examples = existsSync(join(dir, 'examples')) ? listJson(join(dir, 'examples')) : [];
  const used = new Set();
  const exampleProblems = [];
  for (const f of examples) {
    try {
      for (const n of JSON.parse(readFileSync(f, 'utf8'))) used.add(n.type);
    } catch (err) {
      exampleProblems.push(`${basename(f)} is not a flow: ${err.message}`);
    }
  }
  for (const t of types) if (!t.isConfig && !used.has(t.type)) exampleProblems.push(`no example uses ${t.type}`);
  check('N02', 'an example for every non-config node', exampleProblems);

  const helpProblems = [];
  for (const { type, icon, isConfig } of types) {
    for (const lang of LANGS) {
      const help = localeFile(dir, nodeFiles, type, lang, 'html');
      if (!help || !new RegExp(`<script type="text/(html|markdown)" data-help-name="${type}"`).test(readFileSync(help, 'utf8'))) helpProblems.push(`${type}: no ${lang} help`);
      if (!localeFile(dir, nodeFiles, type, lang, 'json')) helpProblems.push(`${type}: no ${lang} message catalog`);
    }
    if (!isConfig || icon) {
      if (!icon) helpProblems.push(`${type}: no icon`);
      else if (!icon.startsWith('font-awesome/') && !existsSync(join(dir, 'icons', icon)) && !Object.values(nodeFiles).some((f) => existsSync(join(dir, dirname(f), 'icons', icon)))) helpProblems.push(`${type}: icon ${icon} is not in icons/`);
    }
  }
  check('N03', 'help, catalogs and icons for every type in en-US and zh-CN', helpProblems);
  return results;
}

/** The node set's HTML: next to the built .js, or in src/nodes/<set>/ before a build. */
function editorHtml(dir, set, file) {
  for (const p of [join(dir, file.replace(/\.c?js$/, '.html')), join(dir, 'src', 'nodes', set, `${set}.html`)]) if (existsSync(p)) return readFileSync(p, 'utf8');
  return undefined;
}

/** locales/<lang>/<set>.<ext>, at the top level (what the build copies) or next to the node file. */
function localeFile(dir, nodeFiles, type, lang, ext) {
  const set = Object.keys(nodeFiles).find((s) => s === type) ?? type;
  const candidates = [join(dir, 'locales', lang, `${set}.${ext}`)];
  if (nodeFiles[set]) candidates.push(join(dir, dirname(nodeFiles[set]), 'locales', lang, `${set}.${ext}`));
  return candidates.find((p) => existsSync(p));
}

function listJson(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listJson(join(folder, e.name)) : e.name.endsWith('.json') ? [join(folder, e.name)] : []));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const results = scorecard(dir);
  for (const r of results) {
    console.log(`${r.ok ? 'pass' : 'FAIL'}  ${r.id}  ${r.title}`);
    for (const p of r.problems) console.log(`        ${p}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(failed ? `scorecard: ${failed} check(s) failed` : `scorecard: all ${results.length} checks pass`);
  process.exitCode = failed ? 1 : 0;
}
