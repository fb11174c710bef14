// The README's pcm speaker section against the code it describes: the chimes it lists (names and
// lengths, read from the files), the limits it quotes, and the three things issue 21 asked it to
// explain (ALSA or the sound server, Node-RED as a service with PipeWire, the HDMI/Bluetooth lead-in).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHIME_CACHE_BYTES, CHIME_NAMES, ChimeLibrary, MAX_CHIME_FILE_BYTES, MAX_CHIME_PCM_BYTES, MAX_CHIME_SECONDS } from '../../src/audio/chime';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const MB = 1024 * 1024;

/** The text of the README section under `heading` (to the next heading of level 2 to 4: a shell comment in a code block is no heading). */
function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has no section "${heading}"`);
  const rest = README.slice(start + heading.length + 2);
  const end = rest.search(/^#{2,4} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

describe('README: pcm speaker announcements', () => {
  it('lists exactly the built-in chimes, each with its length as the file has it', () => {
    const rows = [...section('### Chimes').matchAll(/^\| `([\w-]+)` \| [^|]+ \| ([\d.]+) s \|$/gm)].map((m) => [m[1], m[2]]);
    const library = new ChimeLibrary();
    assert.deepEqual(
      rows,
      CHIME_NAMES.map((name) => [name, (library.load(name).durationMs / 1000).toFixed(2)]),
    );
  });

  it('quotes the chime limits the code applies', () => {
    assert.match(section('### Chimes'), new RegExp(`at most ${MAX_CHIME_FILE_BYTES / MB} MB and\\s+${MAX_CHIME_SECONDS} seconds`));
    assert.match(README, new RegExp(`may take at most ${MAX_CHIME_PCM_BYTES / MB} MB, and each \\*pcm speaker\\* keeps at most\\s+${CHIME_CACHE_BYTES / MB} MB`));
  });

  it('explains choosing ALSA or the sound server, Node-RED as a service with the user\'s PipeWire, and the HDMI/Bluetooth lead-in', () => {
    assert.match(section('### ALSA or the sound server (PulseAudio / PipeWire)'), /pulseaudio-utils[\s\S]*On a desktop[\s\S]*On a headless machine/);
    const service = section("### Node-RED as a service, with the user's PipeWire or PulseAudio");
    for (const needed of ['Environment=XDG_RUNTIME_DIR=/run/user/1000', 'loginctl enable-linger', 'PULSE_SERVER', 'pactl info']) assert.ok(service.includes(needed), needed);
    assert.match(section('### HDMI and Bluetooth: set a lead-in'), /\*Lead-in\* to 300–500 ms[\s\S]*\*Keep open\*/);
  });
});
