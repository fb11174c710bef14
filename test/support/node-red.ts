import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import helper from 'node-red-node-test-helper';
import type { DashScopeSimulator } from '../simulator';
import { waitFor } from './collect';
import type { trackSourceTimers } from './handles';

helper.init(require.resolve('node-red'));

export { helper };

/** A flow as the helper takes it: node definitions with any properties. */
export type TestFlows = ({ id: string; type: string } & Record<string, unknown>)[];

export type NodeInitializer = (RED: NodeAPI) => void;

const BUILT = join(__dirname, '..', '..', 'nodes');

/**
 * The built node file, exactly what Node-RED loads for users (npm test builds first). The test
 * helper's RED._ gives back the key it is asked for; Node-RED's looks it up in the node's message
 * catalog (nodes/locales/<lang>/<type>.json, `__name__` placeholders): the node is given one that
 * does that (in en-US, or `lang` with builtNodeIn), so tests see the texts users see. (test/e2e and the pack test run a real
 * Node-RED and see its own.)
 */
export function builtNode(type: string): NodeInitializer {
  return builtNodeIn(type, 'en-US');
}

export function builtNodeIn(type: string, lang: string): NodeInitializer {
  const file = join(BUILT, `${type}.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const init = require(file) as NodeInitializer;
  const translate = catalogTranslator(join(BUILT, 'locales', lang, `${type}.json`));
  return (RED: NodeAPI) => {
    const withCatalog = Object.create(RED) as NodeAPI;
    withCatalog._ = translate as NodeAPI['_'];
    return init(withCatalog);
  };
}

function catalogTranslator(file: string): (key: string, params?: Record<string, unknown>) => string {
  const catalog = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return (key, params) => {
    const found = key.split('.').reduce<unknown>((at, part) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined), catalog);
    // Node-RED would show the bare key: in a test that is a text missing from the catalog.
    if (typeof found !== 'string') throw new Error(`no text "${key}" in ${file}`);
    return found.replace(/__(\w+)__/g, (whole, name: string) => (params && name in params ? String(params[name]) : whole));
  };
}

/** Core nodes the tests wire in, exactly as Node-RED ships them. */
export function coreNode(relative: string): NodeInitializer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve(`@node-red/nodes/core/${relative}`)) as NodeInitializer;
}

/** Resolves with the next `count` messages a helper node receives. */
export function nextMessages<T>(node: Node, count: number): Promise<T[]> {
  const got: T[] = [];
  return new Promise((resolve) => {
    node.on('input', (msg: NodeMessageInFlow) => {
      got.push(msg as unknown as T);
      if (got.length === count) resolve(got);
    });
  });
}

/** Every message a helper node receives from now on. */
export function collect<T>(node: Node): T[] {
  const got: T[] = [];
  node.on('input', (msg: NodeMessageInFlow) => got.push(msg as unknown as T));
  return got;
}

/** The flows as the runtime holds them (node definitions; credentials are kept apart). */
export function deployedFlows(): unknown[] {
  const internals = helper as unknown as { _redNodes: { getFlows(): { flows: unknown[] } } };
  return internals._redNodes.getFlows().flows;
}

/** What a suite's tests each start in the helper's Node-RED and must end: a rig of nodes and a simulator. */
export interface TestRig {
  /** Ends it and proves nothing was left open (only called when the test passed). */
  finish(): Promise<void>;
  /** Ends it whatever state it is in (after a failure). */
  abandon(): Promise<void>;
}

/**
 * The hooks of a suite whose tests each run one rig: a fresh helper server per test, and after
 * it the rig `take()` hands over (the suite's current one, which it forgets) finished when the
 * test passed or abandoned when it did not, then the helper's settings reset.
 */
export function runsRigs(take: () => TestRig | undefined): void {
  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async function () {
    const rig = take();
    if (rig) {
      if (this.currentTest?.state === 'passed') await rig.finish();
      else await rig.abandon();
    }
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  });
}

/**
 * The hooks of a suite whose tests each load their own flow: `before` (settings, a directory),
 * then a fresh helper server per test; after it the flow unloaded, the server stopped, then
 * `after` (a simulator to close, a directory to remove). With `ownSettings` each test starts from
 * empty settings and its own are dropped after it; without, settings are left alone (a suite may
 * set them once for all its tests).
 */
export function freshServerEachTest(hooks: { ownSettings?: boolean; before?: () => void; after?: () => Promise<unknown> | void } = {}): void {
  beforeEach((done) => {
    if (hooks.ownSettings) helper.settings({});
    hooks.before?.();
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    if (hooks.ownSettings) helper.settings({});
    await hooks.after?.();
  });
}

type SourceTimers = ReturnType<typeof trackSourceTimers>;

/** Undeploys the flow and proves nothing is left: no open socket on the service, no timer from src/. */
export async function endCleanly(sim: DashScopeSimulator, timers: SourceTimers): Promise<void> {
  await helper.unload();
  try {
    await waitFor(() => sim.stats.openSockets === 0, 3000, 'every socket closed');
    await waitFor(() => timers.live().length === 0, 3000, `no timers left (${timers.live().join(' | ')})`);
  } finally {
    timers.stop();
    await sim.close();
  }
}

/** Undeploys and stops the simulator whatever state they are in (after a failure). */
export async function endAnyway(sim: DashScopeSimulator | undefined, timers: SourceTimers): Promise<void> {
  timers.stop();
  await helper.unload().catch(() => undefined);
  await sim?.close();
}
