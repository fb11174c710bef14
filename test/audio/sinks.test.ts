// The real playback backends, playing into the test ALSA "file" device (test/alsa/asound.conf):
// what reached the device is read back from the capture file and compared byte for byte.
import { newCaptureFile, readCapture, ALSA_NO_DEFAULT_CONFIG, ALSA_TEST_CONFIG } from '../alsa/env';
import assert from 'node:assert/strict';
import { BackendSelector, defaultBackendDeps } from '../../src/audio/backend-selector';
import { framesIn, type PcmFormat } from '../../src/audio/pcm-format';
import { AplaySink, aplayReason } from '../../src/audio/sinks/aplay-sink';
import type { PcmSink } from '../../src/audio/sinks/sink';
import { SpeakerSink } from '../../src/audio/sinks/speaker-sink';
import { resolveSpeaker, type SpeakerConstructor } from '../../src/audio/speaker-addon';
import { probeSpeaker } from '../../src/audio/speaker-probe';
import { needing, requireSystem } from '../support/system-deps';

const F24: PcmFormat = { sampleRate: 24000, channels: 1, bitDepth: 16 };
/** A machine without a sound server (whatever the developer's desktop runs): ALSA decides, as these tests expect. */
const NO_SERVER = { ...defaultBackendDeps, env: { ...process.env, PULSE_SERVER: 'unix:/nonexistent/pulse/native' } };
/** aplay pads its last period with silence; its period is at most a quarter of a 0.5 s buffer. */
const APLAY_MAX_PADDING_BYTES = framesIn(F24, 125) * 2;

function noise(bytes: number, seed = 1): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function writeAll(sink: PcmSink, batches: Buffer[]): Promise<void> {
  return batches.reduce<Promise<void>>(
    (prev, batch) => prev.then(() => new Promise<void>((resolve, reject) => sink.write(batch, (err) => (err ? reject(err) : resolve())))),
    Promise.resolve(),
  );
}

