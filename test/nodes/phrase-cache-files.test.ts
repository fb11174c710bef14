import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Node } from 'node-red';
import { DashScopeSimulator } from '../simulator';
import { waitFor } from '../support/collect';
import { builtNode, collect, freshServerEachTest, helper, nextMessages, type TestFlows } from '../support/node-red';

const KEY = 'sk-test-key';
const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), builtNode('qwen-realtime')];
const SECRET_TEXT = 'Your one-time code is 482913.';

interface OutMsg {
  payload: Buffer;
  parts?: { count?: number };
}
interface Summary {
  text: string;
  cached?: boolean;
  bytes: number;
  sentences?: { text?: string; words: { text: string }[] }[];
}
type Receiver = Node & { receive(msg: Record<string, unknown>): void };

const SPEECH: Record<'cosyvoice' | 'qwen', { type: string } & Record<string, unknown>> = {
  // Word timestamps put every word of the text in the summary too: they must not be stored in clear either.
  cosyvoice: { type: 'cosyvoice-stream', model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, wordTimestamps: true },
  qwen: { type: 'qwen-realtime', model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'commit', format: 'pcm', sampleRate: 24000 },
};

/** What the brief specifies, computed here independently of the package's code. */
const hashedName = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 32);
const mode = (path: string): number => statSync(path).mode & 0o777;

