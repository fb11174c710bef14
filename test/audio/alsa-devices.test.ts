// The pcm speaker's device list: `aplay -l` and `aplay -L` as typical machines print them
// (test/fixtures/alsa/), read into the picker's entries: "default", the sound cards by name, and
// every other pcm under "more".
import { ALSA_TEST_CONFIG } from '../alsa/env';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAlsaDevices } from '../../src/audio/alsa-devices';
import { parseAplayCards, parseAplayList, type AlsaCard } from '../../src/audio/alsa-lists';
import { deviceChoices, MORE_LABEL_MAX, type DeviceChoice } from '../../src/audio/device-choices';
import { ALSA_FIXTURES, fakeAplayDir, machineEnv, type AlsaMachine } from '../fixtures/alsa/fake-aplay';

const MACHINES: AlsaMachine[] = ['pi4-usb', 'pc-hda-intel', 'pi3-legacy', 'container', 'container-test-config'];
import { needing } from '../support/system-deps';

function fixture(machine: AlsaMachine, flag: 'l' | 'L'): string {
  return readFileSync(join(ALSA_FIXTURES, `${machine}.aplay-${flag}.txt`), 'utf8');
}

function choicesOf(machine: AlsaMachine): DeviceChoice[] {
  return deviceChoices(parseAplayCards(fixture(machine, 'l')), parseAplayList(fixture(machine, 'L')));
}

const DEFAULT: DeviceChoice = { name: 'default', label: 'Default output', more: false };
/** The CI container's one pcm besides default. */
const NULL_PCM: DeviceChoice = { name: 'null', label: 'null — Discard all samples…', more: true, description: 'Discard all samples (playback) or generate zero samples (capture)' };
/** What the test ALSA configuration (test/alsa/asound.conf) offers. */
const TEST_CONFIG_CHOICES: DeviceChoice[] = [
  DEFAULT,
  { name: 'capture', label: 'capture — Test device: the same…', more: true, description: 'Test device: the same capture under a name' },
  { name: 'null', label: 'null — Discard all samples', more: true, description: 'Discard all samples' },
];

/** Every pcm `aplay -L` lists is offered once, and nothing is offered twice. */
function assertEachPcmOnce(machine: AlsaMachine, choices: DeviceChoice[]): void {
  const names = choices.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, `duplicates in ${names.join(', ')}`);
  for (const pcm of parseAplayList(fixture(machine, 'L'))) assert.ok(names.includes(pcm.name), `${pcm.name} is not offered`);
}

