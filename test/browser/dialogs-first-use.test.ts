/**
 * The dialogs as a new user first meets them, in en-US and zh-CN, in Debian's headless Chromium
 * against a real Node-RED (test/browser/editor-session.ts): the palette names and search, every
 * dialog's layout at the editor's default tray width (no option text cut off, no label wrapped,
 * hints in the column of the inputs), the advanced section, the marks of what the runtime would
 * refuse, the device list of pcm speaker, and imported nodes whose service node is missing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { parseAplayCards, parseAplayList } from '../../src/audio/alsa-lists';
import { deviceChoices } from '../../src/audio/device-choices';
import { ROOT, until, type NodeRedProcess } from '../e2e/node-red-process';
import { ALSA_FIXTURES, type AlsaMachine } from '../fixtures/alsa/fake-aplay';
import { requireSystem } from '../support/system-deps';
import { editorSession, js, openEditor } from './editor-session';

const SHOTS = join(ROOT, '.tmp', 'screenshots');
mkdirSync(SHOTS, { recursive: true });
const LOCALES = ['en-US', 'zh-CN'];
const TYPES = ['cosyvoice-stream', 'qwen-realtime', 'voice-clone', 'voice-design', 'pcm-speaker'];
const SERVICE_ID = 'dialogs-sim-config';
const TAB = 'dialogs-tab';

/** What GET pcm-speaker/devices answers on a machine of test/fixtures/alsa/. */
function devicesOf(machine: AlsaMachine): ReturnType<typeof deviceChoices> {
  const read = (flag: string): string => readFileSync(join(ALSA_FIXTURES, `${machine}.aplay-${flag}.txt`), 'utf8');
  return deviceChoices(parseAplayCards(read('l')), parseAplayList(read('L')));
}

/**
 * What an open dialog shows that does not fit, measured in the page: a label, a checkbox's text
 * or a hint broken over lines where it must not be, an option of a select (every option, not only
 * the one shown) or a field's value or placeholder wider than the box showing it, and a hint or
 * note that starts left of the inputs' column (under the labels).
 */
const MISFITS = `(() => {
  const form = $('#dialog-form, #node-config-dialog-edit-form').last();
  const found = [];
  const canvas = document.createElement('canvas').getContext('2d');
  const textWidth = (el, t) => { const cs = getComputedStyle(el); canvas.font = cs.fontWeight + ' ' + cs.fontSize + ' ' + cs.fontFamily; return canvas.measureText(t).width; };
  // Text lines: boxes of the text whose tops differ by more than half a line (an icon beside
  // the text sits a little higher or lower, on the same line).
  const lines = (el) => {
    const r = document.createRange(); r.selectNodeContents(el);
    const half = parseFloat(getComputedStyle(el).fontSize) * 0.6;
    const tops = [...r.getClientRects()].filter((x) => x.width > 0).map((x) => x.top).sort((a, b) => a - b);
    return tops.filter((t, i) => i === 0 || t - tops[i - 1] > half).length;
  };
  const name = (el) => el.id || $(el).text().trim().slice(0, 40);
  const visible = (el) => $(el).is(':visible');
  // The inputs' column: where the field beside a row's label begins.
  let column = Infinity;
  form.find('.form-row > label + input:visible, .form-row > label + select:visible').each(function () { column = Math.min(column, this.getBoundingClientRect().left); });
  form.find('label').filter(function () { return visible(this) && $(this).text().trim(); }).each(function () {
    if (lines(this) > 1) found.push('label wraps: ' + name(this));
  });
  form.find('select').filter(function () { return visible(this); }).each(function () {
    const cs = getComputedStyle(this);
    // The room for text: the box less its padding and the drop-down arrow.
    const room = this.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 18;
    for (const o of this.options) if (textWidth(this, o.text) > room) found.push('option cut off: ' + this.id + ' "' + o.text + '"');
  });
  form.find('input[type=text], input[type=password], input:not([type])').filter(function () { return visible(this); }).each(function () {
    const cs = getComputedStyle(this);
    const room = this.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const shown = this.value || this.placeholder;
    if (shown && textWidth(this, shown) > room) found.push('text cut off: ' + this.id + ' "' + shown + '"');
  });
  form.find('.form-tips, [id$="-note"]').filter(function () { return visible(this) && $(this).text().trim(); }).each(function () {
    const r = document.createRange(); r.selectNodeContents(this);
    const left = Math.min(...[...r.getClientRects()].filter((x) => x.width > 0).map((x) => x.left));
    if (left < column - 1) found.push('hint under the labels: ' + name(this));
  });
  return found;
})()`;

