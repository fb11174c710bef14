import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { phraseKey } from '../../src/speech/cache/cache-key';
import { decodeEntry, encodeEntry } from '../../src/speech/cache/entry-codec';
import { PhraseStore } from '../../src/speech/cache/phrase-store';
import type { CosyVoiceTaskParams } from '../../src/dashscope/cosyvoice';

const META = (n: number[]) => ({ chunks: n, summary: 'sealed' });
const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('phrase cache store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phrase-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives back exactly the chunks it stored, and survives a restart', async () => {
    const store = new PhraseStore({ dir, maxBytes: 1e6 });
    await store.put('a', META([3, 5]), [bytes(3, 1), bytes(5, 2)]);
    const again = new PhraseStore({ dir, maxBytes: 1e6 });
    assert.equal(await again.ready().then(() => again.has('a')), true);
    const entry = await again.get('a');
    assert.deepEqual(entry?.meta.chunks, [3, 5]);
    assert.ok(entry?.audio.equals(Buffer.concat([bytes(3, 1), bytes(5, 2)])));
    assert.equal(await again.get('missing'), undefined);
  });

  it('evicts the least recently used entry when the size bound is passed, also across a restart', async () => {
    const size = encodeEntry(META([1000]), [bytes(1000, 0)]).length;
    const store = new PhraseStore({ dir, maxBytes: size * 3 });
    await store.put('a', META([1000]), [bytes(1000, 1)]);
    await store.put('b', META([1000]), [bytes(1000, 2)]);
    await store.put('c', META([1000]), [bytes(1000, 3)]);
    assert.ok(await store.get('a'), 'a is now the most recently used');
    await store.put('d', META([1000]), [bytes(1000, 4)]);
    assert.equal(store.has('b'), false, 'b was least recently used');
    assert.deepEqual(['a', 'c', 'd'].map((k) => store.has(k)), [true, true, true]);
    assert.deepEqual(readdirSync(dir).sort(), ['a.dspc', 'c.dspc', 'd.dspc']);
    assert.ok(store.bytes <= size * 3);

    // The order lives in the files' mtimes: after a restart "c" is the oldest.
    const t = Date.now() / 1000;
    utimesSync(join(dir, 'c.dspc'), t - 300, t - 300);
    utimesSync(join(dir, 'a.dspc'), t - 200, t - 200);
    utimesSync(join(dir, 'd.dspc'), t - 100, t - 100);
    const restarted = new PhraseStore({ dir, maxBytes: size * 3 });
    await restarted.put('e', META([1000]), [bytes(1000, 5)]);
    assert.equal(restarted.has('c'), false);
    assert.equal(restarted.has('a'), true);
  });

  it('a smaller bound after a restart evicts at once', async () => {
    const size = encodeEntry(META([100]), [bytes(100, 0)]).length;
    const store = new PhraseStore({ dir, maxBytes: 1e6 });
    for (const k of ['a', 'b', 'c']) await store.put(k, META([100]), [bytes(100, 1)]);
    const smaller = new PhraseStore({ dir, maxBytes: size });
    await smaller.ready();
    assert.equal(smaller.size, 1);
    assert.equal(readdirSync(dir).length, 1);
  });

  it('discards a truncated entry instead of playing it, and deletes the file', async () => {
    const warnings: string[] = [];
    const store = new PhraseStore({ dir, maxBytes: 1e6, onWarning: (m) => warnings.push(m) });
    await store.put('a', META([4000]), [bytes(4000, 7)]);
    const file = join(dir, 'a.dspc');
    truncateSync(file, readFileSync(file).length - 100);
    assert.equal(await store.get('a'), undefined);
    assert.equal(store.has('a'), false);
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(warnings.length, 1);
  });

  it('rejects a flipped bit (checksum) and a mangled header', () => {
    const good = encodeEntry(META([10]), [bytes(10, 9)]);
    assert.ok(decodeEntry(good).audio.equals(bytes(10, 9)));
    const flipped = Buffer.from(good);
    flipped[good.length - 40] ^= 1;
    assert.throws(() => decodeEntry(flipped), /checksum/);
    const header = Buffer.from(good);
    header[0] = 0;
    assert.throws(() => decodeEntry(header), /header/);
  });

  it('removes leftover temp files of writes that never finished', async () => {
    writeFileSync(join(dir, 'a.dspc.1234abcd.tmp'), 'half an entry');
    const store = new PhraseStore({ dir, maxBytes: 1e6 });
    await store.ready();
    assert.equal(store.size, 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('never keeps an entry larger than the whole cache', async () => {
    const store = new PhraseStore({ dir, maxBytes: 500 });
    await store.put('big', META([1000]), [bytes(1000, 1)]);
    assert.equal(store.has('big'), false);
  });
});

describe('phrase cache key', () => {
  const base: CosyVoiceTaskParams = { model: 'cosyvoice-v3-flash', voice: 'longanyang', format: 'pcm', sampleRate: 24000, volume: 50, rate: 1, pitch: 1 };
  const key = (p: CosyVoiceTaskParams, text = 'The front door is open.', service = 'cosyvoice', endpoint = 'http://a') => phraseKey(service, endpoint, p, text);

  it('is the same for the same settings in any key order, and ignores undefined fields', () => {
    const reordered = { pitch: 1, rate: 1, volume: 50, sampleRate: 24000, format: 'pcm', voice: 'longanyang', model: 'cosyvoice-v3-flash', seed: undefined } as CosyVoiceTaskParams;
    assert.equal(key(reordered), key(base));
  });

  it('changes with every parameter, the text, the service and the endpoint', () => {
    const variants: CosyVoiceTaskParams[] = [
      { ...base, model: 'cosyvoice-v3-plus' },
      { ...base, voice: 'longxiaochun_v3' },
      { ...base, format: 'wav' },
      { ...base, sampleRate: 16000 },
      { ...base, volume: 51 },
      { ...base, rate: 1.1 },
      { ...base, pitch: 0.9 },
      { ...base, seed: 1 },
      { ...base, languageHints: ['en'] },
      { ...base, instruction: 'calm' },
      { ...base, wordTimestamps: true },
    ];
    const keys = new Set([key(base), ...variants.map((v) => key(v)), key(base, 'The front door is open!'), key(base, undefined, 'qwen'), key(base, undefined, undefined, 'http://b')]);
    assert.equal(keys.size, variants.length + 4);
  });
});
