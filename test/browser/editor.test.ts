/**
 * The editor, in a real browser: Debian's Chromium driven headless by playwright-core against a
 * real Node-RED with this package linked in (test/e2e/node-red-process.ts) and the DashScope
 * simulator as the service. One Node-RED and one browser serve every test, to keep the suite
 * around half a minute on a small machine.
 *
 * The tests also take the screenshots the README shows: into docs/ with UPDATE_SCREENSHOTS=1,
 * else into .tmp/screenshots/ (so a test run leaves the repository as it was).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import type { Browser, Page } from 'playwright-core';
import { expectedAudio, type DashScopeSimulator } from '../simulator';
import { ROOT, until, type NodeRedProcess } from '../e2e/node-red-process';
import { requireSystem } from '../support/system-deps';
import { deploy, editorSession, js, openEditor as openEditorPage } from './editor-session';
import { customEndpointProblem } from '../../src/nodes/tts-config/endpoint-rule';

const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs') : join(ROOT, '.tmp', 'screenshots');
mkdirSync(SHOTS, { recursive: true });
const CATEGORY = 'DashScope TTS';
const PALETTE_TYPES = ['cosyvoice-stream', 'qwen-realtime', 'voice-clone', 'voice-design', 'pcm-speaker'];
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json'));
const CONFIG_ID = 'browser-sim-config';

/** A text the editor shows as its key: a catalog entry is missing. */
const RAW_KEY = /\b(?:tts-config|cosyvoice-stream|qwen-realtime|voice-clone|voice-design|pcm-speaker)\.[A-Za-z]/;

interface Catalog {
  models: { id: string; family: string; systemVoices: boolean; formats: string[]; sampleRates: number[]; languageTypes: string[] }[];
  voices: Record<'cosyvoice' | 'qwen', { id: string; models: string[] }[]>;
  families: Record<'cosyvoice' | 'qwen', { clone: { targets: string[] }; design: { targets: string[]; languages: string[]; formats: string[]; sampleRates: number[] } }>;
}

/** Every value of `key` over the entries, each once, in order. */
function union<T>(entries: Record<string, unknown>[], key: string): T[] {
  return [...new Set(entries.flatMap((e) => e[key] as T[]))];
}

/** What an open dialog offers and says: the options of each select and datalist, and every text a user can see. */
interface DialogView {
  options: Record<string, string[]>;
  texts: string[];
}
const DIALOG_VIEW = `(() => {
  const form = $('#dialog-form, #node-config-dialog-edit-form').last();
  const options = {};
  form.find('select, datalist').each(function () { options[this.id] = $(this).find('option').map(function () { return this.value; }).get(); });
  const texts = [];
  form.find('label, span, option, .form-tips').each(function () { if ($(this).is(':visible') || this.tagName === 'OPTION') texts.push($(this).text().trim()); });
  form.find('[placeholder], [title]').each(function () { texts.push($(this).attr('placeholder') || '', $(this).attr('title') || ''); });
  form.find('option').each(function () { if (!$(this).text().trim()) texts.push('(an option without text: ' + this.value + ')'); });
  return { options, texts };
})()`;

/** For each node type: a field, a value the dialog must flag, and a valid one. */
const FIELDS: Record<string, { field: string; bad: string; good: string }> = {
  'cosyvoice-stream': { field: 'volume', bad: '500', good: '60' },
  'qwen-realtime': { field: 'speechRate', bad: '9', good: '1.2' },
  'voice-clone': { field: 'voiceName', bad: 'Not Valid!', good: 'doorbell' },
  'voice-design': { field: 'voiceName', bad: 'Not Valid!', good: 'narrator' },
  'pcm-speaker': { field: 'volume', bad: '500', good: '80' },
};

/**
 * Per node type, in order: fields to set, then which fields the dialog must flag (true) or accept,
 * which options it must have disabled, and why.
 */
