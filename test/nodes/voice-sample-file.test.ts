import assert from 'node:assert/strict';
import { promises as fs, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAtMost, readSampleFile, SAMPLE_FILE_REFUSED, type SampleFileAccess } from '../../src/nodes/voice-clone/sample-file';

/** The reader below the voice-clone node (whose tests cover the refusals through the node). */
describe('voice sample files (reader)', () => {
  let dir: string;
  let details: string[];
  const access = (folder: string | undefined): SampleFileAccess => ({ folder, logDetail: (text) => details.push(text) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'voice-sample-file-'));
    details = [];
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads at most max + 1 bytes of a source that never ends (/dev/zero), whatever the step', async () => {
    const handle = await fs.open('/dev/zero', 'r');
    try {
      for (const max of [0, 1, 7, 65_535, 65_536, 65_537, 300_000]) {
        assert.equal((await readAtMost(handle, max)).length, max + 1, `max ${max}`);
      }
    } finally {
      await handle.close();
    }
  });

  it('reads a short file whole', async () => {
    writeFileSync(join(dir, 'a.bin'), Buffer.from('abc'));
    const handle = await fs.open(join(dir, 'a.bin'), 'r');
    try {
      assert.deepEqual(await readAtMost(handle, 10), Buffer.from('abc'));
    } finally {
      await handle.close();
    }
  });

  it('takes a file of exactly the limit and refuses one byte more, with the one message and the reason in the detail', async () => {
    const limit = 100_000;
    writeFileSync(join(dir, 'exact.wav'), Buffer.alloc(limit, 1));
    const got = await readSampleFile('exact.wav', limit, access(dir));
    assert.deepEqual([got.bytes.length, got.stem], [limit, 'exact']);
    assert.deepEqual(details, []);

    writeFileSync(join(dir, 'over.wav'), Buffer.alloc(0));
    truncateSync(join(dir, 'over.wav'), limit + 1);
    await assert.rejects(readSampleFile('over.wav', limit, access(dir)), { code: 'InvalidInput', message: SAMPLE_FILE_REFUSED });
    assert.equal(details.length, 1);
    assert.match(details[0] ?? '', /over\.wav" is 100001 bytes; the limit is 100000/);
  });

  it('refuses the folder itself and everything when no folder is set, saying why only in the detail', async () => {
    writeFileSync(join(dir, 'a.wav'), Buffer.from('RIFF'));
    await assert.rejects(readSampleFile('.', 10, access(dir)), { message: SAMPLE_FILE_REFUSED });
    await assert.rejects(readSampleFile(join(dir, 'a.wav'), 10, access(undefined)), { message: SAMPLE_FILE_REFUSED });
    await assert.rejects(readSampleFile('a.wav', 10, access(join(dir, 'no-such-folder'))), { message: SAMPLE_FILE_REFUSED });
    assert.equal(details.length, 3);
    assert.match(details[0] ?? '', /outside ttsVoiceSampleFolder/);
    assert.match(details[1] ?? '', /ttsVoiceSampleFolder is not set/);
    assert.match(details[2] ?? '', /ttsVoiceSampleFolder ".*no-such-folder" cannot be resolved \(ENOENT\)/);
  });
});
