/**
 * The first minutes of a user of the offline demo, in the real editor (Debian's headless Chromium),
 * in en-US and in zh-CN: Node-RED runs the flow `npm start` writes without a key
 * (scripts/demo-flow.mjs), its service node pointing at the DashScope simulator, with the voice
 * sample folder npm start sets up. The demo tab's button speaks; then each example is imported
 * through menu › Import › Examples, one after another, and must
 *
 * - import with no notification about nodes that already exist (the examples carry no service
 *   node: their nodes name the demo's by its id, so the import needs nothing mended either);
 * - deploy with every node valid and no [warn] or [error] in Node-RED's log, no two of its nodes
 *   drawn over each other (the boxes the editor computes and draws);
 * - speak when its button on the canvas is pressed: the simulator gets the text, and the speech
 *   node's events output (a debug node) reports the utterance done.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DEMO_IDS, DEMO_TAB_ID, HELLO_TEXT, demoFlow, prepareSampleFolder, type FlowNode } from '../../scripts/demo-flow.mjs';
import { NodeRedProcess, ROOT, until } from '../e2e/node-red-process';
import { DashScopeSimulator } from '../simulator';
import { requireSystem } from '../support/system-deps';
import { deploy, js, launchBrowser, openEditor } from './editor-session';

const MODULE = 'node-red-contrib-dashscope-tts';
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
const LIBRARY_ITEM = '.red-ui-clipboard-dialog-tab-library .red-ui-treeList-label';
const SYNTHESIS = ['cosyvoice-stream', 'qwen-realtime'];
/** Warnings come at deploy or from what the nodes start then (connections, devices): this long after "Started flows". */
const SETTLE_MS = 1000;
/** The WAV example writes into this folder (its file node's name); removed after the test if the test made it. */
const WAV_EXAMPLE_FOLDER = '/tmp/dashscope-tts';

