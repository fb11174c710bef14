/**
 * The test ALSA setup. Importing this module points the process (and every child it spawns) at
 * test/alsa/asound.conf before anything can load the speaker addon, so no real sound device is
 * ever touched and `require('speaker')` cannot abort the test run for want of a default device.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ALSA_TEST_CONFIG = join(__dirname, 'asound.conf');
export const ALSA_NO_DEFAULT_CONFIG = join(__dirname, 'no-default.conf');

process.env.ALSA_CONFIG_PATH = ALSA_TEST_CONFIG;
// Nor a developer's desktop sound server (auto mode would play through it): tests that want one start their own and pass its address.
process.env.PULSE_SERVER = 'unix:/nonexistent/pulse/native';

const dir = mkdtempSync(join(tmpdir(), 'pcm-speaker-capture-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let files = 0;

process.env.CAPTURE_FILE = join(dir, 'unused.raw');

/** A fresh capture file for the next device opens (in this process and in children spawned after). */
export function newCaptureFile(): string {
  files += 1;
  const file = join(dir, `capture-${files}.raw`);
  process.env.CAPTURE_FILE = file;
  return file;
}

export function readCapture(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
}
