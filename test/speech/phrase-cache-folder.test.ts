import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { cacheFolder, cacheFolderName, removeLegacyFolder } from '../../src/speech/cache/cache-folder';
import { openSummary, sealSummary } from '../../src/speech/cache/sealed-summary';

describe('phrase cache folder', () => {
  let userDir: string;
  let elsewhere: string;
  const parent = (): string => join(userDir, 'dashscope-tts-cache');
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'phrase-cache-folder-'));
    elsewhere = mkdtempSync(join(tmpdir(), 'phrase-cache-elsewhere-'));
  });
  afterEach(() => {
    rmSync(userDir, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('is named by a hash of the id, inside the user directory, whatever the id says', () => {
    for (const id of ['cfg', '../../../../srv/x', '/etc', '..', 'a/../../b', 'C:\\Windows', '']) {
      const folder = cacheFolder(userDir, id);
      assert.ok(folder, id);
      assert.equal(folder.parent, parent());
      assert.equal(relative(parent(), folder.dir), cacheFolderName(id));
      assert.match(cacheFolderName(id), /^[0-9a-f]{32}$/);
      assert.ok(!folder.dir.includes(`${sep}..`), id);
    }
    assert.notEqual(cacheFolderName('a'), cacheFolderName('b'));
  });

  it("removes an earlier version's folder: its entries and temp files, then the folder", async () => {
    const legacy = join(parent(), 'cfg');
    mkdirSync(legacy, { recursive: true });
    writeFileSync(join(legacy, 'k1.dspc'), 'text in clear');
    writeFileSync(join(legacy, 'k2.dspc.abcd.tmp'), 'half');
    assert.equal(await removeLegacyFolder(userDir, 'cfg'), true);
    assert.equal(existsSync(legacy), false);
    assert.ok(existsSync(parent()), 'the parent stays');
  });

  it('leaves anything that is not an entry, and the folder holding it', async () => {
    const legacy = join(parent(), 'cfg');
    mkdirSync(legacy, { recursive: true });
    writeFileSync(join(legacy, 'k1.dspc'), 'text in clear');
    writeFileSync(join(legacy, 'notes.txt'), 'mine');
    mkdirSync(join(legacy, 'sub.dspc'));
    assert.equal(await removeLegacyFolder(userDir, 'cfg'), false);
    assert.deepEqual(readdirSync(legacy).sort(), ['notes.txt', 'sub.dspc']);
  });

  it('never follows a symbolic link: neither a folder link nor a link named like an entry', async () => {
    writeFileSync(join(elsewhere, 'k.dspc'), 'someone else');
    writeFileSync(join(elsewhere, 'k.tmp'), 'someone else');
    mkdirSync(parent(), { recursive: true });
    symlinkSync(elsewhere, join(parent(), 'linked'), 'dir');
    assert.equal(await removeLegacyFolder(userDir, 'linked'), false);
    assert.deepEqual(readdirSync(elsewhere).sort(), ['k.dspc', 'k.tmp'], 'nothing removed behind the link');

    const legacy = join(parent(), 'cfg');
    mkdirSync(legacy);
    symlinkSync(join(elsewhere, 'k.dspc'), join(legacy, 'link.dspc'));
    assert.equal(await removeLegacyFolder(userDir, 'cfg'), false, 'the folder is not empty: the link stays');
    assert.deepEqual(readdirSync(legacy), ['link.dspc']);
    assert.deepEqual(readdirSync(elsewhere).sort(), ['k.dspc', 'k.tmp']);
  });

  it('does nothing for an id that is not a plain name, or has the shape of a hashed folder', async () => {
    mkdirSync(join(elsewhere, 'x'));
    writeFileSync(join(elsewhere, 'x', 'k.dspc'), 'someone else');
    mkdirSync(parent(), { recursive: true });
    const hashed = join(parent(), cacheFolderName('other'));
    mkdirSync(hashed);
    writeFileSync(join(hashed, 'k.dspc'), 'the other config node');
    for (const id of [relative(parent(), join(elsewhere, 'x')), '..', '.', '', 'a b', cacheFolderName('other')]) {
      assert.equal(await removeLegacyFolder(userDir, id), false, JSON.stringify(id));
    }
    assert.deepEqual(readdirSync(join(elsewhere, 'x')), ['k.dspc']);
    assert.deepEqual(readdirSync(hashed), ['k.dspc']);
  });
});

describe('sealed phrase summary', () => {
  const summary = { model: 'm', sentences: [{ text: 'Your code is 482913.', words: [{ text: '482913' }] }] };

  it('opens with the same key and text, and holds none of the text', () => {
    const sealed = sealSummary(summary, 'k', 'Your code is 482913.');
    assert.deepEqual(openSummary(sealed, 'k', 'Your code is 482913.'), summary);
    assert.ok(!Buffer.from(sealed).includes('482913') && !Buffer.from(sealed, 'base64').includes('482913'));
  });

  it('does not open with another text or key, or when damaged: a miss, not a throw', () => {
    const sealed = sealSummary(summary, 'k', 'Your code is 482913.');
    assert.equal(openSummary(sealed, 'k', 'Your code is 482914.'), undefined);
    assert.equal(openSummary(sealed, 'k2', 'Your code is 482913.'), undefined);
    const bytes = Buffer.from(sealed, 'base64');
    bytes[bytes.length - 1] ^= 1;
    assert.equal(openSummary(bytes.toString('base64'), 'k', 'Your code is 482913.'), undefined);
    assert.equal(openSummary({ text: 'an old entry' }, 'k', 'x'), undefined);
    assert.equal(openSummary('', 'k', 'x'), undefined);
  });
});