describe('pcm speaker device list', () => {
  describe('aplay -l: the sound cards', () => {
    it('reads a Raspberry Pi 4: jack, two HDMI cards, a USB speaker', () => {
      assert.deepEqual(parseAplayCards(fixture('pi4-usb', 'l')), [
        { index: 0, id: 'Headphones', name: 'bcm2835 Headphones', devices: [{ index: 0, id: 'bcm2835 Headphones', name: 'bcm2835 Headphones' }] },
        { index: 1, id: 'vc4hdmi0', name: 'vc4-hdmi-0', devices: [{ index: 0, id: 'MAI PCM i2s-hifi-0', name: 'MAI PCM i2s-hifi-0' }] },
        { index: 2, id: 'vc4hdmi1', name: 'vc4-hdmi-1', devices: [{ index: 0, id: 'MAI PCM i2s-hifi-0', name: 'MAI PCM i2s-hifi-0' }] },
        { index: 3, id: 'Device', name: 'USB Audio Device', devices: [{ index: 0, id: 'USB Audio', name: 'USB Audio' }] },
      ] satisfies AlsaCard[]);
    });

    it('groups the devices of one card: a PC HDA card with analog and five HDMI outputs', () => {
      const cards = parseAplayCards(fixture('pc-hda-intel', 'l'));
      assert.deepEqual(
        cards.map((c) => [c.id, c.name, c.devices.map((d) => `${d.index}:${d.name}`)]),
        [['PCH', 'HDA Intel PCH', ['0:ALC3246 Analog', '3:HDMI 0', '7:HDMI 1', '8:HDMI 2', '9:HDMI 3', '10:HDMI 4']]],
      );
    });

    it('reads no card from a machine without one (the CI container), with or without the test configuration', () => {
      assert.deepEqual(parseAplayCards(fixture('container', 'l')), []);
      assert.deepEqual(parseAplayCards(fixture('container-test-config', 'l')), []);
    });

    it('keeps a device with an empty name (I2S DACs print "[]")', () => {
      assert.deepEqual(parseAplayCards('card 0: sndrpihifiberry [snd_rpi_hifiberry_dacplus], device 0: HiFiBerry DAC+ HiFi pcm512x-hifi-0 []\n'), [
        { index: 0, id: 'sndrpihifiberry', name: 'snd_rpi_hifiberry_dacplus', devices: [{ index: 0, id: 'HiFiBerry DAC+ HiFi pcm512x-hifi-0', name: '' }] },
      ]);
    });
  });

  describe('aplay -L: the pcm names', () => {
    it('parses names and indented descriptions', () => {
      assert.deepEqual(parseAplayList('null\n    Discard all samples\nhw:CARD=Headphones,DEV=0\n    bcm2835 Headphones, bcm2835 Headphones\n    Direct hardware device\n'), [
        { name: 'null', description: 'Discard all samples' },
        { name: 'hw:CARD=Headphones,DEV=0', description: 'bcm2835 Headphones, bcm2835 Headphones — Direct hardware device' },
      ]);
    });

    it('reads what the CI container prints, with and without the test configuration', () => {
      assert.deepEqual(parseAplayList(fixture('container', 'L')), [{ name: 'null', description: 'Discard all samples (playback) or generate zero samples (capture)' }]);
      assert.deepEqual(
        parseAplayList(fixture('container-test-config', 'L')).map((p) => p.name),
        ['default', 'capture', 'null'],
      );
    });
  });

  describe('the picker entries', () => {
    it('Raspberry Pi 4: default, then each card by name on its own default pcm; plugins only under more', () => {
      const choices = choicesOf('pi4-usb');
      assert.deepEqual(
        choices.filter((c) => !c.more),
        [
          DEFAULT,
          { name: 'sysdefault:CARD=Headphones', label: 'bcm2835 Headphones', more: false },
          // vc4-hdmi takes IEC958 frames only: its sysdefault adds them, plughw would fail.
          { name: 'sysdefault:CARD=vc4hdmi0', label: 'vc4-hdmi-0', more: false },
          { name: 'sysdefault:CARD=vc4hdmi1', label: 'vc4-hdmi-1', more: false },
          { name: 'sysdefault:CARD=Device', label: 'USB Audio Device', more: false },
        ],
      );
      const more = new Map(choices.filter((c) => c.more).map((c) => [c.name, c]));
      for (const plugin of ['null', 'lavrate', 'samplerate', 'speexrate', 'jack', 'oss', 'pulse', 'pipewire', 'speex', 'upmix', 'vdownmix']) {
        assert.ok(more.has(plugin), `${plugin} is under more`);
      }
      // By name and a description short enough for the picker; the whole one for its tooltip.
      assert.deepEqual(more.get('lavrate'), { name: 'lavrate', label: 'lavrate — Rate Converter Plugin…', more: true, description: 'Rate Converter Plugin Using Libav/FFmpeg Library' });
      assert.deepEqual(more.get('null'), { name: 'null', label: 'null — Discard all samples…', more: true, description: 'Discard all samples (playback) or generate zero samples (capture)' });
      assert.equal(more.get('pipewire')?.label, 'pipewire — PipeWire Sound Server', 'short enough: whole');
      // A per-card pcm: its name says the card, the label what kind of pcm it is.
      assert.deepEqual(more.get('hw:CARD=Device,DEV=0'), { name: 'hw:CARD=Device,DEV=0', label: 'hw:CARD=Device,DEV=0 — Direct…', more: true, description: 'USB Audio Device, USB Audio — Direct hardware device without any conversions' });
      // No room for a word of the description after a long name: the name alone.
      assert.equal(more.get('plughw:CARD=Device,DEV=0')?.label, 'plughw:CARD=Device,DEV=0');
      assert.equal(more.get('surround71:CARD=Device,DEV=0')?.label, 'surround71:CARD=Device,DEV=0');
      assertEachPcmOnce('pi4-usb', choices);
    });

    it('PC: the analog output by its default pcm, each HDMI output by plughw with the device name', () => {
      const choices = choicesOf('pc-hda-intel');
      assert.deepEqual(
        choices.filter((c) => !c.more),
        [
          DEFAULT,
          { name: 'sysdefault:CARD=PCH', label: 'HDA Intel PCH, ALC3246 Analog', more: false },
          { name: 'plughw:CARD=PCH,DEV=3', label: 'HDA Intel PCH, HDMI 0', more: false },
          { name: 'plughw:CARD=PCH,DEV=7', label: 'HDA Intel PCH, HDMI 1', more: false },
          { name: 'plughw:CARD=PCH,DEV=8', label: 'HDA Intel PCH, HDMI 2', more: false },
          { name: 'plughw:CARD=PCH,DEV=9', label: 'HDA Intel PCH, HDMI 3', more: false },
          { name: 'plughw:CARD=PCH,DEV=10', label: 'HDA Intel PCH, HDMI 4', more: false },
        ],
      );
      assert.ok(choices.some((c) => c.more && c.name === 'hdmi:CARD=PCH,DEV=0'));
      assertEachPcmOnce('pc-hda-intel', choices);
    });

    it('Raspberry Pi 3 with an older alsa-lib: a second device without a listed pcm still gets plughw', () => {
      const choices = choicesOf('pi3-legacy');
      assert.deepEqual(
        choices.filter((c) => !c.more),
        [
          DEFAULT,
          { name: 'sysdefault:CARD=ALSA', label: 'bcm2835 ALSA', more: false },
          { name: 'plughw:CARD=ALSA,DEV=1', label: 'bcm2835 ALSA, bcm2835 IEC958/HDMI', more: false },
        ],
      );
      assert.deepEqual(
        choices.filter((c) => c.more).map((c) => c.name),
        ['null', 'default:CARD=ALSA', 'dmix:CARD=ALSA,DEV=0', 'dmix:CARD=ALSA,DEV=1', 'dsnoop:CARD=ALSA,DEV=0', 'dsnoop:CARD=ALSA,DEV=1', 'hw:CARD=ALSA,DEV=0', 'hw:CARD=ALSA,DEV=1'],
      );
    });

    it('the CI container: default, and the configuration\'s pcms under more with their descriptions', () => {
      assert.deepEqual(choicesOf('container'), [DEFAULT, NULL_PCM]);
      assert.deepEqual(choicesOf('container-test-config'), TEST_CONFIG_CHOICES);
    });

    it('labels every pcm under more within the picker\'s width: its name first, the whole description kept', () => {
      for (const machine of MACHINES) {
        const pcms = new Map(parseAplayList(fixture(machine, 'L')).map((p) => [p.name, p.description]));
        for (const c of choicesOf(machine).filter((d) => d.more)) {
          assert.ok(c.label.length <= MORE_LABEL_MAX || c.label === c.name, `${machine}: "${c.label}" is longer than ${MORE_LABEL_MAX}`);
          assert.ok(c.label === c.name || c.label.startsWith(`${c.name} — `), `${machine}: "${c.label}" starts with its name`);
          assert.equal(c.description, pcms.get(c.name) || undefined, `${machine}: ${c.name} keeps its description`);
          const shown = c.label.slice(c.name.length + 3).replace(/…$/, '');
          assert.ok(!shown || (c.description ?? '').includes(shown), `${machine}: "${shown}" is from the description`);
        }
      }
    });

    it('tells two of the same USB speaker apart by card id', () => {
      const cards = parseAplayCards(
        'card 1: Device [USB Audio Device], device 0: USB Audio [USB Audio]\ncard 2: Device_1 [USB Audio Device], device 0: USB Audio [USB Audio]\n',
      );
      const pcms = parseAplayList('sysdefault:CARD=Device\n    USB Audio Device, USB Audio\nsysdefault:CARD=Device_1\n    USB Audio Device, USB Audio\n');
      assert.deepEqual(deviceChoices(cards, pcms), [
        DEFAULT,
        { name: 'sysdefault:CARD=Device', label: 'USB Audio Device (Device)', more: false },
        { name: 'sysdefault:CARD=Device_1', label: 'USB Audio Device (Device_1)', more: false },
      ]);
    });

    it('uses plughw for device 0 where the configuration offers no sysdefault for the card', () => {
      const cards = parseAplayCards('card 0: sndrpihifiberry [snd_rpi_hifiberry_dacplus], device 0: HiFiBerry DAC+ HiFi pcm512x-hifi-0 []\n');
      assert.deepEqual(deviceChoices(cards, []), [DEFAULT, { name: 'plughw:CARD=sndrpihifiberry,DEV=0', label: 'snd_rpi_hifiberry_dacplus', more: false }]);
    });
  });

  describe('running aplay', () => {
    let fake: ReturnType<typeof fakeAplayDir>;
    let log: string;
    const saved = { ...process.env };

    beforeEach(() => {
      fake = fakeAplayDir();
      log = join(tmpdir(), `fake-aplay-${process.pid}-${Date.now()}.log`);
    });

    afterEach(() => {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      fake.remove();
      rmSync(log, { force: true });
    });

    it('lists a Raspberry Pi\'s cards from both commands, run in the C locale', async () => {
      Object.assign(process.env, machineEnv('pi4-usb'), { LC_ALL: 'de_DE.UTF-8' });
      const result = await listAlsaDevices(fake.command);
      assert.deepEqual(result, { devices: choicesOf('pi4-usb') });
      assert.equal(result.devices.filter((d) => !d.more).length, 5, 'the cards were read, so aplay -l answered in English');
    });

    it('runs aplay -l and aplay -L at the same time, without holding the event loop', async () => {
      Object.assign(process.env, machineEnv('pc-hda-intel'), { FAKE_APLAY_LOG: log, FAKE_APLAY_DELAY: '0.4' });
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 10);
      const started = Date.now();
      const result = await listAlsaDevices(fake.command);
      const tookMs = Date.now() - started;
      clearInterval(ticker);
      assert.deepEqual(result, { devices: choicesOf('pc-hda-intel') });
      const events = readFileSync(log, 'utf8').trim().split('\n');
      assert.deepEqual(events.slice(0, 2).sort(), ['start -L', 'start -l'], `both started before either ended: ${events.join(', ')}`);
      assert.ok(tookMs < 780, `two runs of 0.4 s took ${tookMs} ms`);
      assert.ok(ticks >= 20, `the event loop ran ${ticks} timer ticks in ${tookMs} ms`);
    });

    it('gives up on an aplay that does not answer, and still offers default', async () => {
      Object.assign(process.env, machineEnv('pi4-usb'), { FAKE_APLAY_DELAY: '5' });
      const started = Date.now();
      const result = await listAlsaDevices(fake.command, 300);
      assert.ok(Date.now() - started < 2000, 'answered after the timeout, not after aplay');
      assert.deepEqual(result, { devices: [DEFAULT], error: `${fake.command} -L gave no answer within 300 ms`, reason: 'timeout' });
    });

    it('says what aplay said when it fails, and still offers default', async () => {
      Object.assign(process.env, { FAKE_APLAY_MACHINE: join(ALSA_FIXTURES, 'no-such-machine') });
      const result = await listAlsaDevices(fake.command);
      assert.equal(result.devices[0]?.name, 'default');
      assert.match(result.error ?? '', /no-such-machine\.aplay-L\.txt: No such file or directory/);
      assert.equal(result.reason, 'failed');
    });

    it('says when there is no sound card', async () => {
      Object.assign(process.env, machineEnv('container'));
      assert.deepEqual(await listAlsaDevices(fake.command), {
        devices: [DEFAULT, NULL_PCM],
        error: 'no sound cards found (aplay -l lists none)',
        reason: 'noCards',
      });
    });

    it('says how to get aplay when it is missing, and still offers default', async () => {
      assert.deepEqual(await listAlsaDevices('aplay-not-installed-here'), {
        devices: [DEFAULT],
        error: 'aplay-not-installed-here not found: install alsa-utils to list devices',
        reason: 'missing',
      });
    });

    it('the real aplay with the test configuration: default, then its pcms under more', needing('aplay', async () => {
      assert.equal(process.env.ALSA_CONFIG_PATH, ALSA_TEST_CONFIG);
      const { devices, error, reason } = await listAlsaDevices();
      assert.deepEqual(devices, choicesOf('container-test-config'));
      // The test configuration replaces alsa.conf, so not even a machine with a sound card can open
      // it through `aplay -l` here: the list always says so.
      assert.equal(error, 'no sound cards found (aplay -l lists none)');
      assert.equal(reason, 'noCards');
    }));
  });
});