describe('phrase cache folders and files', () => {
  let sim: DashScopeSimulator;
  let userDir: string;
  let outside: string | undefined;

  const parent = (): string => join(userDir, 'dashscope-tts-cache');
  const entriesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.dspc')) : []);

  async function deploy(service: 'cosyvoice' | 'qwen', cfgId = 'cfg'): Promise<void> {
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: cfgId, type: 'tts-config', region: 'custom', endpoint: sim.baseUrl, keepWarm: false },
      { id: 'tts', z: 'tab', config: cfgId, input: 'utterance', cache: true, wires: [['chunks'], ['events']], ...SPEECH[service] },
      { id: 'chunks', type: 'helper', z: 'tab' },
      { id: 'events', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { [cfgId]: { apiKey: KEY } });
  }

  async function say(text: string): Promise<Summary> {
    const chunks = collect<OutMsg>(helper.getNode('chunks'));
    const events = nextMessages<{ payload: Summary }>(helper.getNode('events'), 1);
    (helper.getNode('tts') as Receiver).receive({ payload: text });
    const [event] = await events;
    await waitFor(() => chunks.some((c) => c.parts?.count !== undefined), 2000, 'end marker');
    return (event as { payload: Summary }).payload;
  }

  freshServerEachTest({
    ownSettings: true,
    before: () => {
      userDir = mkdtempSync(join(tmpdir(), 'dashscope-cache-files-'));
      outside = undefined;
      helper.settings({ userDir });
    },
    after: async () => {
      await sim?.close();
      await new Promise((resolve) => setTimeout(resolve, 50)); // a phrase may still be being written
      rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      if (outside) rmSync(outside, { recursive: true, force: true });
    },
  });

  it('a config id that climbs out of the user directory writes nothing outside it; the cache works under the hashed name', async () => {
    sim = await DashScopeSimulator.start();
    outside = mkdtempSync(join(tmpdir(), 'dashscope-cache-outside-'));
    const target = join(outside, 'x');
    mkdirSync(target);
    // An earlier version deleted *.tmp files in the folder it was pointed at.
    writeFileSync(join(target, 'someone-elses.tmp'), 'not ours');
    // '../../../../tmp/<unique>/x' as seen from the cache parent, whatever the temp folder is.
    const id = relative(parent(), target);
    assert.match(id, /^(\.\.[/\\])+/, `the id climbs: ${id}`);
    await deploy('cosyvoice', id);

    const live = await say(SECRET_TEXT);
    assert.equal(live.cached, undefined);
    const own = join(parent(), hashedName(id));
    await waitFor(() => entriesIn(own).length === 1, 2000, 'the entry under the hashed name');
    assert.deepEqual(readdirSync(parent()), [hashedName(id)], 'one folder, named by the hash');
    await helper.unload();
    await deploy('cosyvoice', id); // read back from disk
    const hit = await say(SECRET_TEXT);
    assert.equal(hit.cached, true, 'the cache still works');
    assert.equal(sim.stats.tasks.finished, 1);

    assert.deepEqual(readdirSync(outside), ['x'], 'nothing written next to the target');
    assert.deepEqual(readdirSync(target), ['someone-elses.tmp'], 'nothing written into it, nothing deleted from it');
  });

  it('a cache folder that is a link out of the user directory is not used: one warning, nothing written there, the speech goes on', async () => {
    sim = await DashScopeSimulator.start();
    outside = mkdtempSync(join(tmpdir(), 'dashscope-cache-outside-'));
    symlinkSync(outside, parent());
    await deploy('cosyvoice');
    const warnings = (helper.getNode('tts') as unknown as { warn: { getCalls(): { args: unknown[] }[] } }).warn.getCalls().map((c) => String(c.args[0]));
    assert.deepEqual(
      warnings.filter((w) => /phrase cache/.test(w)),
      ['phrase cache unavailable: its folder would not be inside the Node-RED user directory (is dashscope-tts-cache a link elsewhere?)'],
    );
    const live = await say(SECRET_TEXT);
    assert.equal(live.text, SECRET_TEXT);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(readdirSync(outside), [], 'nothing written through the link');
  });

  it('folders are 0700 and files 0600, also when the folders existed with wider modes', async () => {
    sim = await DashScopeSimulator.start();
    await deploy('cosyvoice');
    await say(SECRET_TEXT);
    const own = join(parent(), hashedName('cfg'));
    await waitFor(() => entriesIn(own).length === 1, 2000, 'the entry on disk');
    assert.equal(mode(parent()).toString(8), '700', 'the cache parent, created now');
    assert.equal(mode(own).toString(8), '700', "the config's folder");
    for (const name of readdirSync(own)) assert.equal(mode(join(own, name)).toString(8), '600', name);

    // Folders left by an earlier version (the default mode, often 0755) are narrowed at the next start.
    await helper.unload();
    chmodSync(parent(), 0o755);
    chmodSync(own, 0o755);
    await deploy('cosyvoice');
    await say('Another phrase.');
    await waitFor(() => entriesIn(own).length === 2, 2000, 'the second entry');
    assert.equal(mode(parent()).toString(8), '700');
    assert.equal(mode(own).toString(8), '700');
    for (const name of readdirSync(own)) assert.equal(mode(join(own, name)).toString(8), '600', name);
  });

  for (const service of ['cosyvoice', 'qwen'] as const) {
    it(`${service}: the cached file does not hold the text, and a hit still says it exactly`, async () => {
      sim = await DashScopeSimulator.start();
      await deploy(service);
      const live = await say(SECRET_TEXT);
      if (service === 'cosyvoice') {
        const words = live.sentences?.flatMap((s) => s.words.map((w) => w.text)) ?? [];
        assert.ok(words.includes('482913'), `the live summary carries the words: ${words.join(' ')}`);
      }
      const own = join(parent(), hashedName('cfg'));
      await waitFor(() => entriesIn(own).length === 1, 2000, 'the entry on disk');
      const raw = readFileSync(join(own, entriesIn(own)[0] as string));
      for (const needle of [SECRET_TEXT, '482913', 'one-time']) {
        assert.equal(raw.includes(Buffer.from(needle, 'utf8')), false, `"${needle}" is in the file`);
      }

      // From disk after a restart: the summary comes back whole, text and word timestamps included.
      await helper.unload();
      await deploy(service);
      const hit = await say(SECRET_TEXT);
      assert.equal(hit.cached, true);
      assert.equal(hit.text, SECRET_TEXT);
      assert.equal(hit.bytes, live.bytes);
      assert.deepEqual(hit.sentences, live.sentences);
      assert.equal(service === 'qwen' ? sim.stats.responses.created : sim.stats.tasks.finished, 1, 'the service spoke once');
    });
  }

  it("an earlier version's folders named by raw ids are removed with their entries, a deleted config's too", async () => {
    sim = await DashScopeSimulator.start();
    const legacy = join(parent(), 'cfg');
    const deleted = join(parent(), 'a-config-deleted-since');
    for (const dir of [legacy, deleted]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${'a'.repeat(64)}.dspc`), `DSPC ... ${SECRET_TEXT}`);
      writeFileSync(join(dir, `${'b'.repeat(64)}.dspc.0123abcd.tmp`), 'half written');
    }
    await deploy('cosyvoice');
    await waitFor(() => !existsSync(legacy) && !existsSync(deleted), 2000, 'the legacy folders removed');
    assert.deepEqual(readdirSync(parent()), [], 'nothing else created: the cache itself is made on first use');
    await say(SECRET_TEXT);
    await waitFor(() => entriesIn(join(parent(), hashedName('cfg'))).length === 1, 2000, 'the new entry');
  });
});
