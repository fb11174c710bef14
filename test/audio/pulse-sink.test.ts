// Playing through a real PulseAudio server (started by the test, test/support/pulse-server.ts)
// with pacat: what the null sink played is recorded from its monitor with parec and the bytes
// written are found in the recording, exactly. The backend selector's choices around it too.
import assert from 'node:assert/strict';
import { BackendSelector, defaultBackendDeps, type BackendDeps } from '../../src/audio/backend-selector';
import type { PcmFormat } from '../../src/audio/pcm-format';
import { PcmPlayer, type Chunk } from '../../src/audio/player';
import { PulseSink, pacatArgs, pacatError, pulseSinkOf } from '../../src/audio/sinks/pulse-sink';
import { DeviceError, type PcmSink } from '../../src/audio/sinks/sink';
import { PulseServer, alive, type Recording } from '../support/pulse-server';
import { requireSystem } from '../support/system-deps';

const F24: PcmFormat = { sampleRate: 24000, channels: 1, bitDepth: 16 };
const BYTES_PER_MS = 48;

/** Noise that never has a zero sample, so it cannot be mistaken for the sink's silence. */
function noise(bytes: number, seed = 1): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i += 2) {
    x = (x * 1103515245 + 12345) >>> 0;
    b.writeInt16LE(((x >>> 16) % 30000) + 100 * (x & 1 ? 1 : -1), i);
  }
  return b;
}

function writeAll(sink: PcmSink, data: Buffer, batch = 2400): Promise<void> {
  let chain = Promise.resolve();
  for (let i = 0; i < data.length; i += batch) {
    const piece = data.subarray(i, i + batch);
    chain = chain.then(() => new Promise<void>((resolve, reject) => sink.write(piece, (err) => (err ? reject(err) : resolve()))));
  }
  return chain;
}