const CATALOG_CHECKS: Record<string, { set: Record<string, string>; flags: Record<string, boolean>; disabled?: Record<string, string>; why: string }[]> = {
  'cosyvoice-stream': [
    { set: { format: 'opus' }, flags: { format: false, voice: false }, why: 'cosyvoice-v3-flash takes opus and longanyang' },
    // The chosen opus stays the field's value, marked; once another is chosen, it is not offered.
    { set: { model: 'cosyvoice-v1' }, flags: { format: true, voice: true }, why: 'cosyvoice-v1 has no opus, and longanyang is not one of its voices' },
    { set: { format: 'mp3' }, flags: { format: false }, disabled: { format: 'opus' }, why: 'cosyvoice-v1 takes mp3, not opus' },
    { set: { model: 'cosyvoice-v3-flash' }, flags: { format: false, voice: false }, why: 'back on cosyvoice-v3-flash' },
  ],
  'qwen-realtime': [
    { set: { sampleRate: '8000' }, flags: { sampleRate: false }, why: 'qwen3-tts-flash-realtime takes 8 kHz' },
    { set: { model: 'qwen-tts-realtime' }, flags: { sampleRate: true }, disabled: { sampleRate: '16000', format: 'mp3' }, why: 'qwen-tts-realtime takes pcm at 24 kHz only (the chosen 8000 stays, marked)' },
    { set: { model: 'qwen3-tts-vd-realtime-2026-01-15' }, flags: { voice: true }, why: 'a model of designed voices takes no system voice' },
  ],
  'voice-clone': [
    { set: { languageHints: 'th' }, flags: { languageHints: false }, why: 'cosyvoice-v3-flash clones from Thai' },
    { set: { targetModel: 'cosyvoice-v3-plus' }, flags: { languageHints: true }, why: 'cosyvoice-v3-plus does not' },
    { set: { family: 'qwen' }, flags: { languageHints: true }, why: 'nor does Qwen cloning' },
    { set: { languageHints: 'de' }, flags: { languageHints: false }, why: 'Qwen clones from German' },
  ],
};