interface Box {
  id: string;
  type: string;
  label: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The pairs of node boxes (centre x/y, width, height, as the editor draws them) that overlap. */
function overlaps(boxes: Box[]): string[] {
  const found: string[] = [];
  boxes.forEach((a, i) => {
    for (const b of boxes.slice(i + 1)) {
      if (Math.abs(a.x - b.x) * 2 < a.w + b.w && Math.abs(a.y - b.y) * 2 < a.h + b.h) found.push(`${a.type} "${a.label}" and ${b.type} "${b.label}"`);
    }
  });
  return found;
}

function example(name: string): FlowNode[] {
  return JSON.parse(readFileSync(join(ROOT, 'examples', `${name}.json`), 'utf8')) as FlowNode[];
}

/** What a flow's button says, and where to see it said: the inject node to press, the speech node it reaches, its events debug node, the text. */
function speakingPath(flow: FlowNode[]): { inject: FlowNode; synth: FlowNode; events: string; text: string | undefined } {
  const byId = (id: string): FlowNode | undefined => flow.find((n) => n.id === id);
  const synth = flow.find((n) => SYNTHESIS.includes(n.type));
  assert.ok(synth, 'the flow has a speech node');
  const events = ((synth.wires ?? [])[1] ?? []).find((id) => byId(id)?.type === 'debug');
  assert.ok(events, `${synth.id}'s events output goes to a debug node`);
  // The button a user presses first: an inject that sends a payload (a text, a description, a recording).
  const inject = flow.find((n) => n.type === 'inject' && (n.props as { p: string }[]).some((p) => p.p === 'payload'));
  assert.ok(inject, 'the flow has a button that sends something');
  // What is said: the text a change node puts in front of the speech node, else the button's own text.
  const say = flow.find((n) => n.type === 'change' && (n.wires ?? []).flat().includes(synth.id));
  const direct = (inject.wires ?? []).flat().includes(synth.id) && inject.payloadType === 'str';
  const text = say ? (say.rules as { to: string }[])[0]?.to : direct ? (inject.payload as string) : undefined;
  return { inject, synth, events, text };
}

describe('the demo and the examples in the editor, as npm start runs them', function () {
  requireSystem('chromium');
  this.timeout(60_000);
  let sim: DashScopeSimulator;
  let red: NodeRedProcess;
  let browser: Browser;
  let sampleFolder = '';
  const wavExampleFolderExisted = existsSync(WAV_EXAMPLE_FOLDER);
  const pageErrors: string[] = [];

  before(async () => {
    sim = await DashScopeSimulator.start({ acceptAnyKey: true });
    // As npm start sets it up: its settings.js names this folder, into which it copies the sample.
    sampleFolder = prepareSampleFolder(mkdtempSync(join(tmpdir(), 'dashscope-voice-samples-')));
    const launching = launchBrowser().then((b) => (browser = b));
    launching.catch(() => undefined); // awaited below; a failure is reported there
    // The demo's environment: the key and the simulator's address, as scripts/start.mjs sets them.
    red = await NodeRedProcess.start(
      { ...process.env, DASHSCOPE_API_KEY: 'sk-offline-demo', DASHSCOPE_SIMULATOR_URL: sim.baseUrl },
      { settings: { ttsVoiceSampleFolder: sampleFolder } },
    );
    await red.deploy(demoFlow({ demo: true }));
    await launching;
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
    await sim?.close();
    if (sampleFolder) rmSync(sampleFolder, { recursive: true, force: true });
    if (!wavExampleFolderExisted) rmSync(WAV_EXAMPLE_FOLDER, { recursive: true, force: true });
  });

  /** Every text the simulator was sent, one string per connection. */
  function textsSent(): string[] {
    return sim.transcripts.map((t) =>
      t.entries
        .filter((e) => e.dir === 'C' && e.json !== undefined)
        .map((e) => {
          const m = e.json as { type?: string; text?: string; header?: { action?: string }; payload?: { input?: { text?: string } } };
          if (m.type === 'input_text_buffer.append') return m.text ?? '';
          if (m.header?.action === 'continue-task') return m.payload?.input?.text ?? '';
          return '';
        })
        .join(''),
    );
  }

  /** The [warn] and [error] lines Node-RED logs from `from` on, once the flows have started and settled. */
  async function logProblems(from: number): Promise<string[]> {
    await until('the flows to start', 10_000, () => red.output.slice(from).includes('Started flows'));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return red.output
      .slice(from)
      .split('\n')
      .filter((line) => /\[(warn|error)\]/.test(line));
  }

  for (const locale of ['en-US', 'zh-CN']) {
    describe(`in ${locale}`, () => {
      let page: Page;
      before(async () => {
        page = await openEditor(browser, red, locale, pageErrors);
      });
      afterEach(async function () {
        if (this.currentTest?.state !== 'failed' || !page) return;
        await page.screenshot({ path: join(ROOT, '.tmp', `browser-failure-${Date.now()}.png`) }).catch(() => undefined);
        // Back to the demo alone, so that a failed example does not fail the next ones.
        await page.keyboard.press('Escape').catch(() => undefined);
        await red.deploy(demoFlow({ demo: true }));
        await page.reload();
        await page.waitForSelector('.red-ui-palette-node[data-palette-type="cosyvoice-stream"]', { state: 'visible', timeout: 30_000 });
      });
      after(async () => {
        await page?.context().close();
      });

      /** The boxes of the tab's nodes, as the editor has laid them out for drawing (it draws in an animation frame). */
      async function boxes(tab: string): Promise<Box[]> {
        await js(page, `RED.workspaces.show(${JSON.stringify(tab)})`);
        await js(page, 'RED.view.redraw(true)');
        const read = (): Promise<Box[]> =>
          js<Box[]>(
            page,
            `RED.nodes.filterNodes({ z: ${JSON.stringify(tab)} }).map(n => ({
              id: n.id, type: n.type, label: RED.utils.getNodeLabel(n, n.type), x: n.x, y: n.y, w: n.w, h: n.h,
            }))`,
          );
        await until('the nodes drawn', 5000, async () => (await read()).every((b) => b.w > 0 && b.h > 0)).catch(() => undefined); // asserted below
        const drawn = await read();
        assert.ok(drawn.length > 2, 'the tab has nodes');
        for (const b of drawn) assert.ok(b.w > 0 && b.h > 0, `${b.type} ${b.id} is drawn`);
        return drawn;
      }

      /** Presses the inject node's button on the canvas, and returns the summary its speech node's events output reports. */
      async function pressAndHear(path: ReturnType<typeof speakingPath>): Promise<{ text: string }> {
        const debugBefore = red.debug.length;
        const button = page.locator(`[id="${path.inject.id}"] .red-ui-flow-node-button-button`);
        await until('the button enabled', 5000, async () => (await page.locator(`[id="${path.inject.id}"] .red-ui-flow-node-button-disabled`).count()) === 0);
        await button.click();
        const said = await until('the utterance done (events output)', 20_000, () => red.debug.slice(debugBefore).find((d) => d.id === path.events));
        const summary = JSON.parse(said.msg) as { text: string; bytes?: number };
        if (path.text !== undefined) assert.equal(summary.text, path.text, 'the text the flow says');
        assert.ok(summary.text.length > 0);
        assert.ok(
          textsSent().some((t) => t.includes(summary.text)),
          `the simulator got "${summary.text}"`,
        );
        return summary;
      }

      it('the demo tab: laid out without overlaps, and its one button speaks through the simulator', async () => {
        const drawn = await boxes(DEMO_TAB_ID);
        assert.deepEqual(overlaps(drawn), [], 'nodes drawn over each other');
        assert.deepEqual(await js<string[]>(page, `RED.nodes.filterNodes({}).filter(n => !n.valid).map(n => n.type + ' ' + n.id)`), []);
        const path = speakingPath(demoFlow({ demo: true }));
        assert.equal(path.inject.id, DEMO_IDS.hello);
        const debugBefore = red.debug.length;
        const summary = await pressAndHear(path);
        assert.equal(summary.text, HELLO_TEXT);
        // It played to the end on the speaker (the test's ALSA device), which reports it.
        await until('the speaker to report it finished', 20_000, () => red.debug.slice(debugBefore).find((d) => d.id === DEMO_IDS.finished));
        assert.equal(red.debug.filter((d) => d.id === DEMO_IDS.errors).length, 0, 'no error reached the catch node');
        assert.deepEqual(pageErrors, []);
      });

      for (const name of EXAMPLES) {
        it(`"${name}": imports with no conflict, deploys cleanly (log, validity, layout), and its button speaks`, async () => {
          const flow = example(name);
          const tab = flow.find((n) => n.type === 'tab');
          assert.ok(tab, `${name} brings its own flow tab`);

          // Import › Examples › this module › the example, as a user does.
          await js(page, `RED.actions.invoke('core:show-examples-import-dialog')`);
          await page.locator(LIBRARY_ITEM, { hasText: MODULE }).first().click();
          await page.locator(LIBRARY_ITEM, { hasText: name }).first().click();
          await page.locator('#red-ui-clipboard-dialog-ok').click();
          await until(`${name} imported`, 5000, () => js<boolean>(page, `!!RED.nodes.workspace(${JSON.stringify(tab.id)})`));
          // Nothing to resolve: the editor's own text of the conflict notification, in this language, is nowhere.
          const conflict = await js<string>(page, `RED._('clipboard.import.conflictNotification1')`);
          assert.ok(conflict && conflict !== 'clipboard.import.conflictNotification1', 'the conflict text is known');
          const notes = await page.locator('.red-ui-notification').allInnerTexts();
          assert.ok(!notes.some((t) => t.includes(conflict)), `conflict notification: ${notes.join(' | ')}`);
          assert.equal(await page.locator('#red-ui-clipboard-dialog-import-conflicts-list:visible').count(), 0);
          // Its nodes use the demo's service node: none was added or replaced.
          assert.deepEqual(await js<string[]>(page, `(function () { var all = []; RED.nodes.eachConfig(function (n) { if (n.type === 'tts-config') { all.push(n.id + ' ' + n.name); } }); return all; })()`), [`dashscope-tts-config ${demoFlow({ demo: true }).find((n) => n.type === 'tts-config')?.name as string}`]);

          const drawn = await boxes(tab.id);
          assert.deepEqual(overlaps(drawn), [], 'nodes drawn over each other');

          const from = red.output.length;
          await deploy(page);
          const invalid = await js<string[]>(page, `RED.nodes.filterNodes({}).filter(n => !n.valid).map(n => n.type + ' ' + n.id)`);
          assert.deepEqual(invalid, [], 'every node is valid');
          assert.deepEqual(await logProblems(from), [], 'warnings and errors in the log');

          await pressAndHear(speakingPath(flow));
          assert.deepEqual(pageErrors, []);

          // Gone again, so that the next example's deploy logs only its own start.
          await js(page, `RED.workspaces.delete(RED.nodes.workspace(${JSON.stringify(tab.id)}))`);
          await deploy(page);
        });
      }
    });
  }

  describe('the checks themselves', () => {
    let page: Page;
    before(async () => {
      page = await openEditor(browser, red, 'en-US', pageErrors);
    });
    after(async () => {
      await page?.context().close();
    });

    it('the log check sees a warning logged at deploy', async () => {
      const tab = 'log-check-tab';
      await js(page, `RED.view.importNodes([
        { id: '${tab}', type: 'tab', label: 'log check' },
        { id: 'log-check-fn', type: 'function', z: '${tab}', name: 'warns', func: 'return msg;', initialize: "node.warn('a warning at deploy');", outputs: 1, x: 200, y: 100, wires: [[]] },
      ], { generateIds: false })`);
      const from = red.output.length;
      await deploy(page);
      const problems = await logProblems(from);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] as string, /\[warn\].*a warning at deploy/);
      await js(page, `RED.workspaces.delete(RED.nodes.workspace('${tab}'))`);
      await deploy(page);
    });

    it('the conflict check sees the notification a flow with an existing node raises', async () => {
      const conflict = await js<string>(page, `RED._('clipboard.import.conflictNotification1')`);
      // The demo's own service node, imported again through Import (what every example did before it left its own out).
      await js(page, `RED.actions.invoke('core:show-import-dialog')`);
      await page.locator('#red-ui-clipboard-dialog-import-text').fill(JSON.stringify([{ ...demoFlow({ demo: true }).find((n) => n.type === 'tts-config'), name: 'another' }]));
      // The dialog checks the text as it is typed.
      await page.locator('#red-ui-clipboard-dialog-import-text').press('End');
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      await until('the conflict notification', 5000, async () => (await page.locator('.red-ui-notification').allInnerTexts()).some((t) => t.includes(conflict)));
      // Cancel: the import is dropped.
      await page.locator('.red-ui-notification button').first().click();
    });

    it('the overlap check finds nodes drawn over each other', () => {
      const node = { type: 'inject', w: 120, h: 30 };
      assert.deepEqual(overlaps([{ ...node, id: 'a', label: 'a', x: 100, y: 100 }, { ...node, id: 'b', label: 'b', x: 150, y: 110 }]), ['inject "a" and inject "b"']);
      assert.deepEqual(overlaps([{ ...node, id: 'a', label: 'a', x: 100, y: 100 }, { ...node, id: 'b', label: 'b', x: 100, y: 140 }]), []);
    });

    it('the speaking check reads what a flow says: the button\'s text, or the text a change node sets', () => {
      assert.equal(speakingPath(demoFlow({ demo: true })).text, HELLO_TEXT);
      const clone = EXAMPLES.find((n) => n.startsWith('voice clone '));
      assert.ok(clone);
      const path = speakingPath(example(clone));
      assert.match(path.text ?? '', /cloned voice/);
      assert.equal(path.inject.payload, 'voice-clone-sample.wav');
    });
  });
});
