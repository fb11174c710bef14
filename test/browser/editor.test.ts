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
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DashScopeSimulator, expectedAudio } from '../simulator';
import { NodeRedProcess, ROOT, until } from '../e2e/node-red-process';
import { chromiumPath, requireSystem } from '../support/system-deps';

const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs') : join(ROOT, '.tmp', 'screenshots');
mkdirSync(SHOTS, { recursive: true });
const CATEGORY = 'DashScope TTS';
const PALETTE_TYPES = ['cosyvoice-stream', 'qwen-realtime', 'voice-clone', 'voice-design', 'pcm-speaker'];
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json'));
const CONFIG_ID = 'browser-sim-config';

/** Runs `code` in the page. The editor's globals (RED, $) are not typed here, hence source text. */
function js<T>(page: Page, code: string): Promise<T> {
  return page.evaluate(code) as Promise<T>;
}

/** For each node type: a field, a value the dialog must flag, and a valid one. */
const FIELDS: Record<string, { field: string; bad: string; good: string }> = {
  'cosyvoice-stream': { field: 'volume', bad: '500', good: '60' },
  'qwen-realtime': { field: 'speechRate', bad: '9', good: '1.2' },
  'voice-clone': { field: 'voiceName', bad: 'Not Valid!', good: 'doorbell' },
  'voice-design': { field: 'voiceName', bad: 'Not Valid!', good: 'narrator' },
  'pcm-speaker': { field: 'prebufferMs', bad: '99999', good: '300' },
};

describe('the editor in a browser', function () {
  requireSystem('chromium');
  this.timeout(60_000);
  let sim: DashScopeSimulator;
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  async function openEditor(locale: string): Promise<Page> {
    const context = await browser.newContext({ locale, viewport: { width: 1400, height: 900 } });
    const p = await context.newPage();
    p.on('pageerror', (err) => pageErrors.push(`${locale}: ${err.message}`));
    await p.goto(`http://127.0.0.1:${red.port}/`);
    await p.waitForSelector('.red-ui-palette-node[data-palette-type="cosyvoice-stream"]', { state: 'visible', timeout: 30_000 });
    return p;
  }

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

  /** Presses Deploy and waits for the runtime to take the new flows (a new revision, nothing left to deploy). */
  async function deploy(p: Page): Promise<void> {
    const before = await js<string>(p, 'RED.nodes.version()');
    await p.locator('#red-ui-header-button-deploy').click();
    await until('the deploy', 10_000, async () => {
      // A confirmation (invalid or unused nodes) would mean the flow did not deploy cleanly.
      if (await p.locator('#red-ui-header-button-deploy-confirm, .red-ui-deploy-dialog-confirm-list').count()) throw new Error('Deploy asked for confirmation');
      return (await js<string>(p, 'RED.nodes.version()')) !== before && (await p.locator('#red-ui-header-button-deploy.disabled').count()) > 0;
    });
    assert.equal(await p.locator('.red-ui-notification-error').count(), 0, 'no error notification');
  }

  before(async () => {
    sim = await DashScopeSimulator.start({ acceptAnyKey: true });
    const env = { ...process.env };
    delete env.DASHSCOPE_API_KEY;
    // Node-RED and the browser start side by side: neither needs the other until the page opens.
    const launching = chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
    }).then((b) => (browser = b)); // kept at once, so that after() closes it even when Node-RED failed to start
    launching.catch(() => undefined); // awaited below; a failure is reported there
    red = await NodeRedProcess.start(env);
    // A deployed service node pointing at the simulator: the preview and voice list need one.
    await red.deploy([
      { id: 'browser-tab', type: 'tab', label: 'Browser test' },
      { id: CONFIG_ID, type: 'tts-config', name: 'simulator', region: 'custom', endpoint: sim.baseUrl, workspace: '', keepWarm: false, credentials: { apiKey: 'sk-browser' } },
    ]);
    await launching;
    page = await openEditor('en-US');
  });
  afterEach(async function () {
    // What the page showed when a test failed, for whoever has to find out why.
    if (this.currentTest?.state === 'failed' && page) await page.screenshot({ path: join(ROOT, '.tmp', `browser-failure-${Date.now()}.png`) }).catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
    await sim?.close();
  });

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
    assert.match(await page.locator('#cosyvoice-stream-model-note').innerText(), /pcm.*24000/);

    // The account's custom voices join the list; a custom id is still accepted as typed.
    await page.locator('#cosyvoice-stream-list-voices').click();
    await until('the custom voice listed', 5000, async () => (await offered()).includes(mine.id));

    await page.locator('#node-input-voice').fill('longanyang');
    await page.locator('#cosyvoice-stream-preview').click();
    const audio = page.locator('#cosyvoice-stream-preview-audio');
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

  it('Import > Examples lists every example, and each one imports and deploys', async () => {
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

    for (const file of wanted) {
      await js(page, `RED.actions.invoke('core:show-examples-import-dialog')`);
      await page.locator('.red-ui-clipboard-dialog-tab-library .red-ui-treeList-label', { hasText: 'node-red-contrib-dashscope-tts' }).first().click();
      await page.locator('.red-ui-clipboard-dialog-tab-library .red-ui-treeList-label', { hasText: file }).first().click();
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      // The examples share their service node: a later import offers to import a copy of it.
      const copy = page.locator('.red-ui-notification button', { hasText: 'Import copy' });
      await page.waitForTimeout(150);
      if (await copy.count()) await copy.click();
      const flow = JSON.parse(readFileSync(join(ROOT, 'examples', `${file}.json`), 'utf8')) as { type: string }[];
      const tabLabel = (flow.find((n) => n.type === 'tab') as unknown as { label: string }).label;
      await until(`${file} imported`, 5000, () => js<boolean>(page, `RED.nodes.filterNodes({}).length > 0 && !!RED.nodes.workspace && RED.workspaces.active() && Object.values(RED.nodes.getWorkspaceOrder()).some(id => RED.nodes.workspace(id) && RED.nodes.workspace(id).label === ${JSON.stringify(tabLabel)})`));
      // Dropped at the mouse position: click to place the imported nodes.
      await page.mouse.click(700, 450);
      await deploy(page);
      const invalid = await js<string[]>(page, `RED.nodes.filterNodes({}).filter(n => !n.valid).map(n => n.type + ' ' + n.id)`);
      assert.deepEqual(invalid, [], `${file}: every node is valid`);
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
    await zh.context().close();
    assert.ok(existsSync(join(SHOTS, 'editor.png')));
  });
});