describe('the editor in a browser', function () {
  requireSystem('chromium');
  this.timeout(60_000);
  const session = editorSession((simulator) => {
    const env = { ...process.env };
    delete env.DASHSCOPE_API_KEY;
    // A deployed service node pointing at the simulator: the preview and voice list need one.
    const flows = [
      { id: 'browser-tab', type: 'tab', label: 'Browser test' },
      { id: CONFIG_ID, type: 'tts-config', name: 'simulator', region: 'custom', endpoint: simulator.baseUrl, workspace: '', keepWarm: false, credentials: { apiKey: 'sk-browser' } },
    ];
    return { env, flows };
  });
  let sim: DashScopeSimulator;
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors = session.pageErrors;
  before(() => ({ sim, red, browser, page } = session));

  const openEditor = (locale: string): Promise<Page> => openEditorPage(browser, red, locale, pageErrors);

  /** Drags a palette node onto the workspace, as a user does, and returns the new node's id. */
  async function drop(p: Page, type: string, x: number, y: number): Promise<string> {
    const before = await js<string[]>(p, `RED.nodes.filterNodes({type: ${JSON.stringify(type)}}).map(n => n.id)`);
    const item = p.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
    // Our category sits low in the palette: scroll it into view first, as a user would.
    await item.scrollIntoViewIfNeeded();
    const box = await item.boundingBox();
    const chart = await p.locator('#red-ui-workspace-chart').boundingBox();
    assert.ok(box && chart);
    await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await p.mouse.down();
    // jQuery UI starts a drag only after the pointer has moved a little.
    await p.mouse.move(box.x + box.width / 2 + 10, box.y + box.height / 2 + 5, { steps: 3 });
    await p.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
    await p.mouse.up();
    const id = await until(`${type} on the workspace`, 5000, async () => {
      const now = await js<string[]>(p, `RED.nodes.filterNodes({type: ${JSON.stringify(type)}}).map(n => n.id)`);
      return now.find((i) => !before.includes(i));
    });
    return id;
  }

  async function openDialog(p: Page, id: string): Promise<void> {
    await p.locator(`[id="${id}"] .red-ui-flow-node`).dblclick();
    await p.waitForSelector('#node-dialog-ok', { state: 'visible' });
  }



  it('shows every node type of the package in its own palette category', async () => {
    const category = await js<Record<string, string>>(
      page,
      `Object.fromEntries(${JSON.stringify(PALETTE_TYPES)}.map(t => [t, $('.red-ui-palette-node[data-palette-type="' + t + '"]').closest('.red-ui-palette-category').find('.red-ui-palette-header span').last().text().trim()]))`,
    );
    for (const type of PALETTE_TYPES) assert.equal(category[type], CATEGORY, type);
    // The config node is not in the palette but registered, with its icon.
    assert.equal(await js<string>(page, `RED.nodes.getType('tts-config').category`), 'config');
    const icons = await js<string[]>(page, `${JSON.stringify(PALETTE_TYPES)}.map(t => $('.red-ui-palette-node[data-palette-type="' + t + '"] .red-ui-palette-icon').css('background-image'))`);
    for (const icon of icons) assert.match(icon, /icons\/node-red-contrib-dashscope-tts\/dashscope-[a-z]+\.svg/);
  });

  it('drags each node onto the workspace; its dialog flags a bad value, saves a good one, and the flow deploys', async () => {
    let y = 80;
    for (const type of PALETTE_TYPES) {
      const id = await drop(page, type, 260, y);
      y += 70;
      await openDialog(page, id);
      const { field, bad, good } = FIELDS[type] as { field: string; bad: string; good: string };
      const input = page.locator(`#node-input-${field}`);
      await input.fill(bad);
      await input.dispatchEvent('change');
      await until(`${type}.${field} flagged`, 3000, () => input.evaluate((el) => el.classList.contains('input-error')));
      await input.fill(good);
      await input.dispatchEvent('change');
      await until(`${type}.${field} accepted`, 3000, async () => !(await input.evaluate((el) => el.classList.contains('input-error'))));
      if (await page.locator('#node-input-config').count()) await page.selectOption('#node-input-config', CONFIG_ID);
      if (type === 'cosyvoice-stream') await page.screenshot({ path: join(SHOTS, 'editor.png') });
      await page.locator('#node-dialog-ok').click();
      await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
      const node = await js<{ valid: boolean; value: unknown; errors: unknown }>(page, `(n => ({ valid: n.valid, value: n[${JSON.stringify(field)}], errors: n.validationErrors }))(RED.nodes.node(${JSON.stringify(id)}))`);
      assert.deepEqual(node, { valid: true, value: good, errors: [] }, type);
    }
    await deploy(page);
    const res = await red.get('/flows');
    const flows = (await res.json()) as { type: string; [k: string]: unknown }[];
    for (const type of PALETTE_TYPES) assert.ok(flows.some((n) => n.type === type), `${type} deployed`);
    assert.ok(flows.some((n) => n.type === 'voice-clone' && n.voiceName === 'doorbell'));
    assert.deepEqual(pageErrors, []);
  });

  it('the service dialog flags a base URL the custom region cannot use', async () => {
    await js(page, `RED.editor.editConfig('', 'tts-config', 'add')`);
    await page.waitForSelector('#node-config-input-region', { state: 'visible' });
    await page.selectOption('#node-config-input-region', 'custom');
    const endpoint = page.locator('#node-config-input-endpoint');
    await endpoint.fill('ftp://example.com');
    await endpoint.dispatchEvent('change');
    await until('the endpoint flagged', 3000, () => endpoint.evaluate((el) => el.classList.contains('input-error')));
    await endpoint.fill('https://dashscope-proxy.example.com');
    await endpoint.dispatchEvent('change');
    await until('the endpoint accepted', 3000, async () => !(await endpoint.evaluate((el) => el.classList.contains('input-error'))));
    await page.locator('#node-config-dialog-cancel').click();
    await page.waitForSelector('#node-config-input-region', { state: 'detached' });
  });

  it('the voice list follows the model, and the preview button plays the voice in the page', async () => {
    const catalog = (await (await red.get('/dashscope-tts/catalog')).json()) as { voices: { cosyvoice: { id: string; models: string[] }[] } };
    const mine = sim.voices.add({ service: 'voice-enrollment', targetModel: 'cosyvoice-v3-flash', kind: 'clone', name: 'mine', status: 'OK' });
    const id = await drop(page, 'cosyvoice-stream', 600, 120);
    await openDialog(page, id);
    await page.selectOption('#node-input-config', CONFIG_ID);
    const offered = (): Promise<string[]> => page.locator('#node-input-voice-list option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
    for (const model of ['cosyvoice-v3-flash', 'cosyvoice-v1']) {
      await page.selectOption('#node-input-model', model);
      const expected = catalog.voices.cosyvoice.filter((v) => v.models.includes(model)).map((v) => v.id);
      assert.ok(expected.length > 0);
      await until(`the ${model} voices`, 3000, async () => JSON.stringify(await offered()) === JSON.stringify(expected));
    }
    assert.notDeepEqual(
      catalog.voices.cosyvoice.filter((v) => v.models.includes('cosyvoice-v1')).map((v) => v.id),
      catalog.voices.cosyvoice.filter((v) => v.models.includes('cosyvoice-v3-flash')).map((v) => v.id),
      'the two models have different voices, so the list really changed',
    );
    await page.selectOption('#node-input-model', 'cosyvoice-v3-flash');
    assert.match(await page.locator('#dashscope-tts-model-note').innerText(), /pcm.*24000/);

    // The account's custom voices join the list; a custom id is still accepted as typed.
    await page.locator('#dashscope-tts-list-voices').click();
    await until('the custom voice listed', 5000, async () => (await offered()).includes(mine.id));

    await page.locator('#node-input-voice').fill('longanyang');
    await page.locator('#dashscope-tts-preview').click();
    const audio = page.locator('#dashscope-tts-preview-audio');
    await until('the preview playing', 10_000, () => audio.evaluate((el) => {
      const a = el as unknown as { readyState: number; currentTime: number; ended: boolean; error: unknown };
      return !a.error && a.readyState >= 2 && (a.currentTime > 0 || a.ended);
    }));
    const bytes = await audio.evaluate((el) => fetch((el as unknown as { src: string }).src).then((r) => r.arrayBuffer()).then((b) => b.byteLength));
    const text = 'Hello! This is how I sound. 你好，这是我的声音。';
    assert.equal(bytes, 44 + expectedAudio({ text, voice: 'longanyang', sampleRate: 24000, service: 'cosyvoice' }).length, 'the WAV of the sample text');
    await page.screenshot({ path: join(SHOTS, 'voice-preview.png') });
    await page.locator('#node-dialog-ok').click();
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
  });

  it('Import > Examples lists every example (examples-in-editor.test.ts imports and deploys each)', async () => {
    await js(page, `RED.actions.invoke('core:show-examples-import-dialog')`);
    const module = page.locator('.red-ui-clipboard-dialog-tab-library .red-ui-treeList-label', { hasText: 'node-red-contrib-dashscope-tts' }).first();
    await module.click();
    const labels = (): Promise<string[]> => page.locator('.red-ui-clipboard-dialog-tab-library .red-ui-treeList-label').allInnerTexts();
    const wanted = EXAMPLES.map((f) => f.replace(/\.json$/, ''));
    await until('every example listed', 5000, async () => {
      const shown = (await labels()).map((l) => l.trim());
      return wanted.every((w) => shown.includes(w));
    });
    await page.locator('#red-ui-clipboard-dialog-cancel').click();
  });

  it('serves the editor library from resources/, its catalog being the runtime\'s own', async () => {
    const library = await red.get('/resources/node-red-contrib-dashscope-tts/editor.js');
    assert.equal(library.status, 200);
    assert.match(await library.text(), /DashScopeEditor/);
    const served = await red.get('/resources/node-red-contrib-dashscope-tts/catalog.js');
    assert.equal(served.status, 200);
    const sandbox: { URL: typeof URL; DashScopeEditor?: { catalog: unknown; rules: { customEndpointProblem: typeof customEndpointProblem } } } = { URL };
    vm.runInNewContext(await served.text(), sandbox);
    const runtime = (await (await red.get('/dashscope-tts/catalog')).json()) as unknown;
    assert.deepEqual(JSON.parse(JSON.stringify(sandbox.DashScopeEditor?.catalog)), runtime, 'resources/catalog.js is what the runtime serves (rebuild if not)');
    // The base URL rule the dialog runs is the runtime's, bundled: both answer alike.
    for (const url of ['http://192.168.1.5:8080', 'http://127.0.0.1:1880', 'https://proxy.example.com/base', 'ftp://example.com', 'not a url', '']) {
      for (const allowInsecure of [false, true]) {
        assert.equal(sandbox.DashScopeEditor?.rules.customEndpointProblem(url, allowInsecure), customEndpointProblem(url, allowInsecure), `${url} (allowInsecure ${allowInsecure})`);
      }
    }
    assert.match(customEndpointProblem('http://192.168.1.5:8080', false), /clear text/);
  });

  /**
   * Opens each dialog and reads what it offers: every picker is filled by the editor library from
   * the catalog (a dialog without the library would show empty pickers), and no text is a key.
   */
  async function checkDialogs(p: Page, x: number): Promise<void> {
    const catalog = (await (await red.get('/dashscope-tts/catalog')).json()) as Catalog;
    // The models with system voices first, then (in a group of their own) those of custom voices only.
    const ids = (family: string): string[] => {
      const models = catalog.models.filter((m) => m.family === family);
      return [...models.filter((m) => m.systemVoices), ...models.filter((m) => !m.systemVoices)].map((m) => m.id);
    };
    const known = (list: string[]): string[] => list.filter((id) => catalog.models.some((m) => m.id === id));
    const rates = (list: number[]): string[] => [...list].sort((a, b) => a - b).map(String);
    const cosy = catalog.models.filter((m) => m.family === 'cosyvoice');
    const qwen = catalog.models.filter((m) => m.family === 'qwen-tts-realtime');
    const design = catalog.families;
    const expected: Record<string, Record<string, string[]>> = {
      'cosyvoice-stream': {
        'node-input-model': ids('cosyvoice'),
        'node-input-format': union<string>(cosy as unknown as Record<string, unknown>[], 'formats'),
        'node-input-sampleRate': rates(union<number>(cosy as unknown as Record<string, unknown>[], 'sampleRates')),
        'node-input-voice-list': catalog.voices.cosyvoice.filter((v) => v.models.includes('cosyvoice-v3-flash')).map((v) => v.id),
        'node-input-input': ['utterance', 'stream'],
      },
      'qwen-realtime': {
        'node-input-model': ids('qwen-tts-realtime'),
        'node-input-format': union<string>(qwen as unknown as Record<string, unknown>[], 'formats'),
        'node-input-sampleRate': rates(union<number>(qwen as unknown as Record<string, unknown>[], 'sampleRates')),
        'node-input-voice-list': catalog.voices.qwen.filter((v) => v.models.includes('qwen3-tts-flash-realtime')).map((v) => v.id),
        'node-input-languageType': ['', ...union<string>(qwen as unknown as Record<string, unknown>[], 'languageTypes').filter((t) => t !== 'Auto')],
        'node-input-mode': ['server_commit', 'commit'],
      },
      'voice-clone': {
        'node-input-family': ['cosyvoice', 'qwen'],
        'node-input-targetModel': known(catalog.families.cosyvoice.clone.targets),
        'node-input-action': ['create', 'list', 'query', 'update', 'delete', 'msg'],
      },
      'voice-design': {
        'node-input-family': ['cosyvoice', 'qwen'],
        'node-input-targetModel': known(design.cosyvoice.design.targets),
        'node-input-language': ['', ...new Set([...design.cosyvoice.design.languages, ...design.qwen.design.languages])],
        'node-input-format': [...new Set([...design.cosyvoice.design.formats, ...design.qwen.design.formats])],
        'node-input-sampleRate': rates([...new Set([...design.cosyvoice.design.sampleRates, ...design.qwen.design.sampleRates])]),
        'node-input-action': ['create', 'list', 'query', 'delete', 'msg'],
      },
      'pcm-speaker': { 'node-input-backend': ['auto', 'pulse', 'speaker', 'aplay'], 'node-input-queue': ['queue', 'replace', 'ignore'] },
    };
    // A flow of its own, so the nodes land on an empty workspace.
    await js(p, 'RED.workspaces.add()');
    let y = 80;
    for (const type of PALETTE_TYPES) {
      const id = await drop(p, type, x, y);
      y += 60;
      await openDialog(p, id);
      const view = await js<DialogView>(p, DIALOG_VIEW);
      for (const [select, values] of Object.entries(expected[type] ?? {})) {
        assert.ok(values.length > 0, `${type} ${select}: the catalog has entries`);
        assert.deepEqual(view.options[select], values, `${type} ${select}`);
      }
      assert.deepEqual(view.texts.filter((t) => RAW_KEY.test(t) || t.startsWith('(an option')), [], `${type}: texts missing from the catalogs`);
      if (type === 'voice-clone' || type === 'voice-design') {
        // The targets follow the family.
        await p.selectOption('#node-input-family', 'qwen');
        const kind = type === 'voice-clone' ? 'clone' : 'design';
        const qwenTargets = known(catalog.families.qwen[kind].targets);
        assert.ok(qwenTargets.length > 0);
        assert.deepEqual((await js<DialogView>(p, DIALOG_VIEW)).options['node-input-targetModel'], qwenTargets, `${type}: Qwen targets`);
        assert.equal(await p.locator('.dashscope-tts-row-poll').isVisible(), false, 'Qwen voices need no polling');
      }
      await p.locator('#node-dialog-cancel').click();
      await p.waitForSelector('#node-dialog-cancel', { state: 'detached' });
    }
    // The service node's dialog uses the library too (its region picker).
    await js(p, `RED.editor.editConfig('', 'tts-config', 'add')`);
    await p.waitForSelector('#node-config-input-region', { state: 'visible' });
    const config = await js<DialogView>(p, DIALOG_VIEW);
    assert.deepEqual(config.options['node-config-input-region'], ['beijing', 'singapore', 'custom']);
    assert.deepEqual(config.texts.filter((t) => RAW_KEY.test(t) || t.startsWith('(an option')), [], 'tts-config: texts missing from the catalogs');
    await p.locator('#node-config-dialog-cancel').click();
    await p.waitForSelector('#node-config-input-region', { state: 'detached' });
    // Node labels the library writes (voice nodes) come from the catalogs too.
    const labels = await js<string[]>(p, `$('#red-ui-workspace-chart .red-ui-flow-node-label').map(function () { return $(this).text(); }).get()`);
    assert.deepEqual(labels.filter((l) => RAW_KEY.test(l)), [], 'node labels');
  }

  it('every dialog takes its pickers from the editor library and the catalog, and shows no missing text', async () => {
    await checkDialogs(page, 300);
    assert.deepEqual(pageErrors, []);
  });

  it('the dialogs flag what the catalog says the chosen model or family does not take', async () => {
    await js(page, 'RED.workspaces.add()');
    const flagged = (field: string): Promise<boolean> => page.locator(`#node-input-${field}`).evaluate((el) => el.classList.contains('input-error'));
    let y = 100;
    for (const [type, steps] of Object.entries(CATALOG_CHECKS)) {
      await openDialog(page, await drop(page, type, 300, (y += 70)));
      for (const { set, flags, disabled, why } of steps) {
        for (const [field, value] of Object.entries(set)) {
          const input = page.locator(`#node-input-${field}`);
          // A field of the advanced section: opened as a user opens it.
          if (!(await input.isVisible()) && !(await page.locator('.dashscope-tts-advanced').last().isVisible())) await page.locator('.dashscope-tts-advanced-link').last().click();
          if (await input.evaluate((el) => el.tagName === 'SELECT')) await input.selectOption(value);
          else await input.fill(value);
          await input.dispatchEvent('change');
        }
        await until(`${type}: ${why}`, 3000, async () => {
          for (const [field, bad] of Object.entries(flags)) if ((await flagged(field)) !== bad) return false;
          return true;
        });
        for (const [field, value] of Object.entries(disabled ?? {})) {
          assert.equal(await page.locator(`#node-input-${field} option[value="${value}"]`).isDisabled(), true, `${type}: ${field} ${value} is not offered (${why})`);
        }
      }
      await page.locator('#node-dialog-cancel').click();
      await page.waitForSelector('#node-dialog-cancel', { state: 'detached' });
    }
    assert.deepEqual(pageErrors, []);
  });

  it('in Chinese: the dialog labels and the help are Chinese', async () => {
    const zh = await openEditor('zh-CN');
    const id = await drop(zh, 'cosyvoice-stream', 700, 460);
    await openDialog(zh, id);
    const label = await zh.locator('label[for="node-input-model"]').innerText();
    assert.equal(label.trim(), '模型');
    assert.match(await zh.locator('label[for="node-input-voice"]').innerText(), /音色/);
    await zh.locator('#node-dialog-cancel').click();
    // The palette tooltip is the help's first paragraph; the help sidebar shows all of it.
    const item = zh.locator('.red-ui-palette-node[data-palette-type="cosyvoice-stream"]');
    await item.scrollIntoViewIfNeeded();
    await item.hover();
    await until('the Chinese tooltip', 5000, async () => /用阿里云 CosyVoice 朗读文本/.test((await zh.locator('.red-ui-popover').allInnerTexts()).join(' ')));
    await js(zh, `RED.sidebar.help.show('cosyvoice-stream')`);
    // The sidebar's layout differs between Node-RED 4 and 5: look for the help's own words on the page.
    await until('the Chinese help', 5000, async () => /<h3>输入<\/h3>/.test(await js<string>(zh, `RED.nodes.getNodeHelp('cosyvoice-stream')`)) && (await zh.locator('body').innerText()).includes('要朗读的文本'));
    await zh.screenshot({ path: join(SHOTS, 'editor-zh-CN.png') });
    // Every dialog in Chinese: the library's texts and the nodes' own, none missing.
    await checkDialogs(zh, 300);
    await zh.context().close();
    assert.ok(existsSync(join(SHOTS, 'editor.png')));
  });
});
