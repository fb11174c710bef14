// GET pcm-speaker/devices in a real Node-RED process, as the editor's device picker calls it: on a
// "Raspberry Pi 4" (the fake aplay of test/fixtures/alsa/ first on Node-RED's PATH, printing a Pi's
// captured outputs) and on a machine without alsa-utils, neither with a sound server (the lists
// with one: test/e2e/pcm-speaker-pulse.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { NodeRedProcess } from '../e2e/node-red-process';
import { fakeAplayDir, machineEnv } from '../fixtures/alsa/fake-aplay';

interface DevicesAnswer {
  devices: { name: string; label: string; more: boolean; description?: string; server?: true }[];
  error?: string;
  reason?: string;
  server: { reachable: boolean; reason?: string; error?: string };
}

/** PULSE_SERVER below: why no sink is listed, in the editor's language (reason) and in detail (error, the tooltip). */
const NO_SERVER = { reachable: false, reason: 'noServer', error: 'no sound server answers at unix:/nonexistent/pulse/native' };

describe('GET pcm-speaker/devices in a real Node-RED', function () {
  this.timeout(30_000);
  let fake: ReturnType<typeof fakeAplayDir>;
  let emptyBin: string;
  let pi: NodeRedProcess | undefined;
  let noAlsaUtils: NodeRedProcess | undefined;

  before(async function () {
    this.timeout(60_000);
    fake = fakeAplayDir();
    emptyBin = mkdtempSync(join(tmpdir(), 'no-aplay-'));
    // No sound server, whatever the developer's desktop runs: the lists are ALSA's alone.
    const env = { ...process.env, DASHSCOPE_API_KEY: '', PULSE_SERVER: 'unix:/nonexistent/pulse/native' };
    [pi, noAlsaUtils] = await Promise.all([
      NodeRedProcess.start({ ...env, ...machineEnv('pi4-usb'), PATH: `${fake.dir}${delimiter}${process.env.PATH ?? ''}` }),
      // Node-RED is started by its absolute path, so a PATH with nothing on it is a machine without aplay.
      NodeRedProcess.start({ ...env, PATH: emptyBin }),
    ]);
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all([pi?.stop(), noAlsaUtils?.stop()]);
    fake?.remove();
    if (emptyBin) rmSync(emptyBin, { recursive: true, force: true });
  });

  it('a Raspberry Pi 4: "default", its sound cards by name, the ALSA plugins only under more', async () => {
    const res = await (pi as NodeRedProcess).get('/pcm-speaker/devices');
    assert.equal(res.status, 200);
    const body = (await res.json()) as DevicesAnswer;
    assert.equal(body.error, undefined);
    assert.equal(body.reason, undefined);
    assert.deepEqual(body.server, NO_SERVER);
    assert.deepEqual(body.devices.filter((d) => d.server), []);
    assert.deepEqual(
      body.devices.filter((d) => !d.more),
      [
        { name: 'default', label: 'Default output', more: false },
        { name: 'sysdefault:CARD=Headphones', label: 'bcm2835 Headphones', more: false },
        { name: 'sysdefault:CARD=vc4hdmi0', label: 'vc4-hdmi-0', more: false },
        { name: 'sysdefault:CARD=vc4hdmi1', label: 'vc4-hdmi-1', more: false },
        { name: 'sysdefault:CARD=Device', label: 'USB Audio Device', more: false },
      ],
    );
    const more = body.devices.filter((d) => d.more).map((d) => d.name);
    for (const plugin of ['null', 'lavrate', 'speexrate', 'jack', 'pulse', 'pipewire', 'upmix', 'vdownmix', 'dmix:CARD=Headphones,DEV=0']) {
      assert.ok(more.includes(plugin), `${plugin} under more`);
    }
  });

  it('without alsa-utils: still "default", and what to install', async () => {
    const res = await (noAlsaUtils as NodeRedProcess).get('/pcm-speaker/devices');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      devices: [{ name: 'default', label: 'Default output', more: false }],
      error: 'aplay not found: install alsa-utils to list devices',
      reason: 'missing',
      server: NO_SERVER,
    });
  });
});