describe('the dialogs a new user meets', function () {
  requireSystem('chromium');
  this.timeout(90_000);
  const session = editorSession((simulator) => {
    const env = { ...process.env };
    delete env.DASHSCOPE_API_KEY;
    return {
      env,
      flows: [
        { id: TAB, type: 'tab', label: 'Dialogs' },
        { id: SERVICE_ID, type: 'tts-config', name: 'simulator', region: 'custom', endpoint: simulator.baseUrl, workspace: '', keepWarm: false, credentials: { apiKey: 'sk-test-key' } },
        // Its service node is gone: loading the flows must leave it so (only imports are mended).
        { id: 'dialogs-dangling', type: 'cosyvoice-stream', z: TAB, x: 500, y: 60, config: 'missing-service', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [[], []] },
      ],
    };
  });
  let red: NodeRedProcess;
  let browser: Browser;
  const pages: Record<string, Page> = {};
  before(async () => {
    ({ red, browser } = session);
    pages['en-US'] = session.page;
    pages['zh-CN'] = await openEditor(browser, red, 'zh-CN', session.pageErrors);
    // One node of each type, as a new one is (the dialogs' defaults), bound to the service node.
    const nodes = TYPES.map((type, i) => ({ id: `dialogs-${type}`, type, z: TAB, x: 200, y: 60 + 60 * i, ...(type === 'pcm-speaker' ? {} : { config: SERVICE_ID }) }));
    for (const p of Object.values(pages)) {
      await js(p, `RED.view.importNodes(${JSON.stringify(nodes)}, { applyNodeDefaults: true, touchImport: true, notify: false })`);
      await until('the nodes imported', 5000, () => js<boolean>(p, `!!RED.nodes.node('dialogs-pcm-speaker')`));
    }
  });

  async function edit(p: Page, id: string): Promise<void> {
    await js(p, `RED.editor.edit(RED.nodes.node(${JSON.stringify(id)}))`);
    await p.waitForSelector('#node-dialog-ok', { state: 'visible' });
  }
  async function editService(p: Page, id: string): Promise<void> {
    await js(p, `RED.editor.editConfig('', 'tts-config', ${JSON.stringify(id)})`);
    await p.waitForSelector('#node-config-dialog-ok', { state: 'visible' });
  }
  async function cancel(p: Page): Promise<void> {
    const config = await p.locator('#node-config-dialog-cancel').count();
    await p.locator(config ? '#node-config-dialog-cancel' : '#node-dialog-cancel').click();
    await p.waitForSelector(config ? '#node-config-dialog-cancel' : '#node-dialog-cancel', { state: 'detached' });
  }
  // A test that failed with a dialog open leaves it to the next one: closed here, so each test
  // starts at the workspace.
  afterEach(async () => {
    for (const p of Object.values(pages)) {
      for (let i = 0; i < 4; i += 1) {
        const open = await p.locator('#node-config-dialog-cancel, #node-dialog-cancel').count();
        if (!open) break;
        await cancel(p).catch(() => undefined);
      }
    }
  });

  /** Opens the advanced section, as a user does, when it is closed. */
  async function openAdvanced(p: Page): Promise<void> {
    const section = p.locator('.dashscope-tts-advanced').last();
    if (!(await section.isVisible())) await p.locator('.dashscope-tts-advanced-link').last().click();
    await section.waitFor({ state: 'visible' });
  }

  for (const locale of LOCALES) {
    it(`${locale}: every dialog fits the default tray width, advanced section open and closed`, async () => {
      const p = pages[locale] as Page;
      const misfits: string[] = [];
      for (const type of ['tts-config', ...TYPES]) {
        if (type === 'tts-config') await editService(p, SERVICE_ID);
        else await edit(p, `dialogs-${type}`);
        await p.waitForTimeout(300);
        misfits.push(...(await js<string[]>(p, MISFITS)).map((m) => `${type}: ${m}`));
        await openAdvanced(p);
        misfits.push(...(await js<string[]>(p, MISFITS)).map((m) => `${type} (advanced): ${m}`));
        if (type === 'voice-clone' || type === 'voice-design') {
          // The other family's targets and languages.
          await p.selectOption('#node-input-family', 'qwen');
          misfits.push(...(await js<string[]>(p, MISFITS)).map((m) => `${type} (Qwen): ${m}`));
        }
        await p.screenshot({ path: join(SHOTS, `dialog-${type}-${locale}.png`) });
        await cancel(p);
      }
      assert.deepEqual(misfits, []);
    });
  }

  /** The fields of the open dialog that are marked invalid, among `fields`. */
  function marked(p: Page, prefix: string, fields: string[]): Promise<string[]> {
    return js<string[]>(p, `${JSON.stringify(fields)}.filter((f) => $('#${prefix}' + f).hasClass('input-error'))`);
  }
  /** Sets the open dialog's fields (selects by value) and waits for their validation. */
  async function set(p: Page, prefix: string, values: Record<string, string>): Promise<void> {
    for (const [field, value] of Object.entries(values)) {
      const input = p.locator(`#${prefix}${field}`);
      if (!(await input.isVisible())) await openAdvanced(p);
      const kind = await input.evaluate((el) => (el.tagName === 'SELECT' ? 'select' : (el as unknown as { type: string }).type));
      if (kind === 'select') await input.selectOption(value);
      else if (kind === 'checkbox') await input.setChecked(value === 'true');
      else await input.fill(value);
      await input.dispatchEvent('change');
    }
  }
  async function expectMarks(p: Page, prefix: string, values: Record<string, string>, expected: Record<string, boolean>, why: string): Promise<void> {
    await set(p, prefix, values);
    const fields = Object.keys(expected);
    const want = fields.filter((f) => expected[f]);
    await until(why, 3000, async () => JSON.stringify(await marked(p, prefix, fields)) === JSON.stringify(want)).catch(async () => {
      assert.deepEqual(await marked(p, prefix, fields), want, why);
    });
  }

  for (const locale of LOCALES) {
    it(`${locale}: the palette names the nodes as the README does, and searching it finds them`, async () => {
      const p = pages[locale] as Page;
      const labels = await js<Record<string, string>>(p, `Object.fromEntries(${JSON.stringify(TYPES)}.map((t) => [t, $('.red-ui-palette-node[data-palette-type="' + t + '"]').attr('data-palette-label')]))`);
      assert.deepEqual(labels, { 'cosyvoice-stream': 'cosyvoice tts', 'qwen-realtime': 'qwen tts', 'voice-clone': 'voice clone', 'voice-design': 'voice design', 'pcm-speaker': 'pcm speaker' });
      const search = p.locator('#red-ui-palette-search input');
      const shown = (): Promise<string[]> => js<string[]>(p, `$('.red-ui-palette-node[data-palette-type]:visible').map(function () { return $(this).attr('data-palette-type'); }).get().filter((t) => ${JSON.stringify(TYPES)}.includes(t))`);
      for (const [query, found] of [['tts', ['cosyvoice-stream', 'qwen-realtime']], ['speaker', ['pcm-speaker']], ['clone', ['voice-clone']]] as const) {
        // Typed, as a user does (the palette filters on key presses).
        await search.fill('');
        await search.pressSequentially(query);
        await until(`"${query}" filtered`, 3000, async () => JSON.stringify((await shown()).sort()) === JSON.stringify([...found].sort())).catch(async () => {
          assert.deepEqual((await shown()).sort(), [...found].sort(), `searching the palette for "${query}"`);
        });
      }
      await search.fill('');
      await search.press('Backspace');
      // A new service node's dialog reads naturally.
      await js(p, `RED.editor.editConfig('', 'tts-config', '_ADD_')`);
      await p.waitForSelector('#node-config-dialog-ok', { state: 'visible' });
      const title = (await p.locator('.red-ui-tray').last().locator('.red-ui-tray-titlebar').innerText()).trim();
      assert.equal(title, locale === 'zh-CN' ? '添加新的 DashScope service 配置' : 'Add new DashScope service config node');
      await cancel(p);
    });

    it(`${locale}: the advanced section is closed on a new node and opens by itself when it holds a value`, async () => {
      const p = pages[locale] as Page;
      const open = (): Promise<boolean> => p.locator('.dashscope-tts-advanced').last().isVisible();
      for (const type of TYPES) {
        await edit(p, `dialogs-${type}`);
        assert.equal(await open(), false, `${type}: closed with the defaults`);
        assert.ok((await p.locator('.dashscope-tts-advanced [id^="node-input-"]').count()) > 0, `${type}: has advanced fields`);
        await cancel(p);
      }
      await editService(p, SERVICE_ID);
      assert.equal(await open(), false, 'the service node: closed with the defaults');
      await cancel(p);
      // A value that is not the default (seed), one the runtime refuses (a language type), a service node's tuning.
      const cases: [string, string, string, unknown][] = [['cosyvoice-stream', 'node', 'seed', '42'], ['qwen-realtime', 'node', 'languageType', 'Klingon'], ['pcm-speaker', 'node', 'prebufferMs', 400], ['tts-config', 'service', 'cacheSize', 200]];
      for (const [type, kind, field, value] of cases) {
        const id = kind === 'service' ? SERVICE_ID : `dialogs-${type}`;
        const before = await js<unknown>(p, `RED.nodes.node(${JSON.stringify(id)})[${JSON.stringify(field)}]`);
        await js(p, `RED.nodes.node(${JSON.stringify(id)})[${JSON.stringify(field)}] = ${JSON.stringify(value)}`);
        if (kind === 'service') await editService(p, id);
        else await edit(p, id);
        assert.equal(await open(), true, `${type}: opened by its ${field}`);
        await cancel(p);
        await js(p, `RED.nodes.node(${JSON.stringify(id)})[${JSON.stringify(field)}] = ${JSON.stringify(before)}`);
      }
    });

    it(`${locale}: the advanced section opens by itself when a field in it becomes invalid after the dialog opened`, async () => {
      const p = pages[locale] as Page;
      const open = (): Promise<boolean> => p.locator('.dashscope-tts-advanced').last().isVisible();
      const closeAdvanced = async (): Promise<void> => {
        if (await open()) await p.locator('.dashscope-tts-advanced-link').last().click();
        assert.equal(await open(), false);
      };
      const cases: [type: string, valid: Record<string, string>, invalidating: Record<string, string>, field: string][] = [
        ['voice-clone', { languageHints: 'th' }, { targetModel: 'cosyvoice-v3-plus' }, 'languageHints'],
        ['voice-design', { family: 'qwen', language: 'de' }, { family: 'cosyvoice' }, 'language'],
        ['voice-design', { family: 'qwen', format: 'opus' }, { family: 'cosyvoice' }, 'format'],
      ];
      for (const [type, valid, invalidating, field] of cases) {
        await edit(p, `dialogs-${type}`);
        await expectMarks(p, 'node-input-', valid, { [field]: false }, `${type}: ${JSON.stringify(valid)} is valid`);
        await closeAdvanced();
        await expectMarks(p, 'node-input-', invalidating, { [field]: true }, `${type}: ${JSON.stringify(invalidating)} makes ${field} invalid`);
        await until(`${type}: the section opened on the marked ${field}`, 3000, open).catch(() => assert.fail(`${type}: the advanced section stays closed over the marked ${field}`));
        await cancel(p);
      }
    });

    it(`${locale}: a speech dialog judges by its own fields again after the service dialog opened over it`, async () => {
      const p = pages[locale] as Page;
      const I = 'node-input-';
      await edit(p, 'dialogs-cosyvoice-stream');
      await expectMarks(p, I, { model: 'cosyvoice-v2', voice: 'longxiaochun_v2' }, { voice: false }, 'a cosyvoice-v2 voice with the field\'s model');
      // The pencil beside Service opens the service node's dialog over this one.
      await p.locator('#node-input-btn-config-edit').click();
      await p.waitForSelector('#node-config-dialog-cancel', { state: 'visible' });
      await p.locator('#node-config-dialog-cancel').click();
      await p.waitForSelector('#node-config-dialog-cancel', { state: 'detached' });
      assert.equal(await js<string>(p, `RED.nodes.node('dialogs-cosyvoice-stream').model`), 'cosyvoice-v3-flash', 'the saved model is another');
      await expectMarks(p, I, { voice: 'longyingxiao' }, { voice: false }, 'judged by the field\'s model (cosyvoice-v2), not the saved one');
      await expectMarks(p, I, { voice: 'longxiaochun_v2' }, { voice: false }, 'still cosyvoice-v2');
      await expectMarks(p, I, { voice: 'longanyang' }, { voice: true }, 'a cosyvoice-v3-flash voice is marked with cosyvoice-v2');
      await cancel(p);
    });

    it(`${locale}: the dialogs mark what the runtime would refuse (voice of another model, plain http to another machine, ranges)`, async () => {
      const p = pages[locale] as Page;
      const I = 'node-input-';
      await edit(p, 'dialogs-cosyvoice-stream');
      await expectMarks(p, I, { model: 'cosyvoice-v3-flash', voice: 'longxiaochun_v2' }, { voice: true }, 'longxiaochun_v2 is a cosyvoice-v2 voice');
      await expectMarks(p, I, { model: 'cosyvoice-v2' }, { voice: false }, 'and speaks with cosyvoice-v2');
      await expectMarks(p, I, { voice: 'cosyvoice-v3-flash-myvoice-0123456789abcdef' }, { voice: true }, 'a voice made for cosyvoice-v3-flash does not speak with cosyvoice-v2');
      await expectMarks(p, I, { model: 'cosyvoice-v3-flash' }, { voice: false }, 'it speaks with cosyvoice-v3-flash');
      await expectMarks(p, I, { voice: 'some-custom-voice', volume: '101', rate: '2.1', pitch: '0.4' }, { voice: false, volume: true, rate: true, pitch: true }, 'the service ranges of volume, rate, pitch');
      await expectMarks(p, I, { volume: '100', rate: '2', pitch: '0.5', seed: '65536' }, { volume: false, rate: false, pitch: false, seed: true }, 'their limits are taken; the seed has its own');
      // The instruction's length as the service counts it: a CJK character counts 2 (100 at most).
      await expectMarks(p, I, { instruction: '请'.repeat(51) }, { instruction: true }, '51 CJK characters count 102');
      await expectMarks(p, I, { instruction: '请'.repeat(50) }, { instruction: false }, '50 CJK characters count 100');
      // What only some models take: an instruction (not cosyvoice-v2, v1), SSML (not v3.5, v1). A
      // row the model does not take stays in sight while it holds a value, marked.
      const rowShown = (field: string): Promise<boolean> => p.locator(`.dashscope-tts-row-${field}`).isVisible();
      await expectMarks(p, I, { voice: '', instruction: 'speak warmly', ssml: 'true' }, { instruction: false, ssml: false }, 'cosyvoice-v3-flash takes both');
      await expectMarks(p, I, { model: 'cosyvoice-v2' }, { instruction: true, ssml: false }, 'cosyvoice-v2 takes no instruction');
      assert.equal(await rowShown('instruction'), true, 'the marked instruction stays in sight');
      await expectMarks(p, I, { model: 'cosyvoice-v1' }, { instruction: true, ssml: true }, 'cosyvoice-v1 takes neither');
      assert.equal(await rowShown('ssml'), true, 'the marked SSML box stays in sight');
      await expectMarks(p, I, { model: 'cosyvoice-v3.5-flash' }, { instruction: false, ssml: true }, 'cosyvoice-v3.5-flash takes no SSML');
      await expectMarks(p, I, { ssml: 'false', instruction: '' }, { instruction: false, ssml: false }, 'SSML off and no instruction are valid anywhere');
      await expectMarks(p, I, { model: 'cosyvoice-v1' }, { instruction: false, ssml: false }, 'nothing set, nothing marked');
      assert.deepEqual([await rowShown('instruction'), await rowShown('ssml')], [false, false], 'the rows of what the model does not take are hidden again');
      await cancel(p);
      await edit(p, 'dialogs-qwen-realtime');
      await expectMarks(p, I, { model: 'qwen3-tts-vd-realtime-2026-01-15', voice: 'Cherry' }, { voice: true }, 'a model of designed voices takes no system voice');
      await expectMarks(p, I, { model: 'qwen3-tts-flash-realtime' }, { voice: false }, 'qwen3-tts-flash-realtime speaks Cherry');
      await expectMarks(p, I, { model: 'qwen3-tts-instruct-flash-realtime', instructions: 'speak slowly' }, { instructions: false }, 'an instruct model takes instructions');
      await expectMarks(p, I, { model: 'qwen3-tts-flash-realtime' }, { instructions: true }, 'the default model takes none');
      assert.equal(await p.locator('.dashscope-tts-row-instructions').isVisible(), true, 'the marked instructions stay in sight');
      await cancel(p);
      await edit(p, 'dialogs-pcm-speaker');
      await openAdvanced(p);
      await expectMarks(p, I, { volume: '201', prebufferMs: '5001', stallTimeout: '0' }, { volume: true, prebufferMs: true, stallTimeout: true }, 'pcm speaker ranges');
      await expectMarks(p, I, { volume: '200', prebufferMs: '5000', stallTimeout: '0.1' }, { volume: false, prebufferMs: false, stallTimeout: false }, 'their limits are taken');
      await cancel(p);
      const C = 'node-config-input-';
      await editService(p, SERVICE_ID);
      for (const [url, refused] of [['http://192.168.1.5:8080', true], ['ftp://example.com', true], ['http://127.0.0.1:1880', false], ['http://localhost:8080/base', false], ['https://192.168.1.5:8443', false], ['${DASHSCOPE_SIMULATOR_URL}', false]] as const) {
        await expectMarks(p, C, { region: 'custom', endpoint: url }, { endpoint: refused }, `base URL ${url}`);
      }
      await openAdvanced(p);
      await expectMarks(p, C, { limitShare: '0', cacheSize: '0' }, { limitShare: true, cacheSize: true }, 'limit share and cache size ranges');
      await expectMarks(p, C, { limitShare: '100', cacheSize: '50' }, { limitShare: false, cacheSize: false }, 'their defaults are valid');
      await cancel(p);
    });

    it(`${locale}: pcm speaker offers the sound cards by name, and ALSA's plugins only under "More devices"`, async () => {
      const p = pages[locale] as Page;
      const devices = [
        { name: 'default', label: 'Default output', more: false },
        { name: 'sysdefault:CARD=Device', label: 'USB Audio Device', more: false },
        { name: 'sysdefault:CARD=Headphones', label: 'bcm2835 Headphones', more: false },
        { name: 'null', label: 'null', more: true },
        { name: 'jack', label: 'jack', more: true },
      ];
      await p.route('**/pcm-speaker/devices*', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ devices }) }));
      try {
        await edit(p, 'dialogs-pcm-speaker');
        const choice = p.locator('#pcm-speaker-device-choice');
        const options = (): Promise<{ value: string; text: string; group: string }[]> =>
          choice.evaluate((el) => [...(el as unknown as { options: { value: string; text: string; parentElement: { tagName: string; label: string } }[] }).options].map((o) => ({ value: o.value, text: o.text, group: o.parentElement.tagName === 'OPTGROUP' ? o.parentElement.label : '' })));
        await until('the stubbed devices', 5000, async () => (await options()).some((o) => o.value === 'sysdefault:CARD=Device'));
        const first = await options();
        assert.deepEqual(first.map((o) => o.value), ['', 'sysdefault:CARD=Device', 'sysdefault:CARD=Headphones', '__more__', '__other__'], 'default, the cards, then the two choices');
        assert.deepEqual(first.slice(1, 3).map((o) => o.text), ['USB Audio Device', 'bcm2835 Headphones']);
        assert.equal(await choice.inputValue(), '', 'a new node plays on the default output');
        assert.equal(await p.locator('#node-input-device').isVisible(), false, 'no ALSA name to type for a listed device');
        await choice.selectOption('__more__');
        const more = await options();
        assert.deepEqual(more.filter((o) => o.group).map((o) => o.value), ['null', 'jack'], 'the plugins, in a group of their own');
        assert.equal(new Set(more.filter((o) => o.group).map((o) => o.group)).size, 1);
        await choice.selectOption('jack');
        assert.equal(await p.locator('#node-input-device').inputValue(), 'jack');
        await choice.selectOption('sysdefault:CARD=Device');
        assert.equal(await p.locator('#node-input-device').inputValue(), 'sysdefault:CARD=Device');
        await choice.selectOption('__other__');
        assert.equal(await p.locator('#node-input-device').isVisible(), true, 'Other: type an ALSA name');
        // The note counts the outputs (the cards, not the default output).
        const note = p.locator('#pcm-speaker-device-note');
        assert.equal((await note.innerText()).trim(), locale === 'zh-CN' ? '找到 2 个声音输出' : '2 sound output(s) found');
        await cancel(p);
        // A node set to a plugin shows it, its group revealed.
        await js(p, `RED.nodes.node('dialogs-pcm-speaker').device = 'null'`);
        await edit(p, 'dialogs-pcm-speaker');
        await until('the stubbed devices', 5000, async () => (await options()).some((o) => o.value === 'null'));
        assert.equal(await choice.inputValue(), 'null');
        await cancel(p);
        await js(p, `RED.nodes.node('dialogs-pcm-speaker').device = ''`);
      } finally {
        await p.unroute('**/pcm-speaker/devices*');
      }
      // The labels real machines give (test/fixtures/alsa/), plugins revealed: none is cut off.
      for (const machine of ['pi4-usb', 'pc-hda-intel'] as const) {
        const devices = devicesOf(machine);
        await p.route('**/pcm-speaker/devices*', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ devices }) }));
        try {
          await edit(p, 'dialogs-pcm-speaker');
          const choice = p.locator('#pcm-speaker-device-choice');
          await until(`the devices of ${machine}`, 5000, async () => (await choice.locator('option[value="__more__"]').count()) === 1);
          await choice.selectOption('__more__');
          const titles = await choice.locator('optgroup option').evaluateAll((os) => os.map((o) => (o as unknown as { title: string }).title));
          assert.equal(titles.length, devices.filter((d) => d.more).length, `${machine}: every plugin listed`);
          const nullPcm = devices.find((d) => d.name === 'null');
          assert.ok(titles.includes(`null — ${nullPcm?.description ?? ''}`), `${machine}: the whole description in the tooltip`);
          assert.deepEqual(await js<string[]>(p, MISFITS), [], `${machine}: More devices shown`);
          await cancel(p);
        } finally {
          await p.unroute('**/pcm-speaker/devices*');
        }
      }
      // Why the list is short, in the editor's language; aplay's own words in the tooltip.
      const reasons: [reason: string, error: string, en: RegExp, zh: RegExp][] = [
        ['missing', 'aplay not found: install alsa-utils to list devices', /^aplay not found: install alsa-utils/, /^找不到 aplay/],
        ['noCards', 'no sound cards found (aplay -l lists none)', /^no sound card found/, /^未找到声卡/],
        ['timeout', 'aplay -L gave no answer within 5000 ms', /^aplay gave no answer in time/, /^aplay 未及时应答/],
        ['failed', 'ALSA lib confmisc.c: cannot find card', /^aplay could not list the devices/, /^aplay 无法列出设备/],
      ];
      for (const [reason, error, en, zh] of reasons) {
        await p.route('**/pcm-speaker/devices*', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ devices: [{ name: 'default', label: 'Default output', more: false }], error, reason }) }));
        try {
          await edit(p, 'dialogs-pcm-speaker');
          const note = p.locator('#pcm-speaker-device-note');
          await until(`the note on ${reason}`, 5000, async () => !/…$/.test((await note.innerText()).trim()));
          assert.match((await note.innerText()).trim(), locale === 'zh-CN' ? zh : en, reason);
          assert.equal(await note.getAttribute('title'), error, `${reason}: the detail in the tooltip`);
          await cancel(p);
        } finally {
          await p.unroute('**/pcm-speaker/devices*');
        }
      }
      // The real endpoint: whatever this machine has, the default output comes first.
      await edit(p, 'dialogs-pcm-speaker');
      await until('the device note', 10_000, async () => !/…$/.test((await p.locator('#pcm-speaker-device-note').innerText()).trim()));
      const real = await p.locator('#pcm-speaker-device-choice option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
      assert.equal(real[0], '');
      assert.equal(real[real.length - 1], '__other__');
      await cancel(p);
    });

    it(`${locale}: pcm speaker groups its settings under headings (Output, Announcements, Queueing), and lists a sound server's outputs in a group of their own`, async () => {
      const p = pages[locale] as Page;
      const texts = (JSON.parse(readFileSync(join(ROOT, 'locales', locale, 'pcm-speaker.json'), 'utf8')) as { 'pcm-speaker': { heading: Record<string, string>; label: Record<string, string>; devices: { serverGroup: string } } })['pcm-speaker'];
      const devices = [
        { name: 'default', label: 'Default output', more: false },
        { name: 'pulse:alsa_output.hdmi', label: 'HDMI / DisplayPort', more: false, server: true },
        { name: 'sysdefault:CARD=Headphones', label: 'bcm2835 Headphones', more: false },
      ];
      await p.route('**/pcm-speaker/devices*', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ devices, server: { reachable: true } }) }));
      try {
        await edit(p, 'dialogs-pcm-speaker');
        // Each visible row's heading: the text of the last heading above it, read in the page.
        const sections = await p.evaluate(`(() => {
          const out = {}; let heading = '';
          $('#dialog-form .form-row').each(function () {
            if ($(this).hasClass('dashscope-tts-heading')) { heading = $(this).text().trim(); out[heading] = []; return; }
            const label = $(this).children('label').first().text().trim();
            if (heading && label && $(this).is(':visible')) out[heading].push(label);
          });
          return out;
        })()`) as Record<string, string[]>;
        assert.deepEqual(Object.keys(sections), [texts.heading.output, texts.heading.announcements, texts.heading.queue]);
        assert.deepEqual(sections[texts.heading.announcements], [texts.label.chime, texts.label.leadIn, texts.label.keepOpen]);
        assert.ok((sections[texts.heading.output] ?? []).includes(texts.label.device), JSON.stringify(sections));
        assert.ok((sections[texts.heading.queue] ?? []).includes(texts.label.queue), JSON.stringify(sections));
        const choice = p.locator('#pcm-speaker-device-choice');
        await until('the stubbed devices', 5000, async () => (await choice.locator('option[value="pulse:alsa_output.hdmi"]').count()) === 1);
        const group = await choice.locator('option[value="pulse:alsa_output.hdmi"]').evaluate((o) => (o.parentElement as unknown as { tagName: string; label: string }).label);
        assert.equal(group, texts.devices.serverGroup);
        await cancel(p);
      } finally {
        await p.unroute('**/pcm-speaker/devices*');
      }
    });

    it(`${locale}: imported nodes whose service node is missing get the only one there is, or a new one`, async () => {
      const p = pages[locale] as Page;
      // Loaded from the server, a dangling reference is left as it is.
      assert.equal(await js<string>(p, `RED.nodes.node('dialogs-dangling').config`), 'missing-service');
      const flow = (id: string): Record<string, unknown>[] => [
        { id, type: 'cosyvoice-stream', z: TAB, x: 700, y: 200, config: 'dashscope-tts-config', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, input: 'utterance', wires: [[], []] },
        { id: `${id}-clone`, type: 'voice-clone', z: TAB, x: 700, y: 260, config: 'dashscope-tts-config', wires: [[]] },
      ];
      const importFlow = (nodes: Record<string, unknown>[]): Promise<unknown> => js(p, `RED.view.importNodes(${JSON.stringify(nodes)}, { applyNodeDefaults: true, touchImport: true, notify: false })`);
      const state = (id: string): Promise<{ config: string; valid: boolean; users: string[] }> =>
        js(p, `(n => ({ config: n.config, valid: n.valid, users: (RED.nodes.node(n.config) || { users: [] }).users.map(u => u.id) }))(RED.nodes.node(${JSON.stringify(id)}))`);

      await js(p, `window.__serviceChanges = []; RED.events.on('nodes:change', (n) => { if (n.type === 'tts-config') window.__serviceChanges.push(n.id); })`);
      // One service node in the workspace: the imported nodes use it.
      await importFlow(flow(`mend-one-${locale}`));
      await until('bound to the service node', 3000, async () => (await state(`mend-one-${locale}`)).config === SERVICE_ID);
      for (const id of [`mend-one-${locale}`, `mend-one-${locale}-clone`]) {
        const s1 = await state(id);
        assert.equal(s1.config, SERVICE_ID, id);
        assert.ok(s1.users.includes(id), `${id} is a user of the service node`);
      }
      assert.equal(await js<boolean>(p, `!!RED.nodes.node('dashscope-tts-config')`), false, 'no service node made');
      assert.equal(await js<boolean>(p, 'RED.nodes.dirty()'), true, 'the flow is to be deployed');
      assert.ok((await js<string[]>(p, 'window.__serviceChanges')).includes(SERVICE_ID), 'the service node that gained users is reported changed');
      // One Undo takes back the import and the binding.
      const depth = await js<number>(p, 'RED.history.depth()');
      await js(p, `RED.actions.invoke('core:undo')`);
      assert.equal(await js<number>(p, 'RED.history.depth()'), depth - 1);
      assert.equal(await js<boolean>(p, `!!RED.nodes.node('mend-one-${locale}') || !!RED.nodes.node('mend-one-${locale}-clone')`), false, 'the imported nodes are gone');
      assert.deepEqual(await js<string[]>(p, `RED.nodes.node(${JSON.stringify(SERVICE_ID)}).users.map(u => u.id).filter(id => id.startsWith('mend-'))`), [], 'and are no users of the service node');

      // None: one is made with the referred id and a new one's settings.
      await js(p, `RED.nodes.remove(${JSON.stringify(SERVICE_ID)})`);
      await importFlow(flow(`mend-none-${locale}`));
      await until('a service node made', 3000, () => js<boolean>(p, `!!RED.nodes.node('dashscope-tts-config')`));
      const made = await js<Record<string, unknown>>(p, `(c => ({ type: c.type, region: c.region, endpoint: c.endpoint, cacheSize: c.cacheSize, limitShare: c.limitShare, keepWarm: c.keepWarm, users: c.users.map(u => u.id).sort() }))(RED.nodes.node('dashscope-tts-config'))`);
      assert.deepEqual(made, { type: 'tts-config', region: 'beijing', endpoint: '', cacheSize: 50, limitShare: 100, keepWarm: false, users: [`mend-none-${locale}`, `mend-none-${locale}-clone`].sort() });
      assert.equal((await state(`mend-none-${locale}`)).valid, true, 'the imported node is valid');
      assert.ok((await js<string[]>(p, 'window.__serviceChanges')).includes('dashscope-tts-config'), 'the new service node is reported');
      // One Undo takes back the import and the service node made for it.
      await js(p, `RED.actions.invoke('core:undo')`);
      assert.equal(await js<boolean>(p, `!!RED.nodes.node('mend-none-${locale}') || !!RED.nodes.node('mend-none-${locale}-clone')`), false, 'the imported nodes are gone');
      assert.equal(await js<boolean>(p, `!!RED.nodes.node('dashscope-tts-config')`), false, 'the service node made for them is gone');
      // Redo brings both back, bound.
      await js(p, `RED.actions.invoke('core:redo')`);
      assert.equal((await state(`mend-none-${locale}`)).config, 'dashscope-tts-config');
      assert.deepEqual(await js<string[]>(p, `RED.nodes.node('dashscope-tts-config').users.map(u => u.id).sort()`), [`mend-none-${locale}`, `mend-none-${locale}-clone`].sort(), 'redone');
    });
  }

  it('threw no error in either page', () => {
    assert.deepEqual(session.pageErrors, []);
  });
});
