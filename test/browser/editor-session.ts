/**
 * Driving the Node-RED editor in Debian's headless Chromium (playwright-core) against a real
 * Node-RED (test/e2e/node-red-process.ts) and the DashScope simulator: the session a describe
 * block runs in, a page with the editor loaded, running code in it, deploying. Shared by the
 * browser tests.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { NodeRedProcess, ROOT, until } from '../e2e/node-red-process';
import { DashScopeSimulator } from '../simulator';
import { chromiumPath } from '../support/system-deps';

/** What a describe block's editor tests run against; set once the block's first `before` hook has run. */
export class EditorSession {
  sim!: DashScopeSimulator;
  red!: NodeRedProcess;
  browser!: Browser;
  /** The editor, in en-US. */
  page!: Page;
  /** Errors thrown in any page of the session. */
  readonly pageErrors: string[] = [];
}

/**
 * Mocha hooks for the calling describe block: the simulator, Node-RED with `setup`'s environment
 * and flows deployed, Chromium, and the editor open; all closed after the block. A failed test
 * leaves a screenshot of the page in .tmp/ for whoever has to find out why.
 */
export function editorSession(setup: (sim: DashScopeSimulator) => { env: NodeJS.ProcessEnv; flows: Record<string, unknown>[] }): EditorSession {
  const session = new EditorSession();
  before(async () => {
    session.sim = await DashScopeSimulator.start({ acceptAnyKey: true });
    const { env, flows } = setup(session.sim);
    // Node-RED and the browser start side by side: neither needs the other until the page opens.
    const launching = launchBrowser().then((b) => (session.browser = b)); // kept at once, so that after() closes it even when Node-RED failed to start
    launching.catch(() => undefined); // awaited below; a failure is reported there
    session.red = await NodeRedProcess.start(env);
    await session.red.deploy(flows);
    await launching;
    session.page = await openEditor(session.browser, session.red, 'en-US', session.pageErrors);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session.page) await session.page.screenshot({ path: join(ROOT, '.tmp', `browser-failure-${Date.now()}.png`) }).catch(() => undefined);
  });
  after(async () => {
    await session.browser?.close();
    await session.red?.stop();
    await session.sim?.close();
  });
  return session;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
}

/** Runs `code` in the page. The editor's globals (RED, $) are not typed here, hence source text. */
export function js<T>(page: Page, code: string): Promise<T> {
  return page.evaluate(code) as Promise<T>;
}

/** A new page with the editor loaded in `locale`; errors thrown in the page are added to `pageErrors`. */
export async function openEditor(browser: Browser, red: NodeRedProcess, locale: string, pageErrors: string[]): Promise<Page> {
  const context = await browser.newContext({ locale, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${locale}: ${err.message}`));
  await page.goto(`http://127.0.0.1:${red.port}/`);
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="cosyvoice-stream"]', { state: 'visible', timeout: 30_000 });
  return page;
}

/** Presses Deploy and waits for the runtime to take the new flows (a new revision, nothing left to deploy). */
export async function deploy(page: Page): Promise<void> {
  const before = await js<string>(page, 'RED.nodes.version()');
  await page.locator('#red-ui-header-button-deploy').click();
  await until('the deploy', 10_000, async () => {
    // A confirmation (invalid or unused nodes) would mean the flow did not deploy cleanly.
    if (await page.locator('#red-ui-header-button-deploy-confirm, .red-ui-deploy-dialog-confirm-list').count()) throw new Error('Deploy asked for confirmation');
    return (await js<string>(page, 'RED.nodes.version()')) !== before && (await page.locator('#red-ui-header-button-deploy.disabled').count()) > 0;
  });
  assert.equal(await page.locator('.red-ui-notification-error').count(), 0, 'no error notification');
}
