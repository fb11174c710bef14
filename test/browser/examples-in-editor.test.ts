/**
 * Each example, imported in the real editor (Debian's headless Chromium) the way a user of the
 * offline demo imports it: Node-RED runs as `npm start` runs it without a key (scripts/start.mjs),
 * its service node pointing at the DashScope simulator. The examples name their service node by
 * the demo's id, so the import finds it already there and keeps it (Node-RED's conflict dialog
 * leaves an existing config node out by default), bringing the example's own nodes.
 *
 * Each example must then deploy with every node valid and no [warn] or [error] in Node-RED's log,
 * and no two of its nodes may be drawn over each other (the boxes the editor computes and draws).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, until, type NodeRedProcess } from '../e2e/node-red-process';
import { requireSystem } from '../support/system-deps';
import { deploy, editorSession, js } from './editor-session';

const MODULE = 'node-red-contrib-dashscope-tts';
const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
const LIBRARY_ITEM = '.red-ui-clipboard-dialog-tab-library .red-ui-treeList-label';
/** The demo's service node, as scripts/start.mjs writes it when DASHSCOPE_API_KEY is not set. */
const DEMO_FLOW = [
  { id: 'd5c0ffee00000001', type: 'tab', label: 'DashScope TTS', disabled: false, info: '', env: [] },
  { id: 'dashscope-tts-config', type: 'tts-config', name: 'DashScope simulator (offline demo)', region: 'custom', endpoint: '${DASHSCOPE_SIMULATOR_URL}', workspace: '', keepWarm: false },
];
/** Warnings come at deploy or from what the nodes start then (connections, devices): this long after "Started flows". */
const SETTLE_MS = 1000;

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

describe('the examples in the editor', function () {
  requireSystem('chromium');
  this.timeout(60_000);
  // The demo's environment: the key and the simulator's address, as scripts/start.mjs sets them.
  const session = editorSession((sim) => ({ env: { ...process.env, DASHSCOPE_API_KEY: 'sk-offline-demo', DASHSCOPE_SIMULATOR_URL: sim.baseUrl }, flows: DEMO_FLOW }));
  let red: NodeRedProcess;
  let page: Page;
  const pageErrors = session.pageErrors;
  before(() => ({ red, page } = session));

  /** Import > Examples > this module > the file, keeping the service node that is already there. */
  async function importExample(name: string): Promise<string> {
    await js(page, `RED.actions.invoke('core:show-examples-import-dialog')`);
    await page.locator(LIBRARY_ITEM, { hasText: MODULE }).first().click();
    await page.locator(LIBRARY_ITEM, { hasText: name }).first().click();
    await page.locator('#red-ui-clipboard-dialog-ok').click();
    await page.locator('.red-ui-notification button', { hasText: 'View nodes' }).click();
    // Its import checkbox (the other one, beside it, would replace the existing node instead).
    const existing = page.locator('#red-ui-clipboard-dialog-import-conflicts-list input[type="checkbox"][data-node-id="dashscope-tts-config"]:not(.red-ui-clipboard-dialog-import-conflicts-controls input)');
    assert.equal(await existing.isChecked(), false, 'the service node that is already there is left out');
    await page.locator('#red-ui-clipboard-dialog-import-conflict').click();
    const flow = JSON.parse(readFileSync(join(ROOT, 'examples', `${name}.json`), 'utf8')) as { id: string; type: string; label?: string }[];
    const tab = flow.find((n) => n.type === 'tab');
    assert.ok(tab, `${name} brings its own flow tab`);
    await until(`${name} imported`, 5000, () => js<boolean>(page, `!!RED.nodes.workspace(${JSON.stringify(tab.id)})`));
    // Shown, so that the editor lays its nodes out.
    await js(page, `RED.workspaces.show(${JSON.stringify(tab.id)})`);
    return tab.id;
  }

  /** The boxes of the tab's nodes, as the editor has laid them out for drawing (it draws in an animation frame). */
  async function boxes(tab: string): Promise<Box[]> {
    await js(page, 'RED.view.redraw(true)');
    const read = (): Promise<Box[]> =>
      js<Box[]>(
        page,
        `RED.nodes.filterNodes({ z: ${JSON.stringify(tab)} }).map(n => ({
          id: n.id, type: n.type, label: RED.utils.getNodeLabel(n, n.type), x: n.x, y: n.y, w: n.w, h: n.h,
        }))`,
      );
    await until('the nodes drawn', 5000, async () => (await read()).every((b) => b.w > 0 && b.h > 0)).catch(() => undefined); // asserted below
    return read();
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

  for (const name of EXAMPLES) {
    it(`"${name}": deploys with nothing in the log, every node valid, no node drawn over another`, async () => {
      const tab = await importExample(name);
      const drawn = await boxes(tab);
      assert.ok(drawn.length > 2, 'the example has nodes');
      for (const b of drawn) assert.ok(b.w > 0 && b.h > 0, `${b.type} ${b.id} is drawn`);
      assert.deepEqual(overlaps(drawn), [], 'nodes drawn over each other');

      const from = red.output.length;
      await deploy(page);
      const invalid = await js<string[]>(page, `RED.nodes.filterNodes({}).filter(n => !n.valid).map(n => n.type + ' ' + n.id)`);
      assert.deepEqual(invalid, [], 'every node is valid');
      assert.deepEqual(await logProblems(from), [], 'warnings and errors in the log');
      assert.deepEqual(pageErrors, []);

      // Gone again, so that the next example's deploy logs only its own start.
      await js(page, `RED.workspaces.delete(RED.nodes.workspace(${JSON.stringify(tab)}))`);
      await deploy(page);
    });
  }

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

  it('the overlap check finds nodes drawn over each other', () => {
    const node = { type: 'inject', w: 120, h: 30 };
    assert.deepEqual(overlaps([{ ...node, id: 'a', label: 'a', x: 100, y: 100 }, { ...node, id: 'b', label: 'b', x: 150, y: 110 }]), ['inject "a" and inject "b"']);
    assert.deepEqual(overlaps([{ ...node, id: 'a', label: 'a', x: 100, y: 100 }, { ...node, id: 'b', label: 'b', x: 100, y: 140 }]), []);
  });
});
