// What a message asks of one utterance (src/nodes/pcm-speaker/announcement-options.ts), and how a
// chime file named by a message is read: only inside settings.js pcmSpeakerChimeFolder, and every
// refusal the same error, so that msg.chime (which may come from outside the flow) can neither
// play nor probe any other file on this disk.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ChimeLibrary } from '../../src/audio/chime';
import { wavHeader } from '../../src/audio/resample';
import { CHIME_FILE_REFUSED, Announcements, chimeFolderOf } from '../../src/nodes/pcm-speaker/announcement-options';

/** 100 ms of a constant level, 24 kHz mono 16-bit: a chime file anyone could play. */
function wav(level = 4000): Buffer {
  const data = Buffer.alloc(2400 * 2);
  for (let i = 0; i < 2400; i++) data.writeInt16LE(level, i * 2);
  return Buffer.concat([wavHeader(24000, data.length), data]);
}

describe('pcm-speaker announcement options', () => {
  let tmp: string;
  /** pcmSpeakerChimeFolder in these tests. */
  let folder: string;
  /** Readable, playable, and outside the folder. */
  let outside: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'announcement-options-'));
    folder = join(tmp, 'chimes');
    mkdirSync(join(folder, 'alarms'), { recursive: true });
    writeFileSync(join(folder, 'door.wav'), wav());
    writeFileSync(join(folder, 'alarms', 'fire.wav'), wav(8000));
    writeFileSync(join(folder, 'notes.txt'), 'secret: not audio at all\n');
    outside = join(tmp, 'private.wav');
    writeFileSync(outside, wav());
    symlinkSync(outside, join(folder, 'link-out.wav'));
    symlinkSync(join(folder, 'door.wav'), join(folder, 'link-in.wav'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** `chimeFolder` null: pcmSpeakerChimeFolder not set. */
  function announcements(nodeChime = '', chimeFolder: string | null = folder): { a: Announcements; failures: Error[]; details: string[] } {
    const failures: Error[] = [];
    const details: string[] = [];
    const a = new Announcements(new ChimeLibrary(), nodeChime, chimeFolder ?? undefined, { chimeFailed: (err) => failures.push(err), logDetail: (text) => details.push(text) }, () => 1000);
    return { a, failures, details };
  }
  const codesAndMessages = (errors: Error[]): [string | undefined, string][] => errors.map((e) => [(e as Error & { code?: string }).code, e.message]);

  it('a file of the chime folder plays, named relative to it or by its full path, or through a symlink that stays inside', () => {
    const { a, failures, details } = announcements();
    for (const spec of ['door.wav', 'alarms/fire.wav', join(folder, 'door.wav'), './door.wav', 'link-in.wav']) {
      const chime = a.options({ chime: spec }, undefined).chime;
      assert.ok(chime, `${spec} gave no chime: ${failures.map((f) => f.message).join(' | ')} ${details.join(' | ')}`);
      assert.equal(chime.name, spec, 'named as the message named it');
      assert.equal(chime.durationMs, 100);
    }
    assert.equal(a.options({ chime: 'alarms/fire.wav' }, undefined).chime?.pcmFor({ sampleRate: 24000, channels: 1, bitDepth: 16 }).readInt16LE(1200 * 2), 8000, 'the file it names');
    assert.deepEqual(failures, []);
    assert.deepEqual(details, []);
  });

  it('a readable WAV outside the folder, by path, by "..", or through a symlink out of it, is refused: the one error, the reason only in the debug log', () => {
    const { a, failures, details } = announcements();
    const specs = [outside, relative(folder, outside), `alarms/../../${relative(tmp, outside)}`, 'link-out.wav', join(folder, 'link-out.wav')];
    for (const spec of specs) assert.equal(a.options({ chime: spec }, undefined).chime, undefined, `${spec} gave a chime`);
    assert.deepEqual(codesAndMessages(failures), specs.map(() => ['ChimeUnavailable', CHIME_FILE_REFUSED]));
    assert.equal(details.length, specs.length);
    assert.ok(details.every((d) => d.startsWith('chime file refused: ') && d.includes('outside the chime folder')), details.join('\n'));
  });

  it('every file msg.chime names that cannot be played gets the same error; the reasons go to the debug log only', () => {
    const { a, failures, details } = announcements();
    const specs = ['missing.wav', './alarms', 'notes.txt', join(folder, 'missing.wav')];
    for (const spec of specs) assert.equal(a.options({ chime: spec }, undefined).chime, undefined, `${spec} gave a chime`);
    assert.deepEqual(codesAndMessages(failures), specs.map(() => ['ChimeUnavailable', CHIME_FILE_REFUSED]));
    // The log tells them apart (not found, a directory, not a WAV), and never the file's contents.
    assert.equal(new Set(details.map((d) => d.replace(/"[^"]*"/g, '"…"'))).size, 3, details.join('\n'));
    assert.ok(details.every((d) => d.startsWith('chime file refused: ') && !d.includes('secret')), details.join('\n'));
  });

  it('without pcmSpeakerChimeFolder every file msg.chime names is refused, also one that would play from the node', () => {
    const { a, failures, details } = announcements('', null);
    for (const spec of [outside, 'door.wav', join(folder, 'door.wav')]) assert.equal(a.options({ chime: spec }, undefined).chime, undefined);
    assert.deepEqual(codesAndMessages(failures), Array.from({ length: 3 }, () => ['ChimeUnavailable', CHIME_FILE_REFUSED]));
    assert.ok(details.every((d) => /pcmSpeakerChimeFolder is not set/.test(d)), details.join('\n'));
    // The node's own Chime is the flow author's: any path.
    const own = announcements(outside, null);
    assert.equal(own.a.check(), undefined);
    assert.equal(own.a.options({}, undefined).chime?.name, outside);
    assert.deepEqual(own.failures, []);
  });

  it('the refusal names where files may come from, and no path or reason', () => {
    assert.match(CHIME_FILE_REFUSED, /^msg\.chime: cannot use this file as a chime \(msg\.chime files are read only from the folder set by pcmSpeakerChimeFolder in settings\.js/);
    assert.match(CHIME_FILE_REFUSED, /at most 1 MB and 10 s\)$/);
  });

  it("the node's own chime, set by the flow's author, is reported with its reason; a name from a message too", () => {
    const own = announcements(join(tmp, 'missing.wav'));
    assert.match(own.a.check()?.message ?? '', /missing\.wav/);
    own.a.options({}, undefined);
    assert.notEqual(own.failures[0]?.message, CHIME_FILE_REFUSED);
    assert.match(own.failures[0]?.message ?? '', /missing\.wav/);

    // A name touches no disk: its error may say there is no such chime.
    const named = announcements();
    named.a.options({ chime: 'gong' }, undefined);
    assert.match(named.failures[0]?.message ?? '', /gong.*ding-dong/s);
    assert.deepEqual(named.details, []);
  });

  it('msg.chime false silences the node chime; a built-in name gives that chime; msg.ttl counts from now without msg.audio.requestedAt', () => {
    const { a, failures } = announcements('ding');
    assert.equal(a.options({}, undefined).chime?.name, 'ding');
    assert.equal(a.options({ chime: false }, undefined).chime, undefined);
    assert.equal(a.options({ chime: 'alert' }, undefined).chime?.name, 'alert');
    assert.equal(a.options({ ttl: 2 }, undefined).expiresAt, 1000 + 2000);
    assert.deepEqual(failures, []);
  });

  it('pcmSpeakerChimeFolder: a non-blank string (trimmed), else none', () => {
    assert.equal(chimeFolderOf({ pcmSpeakerChimeFolder: ' /home/pi/chimes ' }), '/home/pi/chimes');
    for (const value of [undefined, '', '  ', 42, ['/x'], null]) assert.equal(chimeFolderOf({ pcmSpeakerChimeFolder: value }), undefined, String(value));
  });
});