async function recorded(recording: Recording, data: Buffer, timeoutMs = 3000): Promise<{ at: number; bytes: Buffer }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bytes = recording.bytes();
    const at = bytes.indexOf(data.subarray(0, 64));
    if (at >= 0 && bytes.length >= at + data.length) return { at, bytes };
    if (Date.now() > deadline) throw new Error(`the recording (${bytes.length} bytes) does not hold the ${data.length} bytes played (start found: ${at >= 0})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function failure(sink: PcmSink, data: Buffer): Promise<Error> {
  return new Promise<Error>((resolve) => {
    sink.onFailure(resolve);
    void writeAll(sink, data).catch(resolve);
  });
}

describe('playing through a PulseAudio server with pacat', function () {
  this.timeout(20_000);

  it('builds the pacat command line for each PCM format, a sink or the default one', () => {
    assert.deepEqual(pacatArgs({ sampleRate: 22050, channels: 2, bitDepth: 24 }, { server: 'unix:/s', sink: 'hdmi' }, 80), [
      '--playback',
      '--raw',
      '--format=s24le',
      '--rate=22050',
      '--channels=2',
      '--latency-msec=80',
      '--server=unix:/s',
      '--client-name=Node-RED',
      '--stream-name=pcm-speaker',
      '--device=hdmi',
    ]);
    assert.ok(pacatArgs({ sampleRate: 8000, channels: 1, bitDepth: 8 }, { server: 'unix:/s', sink: '' }).includes('--format=u8'));
    assert.ok(!pacatArgs(F24, { server: 'unix:/s', sink: '' }).some((a) => a.startsWith('--device')));
    assert.deepEqual(['pulse', 'pulse:alsa_output.usb', 'pulse:', '', 'default', 'hw:0', 'pulsex'].map(pulseSinkOf), ['', 'alsa_output.usb', '', undefined, undefined, undefined, undefined]);
  });

  it("says pacat's reasons in words that say what to fix", () => {
    const target = { server: 'unix:/run/user/1000/pulse/native', sink: 'hdmi' };
    const noSink = pacatError(target, 'Stream error: No such entity\n', 1, null);
    assert.equal(noSink.code, 'DeviceOpenFailed');
    assert.equal(noSink.message, 'the sound server at unix:/run/user/1000/pulse/native has no sink "hdmi" (pacat: Stream error: No such entity): choose a Device the list offers');
    const refused = pacatError(target, 'Connection failure: Connection refused\npa_context_connect() failed: Connection refused\n', 1, null);
    assert.deepEqual([refused.code, refused.message], ['DeviceOpenFailed', 'pacat could not connect to the sound server at unix:/run/user/1000/pulse/native: Connection failure: Connection refused']);
    const killed = pacatError({ ...target, sink: '' }, '', null, 'SIGKILL');
    assert.deepEqual([killed.code, killed.message], ['DeviceFailed', "pacat could not play on the sound server's default sink: killed by SIGKILL"]);
    // The server died while pacat played: a failure of the device, never a reason to change backend.
    const gone = pacatError(target, 'Connection failure: Connection terminated\n', 1, null);
    assert.deepEqual([gone.code, gone.message], ['DeviceFailed', 'the sound server at unix:/run/user/1000/pulse/native went away while pacat played: Connection failure: Connection terminated']);
    const denied = pacatError(target, 'Connection failure: Access denied\npa_context_connect() failed: Access denied\n', 1, null);
    assert.equal(denied.code, 'DeviceOpenFailed');
  });

  it('a missing pacat says what to install', async () => {
    const sink = new PulseSink(F24, { server: 'unix:/nowhere', sink: '' }, 'pacat-not-installed-here');
    const err = await new Promise<Error | undefined>((resolve) => sink.write(noise(480), resolve));
    assert.ok(err instanceof DeviceError);
    assert.equal(err.code, 'BackendUnavailable');
    assert.equal(err.message, 'pacat-not-installed-here not found: install pulseaudio-utils (apt-get install pulseaudio-utils)');
  });

  describe('with a real server', () => {
    requireSystem('pulseaudio');
    let server: PulseServer;
    let address: string;

    before(async () => {
      server = await PulseServer.start();
      address = server.server;
    });

    after(async () => {
      const pids = server?.pids ?? [];
      await server?.stop();
      assert.deepEqual(pids.filter(alive), [], 'no process of the test server is left');
    });

    it('plays every byte written, exactly, on the default sink and on a named one; finish waits for the drain', async () => {
      for (const sinkName of ['', 'announce']) {
        const recording = await server.record();
        const data = noise(24000 * 2 + 4802, sinkName ? 5 : 7); // 1.1 s, not a whole number of batches
        const sink = new PulseSink(F24, { server: address, sink: sinkName, env: server.env });
        const started = Date.now();
        await writeAll(sink, data);
        assert.equal(sink.opened, true);
        await sink.finish();
        const finishedAfter = Date.now() - started;
        // pacat exits once the server has played the stream: finish cannot come before the audio's end.
        assert.ok(finishedAfter >= data.length / BYTES_PER_MS - 30, `finish resolved ${finishedAfter} ms after the first write; the audio lasts ${data.length / BYTES_PER_MS} ms`);
        assert.equal(alive(sink.pid as number), false, 'pacat has exited');
        const { at, bytes } = await recorded(recording, data);
        await recording.stop();
        assert.ok(bytes.subarray(at, at + data.length).equals(data), `sink "${sinkName}": the recording holds the played bytes exactly`);
        assert.ok(bytes.subarray(0, at).every((b) => b === 0), 'silence before');
      }
    });

    it('abort stops at once: pacat killed, its stream gone, the rest never played', async () => {
      const recording = await server.record();
      const data = noise(BYTES_PER_MS * 3000, 9); // 3 s, more than the pipe holds
      const sink = new PulseSink(F24, { server: address, sink: '', env: server.env });
      void writeAll(sink, data).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal((await server.sinkInputs()).length, 1, 'the stream is on the server while it plays');
      const started = Date.now();
      await sink.abort();
      const took = Date.now() - started;
      assert.ok(took < 300, `abort took ${took} ms`);
      assert.equal(alive(sink.pid as number), false);
      assert.deepEqual(await server.sinkInputs(), []);
      await new Promise((r) => setTimeout(r, 300));
      const bytes = await recording.stop();
      const at = bytes.indexOf(data.subarray(0, 64));
      assert.ok(at >= 0, 'the start was played');
      let played = 0;
      while (at + played + 2 <= bytes.length && played < data.length && bytes.readInt16LE(at + played) === data.readInt16LE(played)) played += 2;
      const playedMs = played / BYTES_PER_MS;
      assert.ok(playedMs > 200 && playedMs < 1000, `${playedMs} ms of the 3000 ms were played before the abort at ~400 ms`);
    });

    it('an unknown sink is a clear error, before anything plays', async () => {
      const sink = new PulseSink(F24, { server: address, sink: 'no-such-sink', env: server.env });
      const err = await failure(sink, noise(4800));
      assert.ok(err instanceof DeviceError);
      assert.equal(err.code, 'DeviceOpenFailed');
      assert.equal(err.message, `the sound server at ${address} has no sink "no-such-sink" (pacat: Stream error: No such entity): choose a Device the list offers`);
    });

    it('a server that is not there is a clear error', async () => {
      const sink = new PulseSink(F24, { server: 'unix:/nonexistent/pulse/native', sink: '', env: server.env });
      const err = await failure(sink, noise(4800));
      assert.ok(err instanceof DeviceError);
      assert.equal(err.code, 'DeviceOpenFailed');
      assert.match(err.message, /^pacat could not connect to the sound server at unix:\/nonexistent\/pulse\/native: .*Connection refused/);
    });

    describe('backend selection', () => {
      const noProbe = (): Promise<{ usable: false; failure: 'not-installed'; reason: string }> => Promise.resolve({ usable: false, failure: 'not-installed', reason: 'addon not installed' });
      const deps = (env: NodeJS.ProcessEnv): BackendDeps => ({ ...defaultBackendDeps, probe: noProbe, env });
      const nowhere = (): NodeJS.ProcessEnv => ({ ...server.env, PULSE_SERVER: 'unix:/nonexistent/pulse/native' });

      it('auto with the default output and a reachable server plays through it, without probing ALSA', async () => {
        let probed = false;
        const selector = new BackendSelector('auto', '', () => 2400, { ...deps(server.env), probe: () => ((probed = true), noProbe()) });
        assert.deepEqual(await selector.ready(), { backend: 'pulse' });
        assert.equal(probed, false);
        const recording = await server.record();
        const sink = await selector.open(F24);
        assert.equal(sink.backend, 'pulse');
        const data = noise(BYTES_PER_MS * 300, 11);
        await writeAll(sink, data);
        await sink.finish();
        const { at, bytes } = await recorded(recording, data);
        await recording.stop();
        assert.ok(bytes.subarray(at, at + data.length).equals(data));
      });

      it('auto with pulse:<sink> plays on that sink; with an ALSA name it stays with ALSA', async () => {
        const named = new BackendSelector('auto', 'pulse:announce', () => 2400, deps(server.env));
        assert.deepEqual(await named.ready(), { backend: 'pulse' });
        const sink = await named.open(F24);
        assert.equal(sink.backend, 'pulse');
        await sink.abort();
        const alsa = new BackendSelector('auto', 'hw:0', () => 2400, deps(server.env));
        assert.deepEqual(await alsa.ready(), { backend: 'aplay', speakerProblem: 'addon not installed' });
      });

      it('auto without a server is exactly the ALSA choice of before, with nothing to say about the server', async () => {
        const selector = new BackendSelector('auto', '', () => 2400, deps(nowhere()));
        assert.deepEqual(await selector.ready(), { backend: 'aplay', speakerProblem: 'addon not installed' });
      });

      it('auto with a server but no pacat plays through ALSA and says why not the server', async () => {
        const selector = new BackendSelector('auto', '', () => 2400, { ...deps(server.env), pacatCommand: 'pacat-not-installed-here' });
        assert.deepEqual(await selector.ready(), { backend: 'aplay', speakerProblem: 'addon not installed', serverProblem: 'pacat-not-installed-here not found: install pulseaudio-utils' });
      });

      it('pulse mode refuses an ALSA Device: the status says what it accepts, and open never plays through ALSA', async () => {
        const selector = new BackendSelector('pulse', 'hw:0', () => 2400, deps(server.env));
        const expected = 'the sound server backend plays on Device blank (its default sink), "pulse" or "pulse:<sink>" (got "hw:0"): choose one of the server\'s sinks, or an ALSA backend for an ALSA device';
        assert.deepEqual(await selector.ready(), { backend: undefined, serverProblem: expected });
        await assert.rejects(selector.open(F24), (err: DeviceError) => err.code === 'DeviceOpenFailed' && err.message === expected);
        for (const device of ['', 'pulse', 'pulse:announce']) assert.equal((await new BackendSelector('pulse', device, () => 2400, deps(server.env)).ready()).backend, 'pulse', device);
      });

      it('pulse mode without a server: nothing plays, and it says where it looked; a server found later is used', async () => {
        const env = nowhere();
        const selector = new BackendSelector('pulse', '', () => 2400, deps(env));
        assert.deepEqual(await selector.ready(), { backend: undefined, serverProblem: 'no sound server answers at unix:/nonexistent/pulse/native' });
        await assert.rejects(selector.open(F24), (err: DeviceError) => err.code === 'DeviceOpenFailed' && /cannot play through the sound server: no sound server answers/.test(err.message));
        env.PULSE_SERVER = server.server;
        const sink = await selector.open(F24);
        assert.equal(sink.backend, 'pulse');
        assert.deepEqual(selector.info(), { backend: 'pulse' });
        await sink.abort();
      });

      it('auto: a server gone since deploy, or a pacat that cannot connect, hands over to ALSA for good', async () => {
        const env = { ...server.env };
        const selector = new BackendSelector('auto', '', () => 2400, deps(env));
        assert.equal((await selector.ready()).backend, 'pulse');
        // pacat failed to connect before it played: the player asks whether to try another backend.
        const sink = new PulseSink(F24, { server: 'unix:/nonexistent/pulse/native', sink: '', env });
        const err = await failure(sink, noise(4800));
        assert.equal(selector.fallBack(sink, err), true);
        const fallback = await selector.open(F24);
        assert.equal(fallback.backend, 'aplay');
        await fallback.abort();
        assert.deepEqual(selector.info(), { backend: 'aplay', speakerProblem: 'addon not installed', serverProblem: err.message });
        // A server that stops answering between deploy and the next open: ALSA at once, no pacat tried.
        const other = new BackendSelector('auto', '', () => 2400, deps(env));
        assert.equal((await other.ready()).backend, 'pulse');
        env.PULSE_SERVER = 'unix:/nonexistent/pulse/native2';
        const alsa = await other.open(F24);
        assert.equal(alsa.backend, 'aplay');
        await alsa.abort();
        assert.equal(other.info().serverProblem, 'no sound server answers at unix:/nonexistent/pulse/native2');
      });

      it('auto: a server whose socket answers but refuses pacat is left after one try, for the node\'s life; the player hands the audio to ALSA', async () => {
        // The probe says the socket accepts; pacat, sent to it, is refused before it played anything.
        let probes = 0;
        const refusing: BackendDeps = {
          ...deps(server.env),
          findServer: () => {
            probes++;
            return Promise.resolve({ reachable: true, address: { server: 'unix:/nonexistent/pulse/native', path: '/nonexistent/pulse/native' } });
          },
          aplayCommand: 'aplay-not-installed-here',
          // pactl, asked at deploy, found the server willing (it changed its mind before pacat came).
          pactlCommand: 'true',
        };
        const selector = new BackendSelector('auto', '', () => 2400, refusing);
        assert.equal((await selector.ready()).backend, 'pulse');
        const opened: string[] = [];
        const reports: { id: string; backend: string | undefined; error: string | undefined }[] = [];
        const warnings: string[] = [];
        const player = new PcmPlayer<string>(
          {
            gainPercent: 100,
            prebufferMs: 0,
            queueMode: 'queue',
            maxBufferedMs: 60_000,
            // Longer than pacat takes to fail: nothing was heard (by the clock) when it does, so the audio is handed over.
            leadInMs: 1000,
            openSink: async (format) => {
              const sink = await selector.open(format);
              opened.push(sink.backend);
              return sink;
            },
            fallBack: (sink, err) => selector.fallBack(sink, err),
          },
          {
            finished: (r) => reports.push({ id: r.id, backend: r.backend, error: r.error?.message }),
            started: () => undefined,
            warn: (t) => warnings.push(t),
            deviceError: () => undefined,
            changed: () => undefined,
          },
        );
        const chunk = (): Chunk<string> => ({ payload: noise(BYTES_PER_MS * 300), audio: { format: 'pcm', sampleRate: 24000, channels: 1, bitDepth: 16 }, end: true, first: () => ({ meta: '' }) });
        try {
          player.push('a', chunk());
          for (let i = 0; i < 100 && reports.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
          player.push('b', chunk());
          for (let i = 0; i < 100 && reports.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
        } finally {
          await player.close();
        }
        assert.deepEqual(opened, ['pulse', 'aplay', 'aplay'], 'pacat once; a, and b after it, go to ALSA');
        assert.equal(probes, 2, 'the server was asked at deploy and at the first open, never again');
        assert.match(warnings[0] ?? '', /^pacat could not connect to the sound server at unix:\/nonexistent\/pulse\/native: .*Connection refused; falling back to ALSA$/);
        // This machine's "ALSA" is a missing aplay: the utterances fail there, with ALSA's reason, not the server's.
        assert.deepEqual(
          reports.map((r) => [r.id, r.backend, r.error]),
          [
            ['a', undefined, 'aplay-not-installed-here not found: install alsa-utils (apt-get install alsa-utils)'],
            ['b', undefined, 'aplay-not-installed-here not found: install alsa-utils (apt-get install alsa-utils)'],
          ],
        );
        assert.equal(selector.info().serverProblem, warnings[0]?.replace(/; falling back to ALSA$/, ''));
      });

      it('auto: a server that refuses this user (its socket answers, its cookie is missing) is left at deploy, before any audio', async () => {
        const refusing = server.refusingEnv();
        const selector = new BackendSelector('auto', '', () => 2400, deps(refusing));
        const info = await selector.ready();
        assert.equal(info.backend, 'aplay');
        assert.match(info.serverProblem ?? '', /^the sound server at tcp:127\.0\.0\.1:\d+ refuses this user: .*Access denied/);
        const sink = await selector.open(F24);
        assert.equal(sink.backend, 'aplay', 'no pacat was started');
        await sink.abort();
        // The same server, asked by its own user: accepted, played through.
        assert.equal((await new BackendSelector('auto', '', () => 2400, deps(server.env)).ready()).backend, 'pulse');
      });

      it('a pacat failing while it plays is not a reason to change backend; pulse mode never changes', async () => {
        const auto = new BackendSelector('auto', '', () => 2400, deps(server.env));
        await auto.ready();
        const sink = await auto.open(F24);
        assert.equal(auto.fallBack(sink, new DeviceError('DeviceFailed', 'pacat exited')), false);
        await sink.abort();
        const pulse = new BackendSelector('pulse', '', () => 2400, deps(server.env));
        await pulse.ready();
        const own = await pulse.open(F24);
        assert.equal(pulse.fallBack(own, new DeviceError('DeviceOpenFailed', 'refused')), false);
        await own.abort();
      });
    });
  });
});