function batches(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('playback backends on an ALSA file device', function () {
  this.timeout(15000);

  describe('speaker probe (in a child process)', () => {
    it('finds the addon usable with the test ALSA configuration', needing('speaker', async () => {
      assert.ok(resolveSpeaker(), 'speaker is installed for the tests');
      assert.deepEqual(await probeSpeaker({ env: { ...process.env, ALSA_CONFIG_PATH: ALSA_TEST_CONFIG } }), { usable: true });
    }));

    it('reports a missing default device, where loading the addon aborts the process', needing('speaker', async () => {
      const result = await probeSpeaker({ env: { ...process.env, ALSA_CONFIG_PATH: ALSA_NO_DEFAULT_CONFIG } });
      assert.deepEqual(result, { usable: false, failure: 'no-default-device', reason: 'no usable default ALSA device' });
    }));

    it('reports an addon that is not installed', async () => {
      const result = await probeSpeaker({ modulePath: '' });
      assert.deepEqual(result, { usable: false, failure: 'not-installed', reason: 'addon not installed' });
    });

    it('reports an addon that does not load', async () => {
      const result = await probeSpeaker({ modulePath: '/nonexistent/speaker/index.js' });
      assert.equal(result.usable, false);
      assert.ok(!result.usable && result.failure === 'load-failed' && /Cannot find module/.test(result.reason), JSON.stringify(result));
    });
  });

  describe('speaker addon', () => {
    requireSystem('speaker');
    const Speaker = (): SpeakerConstructor => defaultBackendDeps.loadSpeaker();

    it('plays every byte written, in order, on the default device and on a named one', async () => {
      for (const device of ['', 'capture']) {
        const file = newCaptureFile();
        const data = noise(48000 * 2 + 2000);
        const sink = new SpeakerSink(Speaker(), F24, device, framesIn(F24, 100));
        await writeAll(sink, batches(data, 4800));
        assert.equal(sink.opened, true);
        await sink.finish();
        assert.ok(readCapture(file).equals(data), `device "${device}": captured ${readCapture(file).length} bytes, sent ${data.length}`);
      }
    });

    it('abort right after a write releases the device at once; later writes fail cleanly', async () => {
      const file = newCaptureFile();
      const sink = new SpeakerSink(Speaker(), F24, '', framesIn(F24, 100));
      const first = noise(4800, 2);
      let settled = false;
      sink.write(first, () => (settled = true));
      await sink.abort(); // waits for the write in flight, then close(true)
      assert.equal(settled, true, 'the write in flight settled before the device was closed');
      assert.ok(readCapture(file).equals(first));
      const err = await new Promise<Error | undefined>((resolve) => sink.write(noise(4800), resolve));
      assert.match(err?.message ?? '', /closed/);
    });

    it('an unknown device is a clean error naming the device, not a crash', async () => {
      const sink = new SpeakerSink(Speaker(), F24, 'nosuchdevice', framesIn(F24, 100));
      const err = await new Promise<Error | undefined>((resolve) => sink.write(noise(480), resolve));
      assert.match(err?.message ?? '', /speaker could not open ALSA device "nosuchdevice"/);
      assert.equal(sink.opened, false);
      await sink.abort();
    });
  });

  describe('aplay child process', () => {
    it('plays every byte written (plus at most one period of trailing silence)', needing('aplay', async () => {
      const file = newCaptureFile();
      const data = noise(48000 + 1000, 3);
      const sink = new AplaySink(F24, '');
      await writeAll(sink, batches(data, 4800));
      await sink.finish();
      const captured = readCapture(file);
      assert.ok(captured.subarray(0, data.length).equals(data), 'the audio itself is byte-identical');
      const padding = captured.subarray(data.length);
      assert.ok(padding.length <= APLAY_MAX_PADDING_BYTES, `${padding.length} bytes of padding`);
      assert.ok(padding.every((b) => b === 0), 'the padding is silence');
    }));

    it('abort kills the child at once', needing('aplay', async () => {
      newCaptureFile();
      const sink = new AplaySink(F24, 'capture');
      await writeAll(sink, [noise(4800)]);
      const pid = sink.pid as number;
      assert.ok(alive(pid));
      const started = Date.now();
      await sink.abort();
      assert.ok(Date.now() - started < 500, 'no drain, no grace period needed');
      assert.equal(alive(pid), false);
    }));

    it("an unknown device fails with aplay's own reason", needing('aplay', async () => {
      const sink = new AplaySink(F24, 'nosuchdevice');
      // aplay exits after the pipe took the write (a failure event) or while it waits (the write fails).
      const err = await new Promise<Error>((resolve) => {
        sink.onFailure(resolve);
        sink.write(noise(4800), (e) => e && resolve(e));
      });
      assert.match(err.message, /aplay could not play on ALSA device "nosuchdevice": audio open error: No such file or directory/);
    }));

    it('a missing aplay binary says what to install', async () => {
      const sink = new AplaySink(F24, '', 'aplay-not-installed-here');
      const err = await new Promise<Error | undefined>((resolve) => sink.write(noise(480), resolve));
      assert.match(err?.message ?? '', /aplay-not-installed-here not found: install alsa-utils/);
    });

    it('reduces aplay stderr to its reason', () => {
      assert.equal(aplayReason('ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM x\naplay: main:831: audio open error: No such file or directory\n'), 'audio open error: No such file or directory');
    });
  });

  describe('backend selection', () => {
    it('auto uses the speaker addon when the probe finds it usable', needing('speaker', async () => {
      const selector = new BackendSelector('auto', '', () => 2400, NO_SERVER);
      assert.deepEqual(await selector.ready(), { backend: 'speaker' });
    }));

    it('auto falls back to aplay when the probe fails, and says why; speaker mode refuses', needing('speaker', async () => {
      const deps = { ...NO_SERVER, probe: () => probeSpeaker({ env: { ...process.env, ALSA_CONFIG_PATH: ALSA_NO_DEFAULT_CONFIG } }) };
      const auto = new BackendSelector('auto', '', () => 2400, deps);
      assert.deepEqual(await auto.ready(), { backend: 'aplay', speakerProblem: 'no usable default ALSA device', noDefaultDevice: true });
      const strict = new BackendSelector('speaker', '', () => 2400, deps);
      assert.equal((await strict.ready()).backend, undefined);
      await assert.rejects(strict.open(F24), /the speaker backend cannot be used: no usable default ALSA device/);
    }));

    it('auto plays through aplay where the addon is not installed, and says so', async () => {
      const deps = { ...NO_SERVER, probe: () => probeSpeaker({ modulePath: '' }) };
      assert.deepEqual(await new BackendSelector('auto', '', () => 2400, deps).ready(), { backend: 'aplay', speakerProblem: 'addon not installed' });
    });

    it('aplay mode never probes or loads the addon, nor looks for a sound server', async () => {
      let probed = false;
      let lookedForServer = false;
      const selector = new BackendSelector('aplay', '', () => 2400, {
        ...defaultBackendDeps,
        probe: () => {
          probed = true;
          return Promise.resolve({ usable: true });
        },
        findServer: (env) => {
          lookedForServer = true;
          return defaultBackendDeps.findServer(env);
        },
      });
      assert.deepEqual(await selector.ready(), { backend: 'aplay' });
      assert.equal(probed, false);
      assert.equal(lookedForServer, false);
    });

    it('speaker mode never looks for a sound server, even for the default output', async () => {
      let lookedForServer = false;
      const selector = new BackendSelector('speaker', '', () => 2400, {
        ...defaultBackendDeps,
        probe: () => probeSpeaker({ modulePath: '' }),
        findServer: (env) => {
          lookedForServer = true;
          return defaultBackendDeps.findServer(env);
        },
      });
      assert.deepEqual(await selector.ready(), { backend: undefined, speakerProblem: 'addon not installed' });
      assert.equal(lookedForServer, false);
    });
  });
});
