// Finding the PulseAudio/PipeWire server a client would use, and listing its sinks: the address
// rules from the environment, a fast "no" where nothing answers, and a real pulseaudio started by
// the test (test/support/pulse-server.ts) for the sinks with their descriptions.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, findServer, listServerSinks, parseSinksJson, parseSinksText, serverAddresses } from '../../src/audio/sound-server';
import { ANNOUNCE_DESCRIPTION, OTHER_DESCRIPTION, PulseServer, alive } from '../support/pulse-server';
import { requireSystem } from '../support/system-deps';

describe('sound server: where it is and what it offers', function () {
  this.timeout(20_000);

  describe('addresses from the environment', () => {
    it('PULSE_SERVER in each of its forms, in order', () => {
      const env = { PULSE_SERVER: 'unix:/run/pulse/native /tmp/other/native tcp:speaker.lan:4714 tcp:10.0.0.2 kitchen {abc123}unix:/x/native tcp6:[::1]:4715' };
      assert.deepEqual(serverAddresses(env, 1000), [
        { server: 'unix:/run/pulse/native', path: '/run/pulse/native' },
        { server: 'unix:/tmp/other/native', path: '/tmp/other/native' },
        { server: 'tcp:speaker.lan:4714', host: 'speaker.lan', port: 4714 },
        { server: 'tcp:10.0.0.2', host: '10.0.0.2', port: 4713 },
        { server: 'kitchen', host: 'kitchen', port: 4713 },
        { server: 'unix:/x/native', path: '/x/native' },
        { server: 'tcp6:[::1]:4715', host: '::1', port: 4715 },
      ]);
    });

    it('else $XDG_RUNTIME_DIR/pulse/native, else /run/user/<uid>/pulse/native', () => {
      assert.deepEqual(serverAddresses({ XDG_RUNTIME_DIR: '/run/user/1001' }, 1001), [{ server: 'unix:/run/user/1001/pulse/native', path: '/run/user/1001/pulse/native' }]);
      assert.deepEqual(serverAddresses({}, 1002), [{ server: 'unix:/run/user/1002/pulse/native', path: '/run/user/1002/pulse/native' }]);
      assert.deepEqual(serverAddresses({ PULSE_SERVER: '  ', XDG_RUNTIME_DIR: '/r' }, 0), [{ server: 'unix:/r/pulse/native', path: '/r/pulse/native' }]);
    });
  });

  describe('reachability', () => {
    let dir: string;
    let listener: Server;
    let socket: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sound-server-test-'));
      socket = join(dir, 'listening');
      listener = createServer((c) => c.destroy());
      await new Promise<void>((resolve) => listener.listen(socket, resolve));
    });

    after(async () => {
      await new Promise((resolve) => listener.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    });

    it('a socket that accepts is reachable; a missing or dead one is not, at once', async () => {
      assert.equal(await canConnect({ server: `unix:${socket}`, path: socket }), true);
      const stale = join(dir, 'stale');
      writeFileSync(stale, ''); // a socket file left by a server that is gone is not a socket at all here
      const started = Date.now();
      assert.equal(await canConnect({ server: `unix:${join(dir, 'none')}`, path: join(dir, 'none') }), false);
      assert.equal(await canConnect({ server: `unix:${stale}`, path: stale }), false);
      assert.equal(await canConnect({ server: 'tcp:127.0.0.1:1', host: '127.0.0.1', port: 1 }), false);
      assert.ok(Date.now() - started < 300, `took ${Date.now() - started} ms`);
    });

    it('a host that never answers is given up within the timeout', async () => {
      // 192.0.2.0/24 is TEST-NET-1: nothing answers there (or the route is refused at once).
      const started = Date.now();
      assert.equal(await canConnect({ server: 'tcp:192.0.2.1', host: '192.0.2.1', port: 4713 }, 200), false);
      assert.ok(Date.now() - started < 400, `took ${Date.now() - started} ms`);
    });

    it('the first address of a list that answers wins; none answering says where it looked', async () => {
      const missing = join(dir, 'missing');
      const found = await findServer({ PULSE_SERVER: `unix:${missing} unix:${socket}` });
      assert.deepEqual(found, { reachable: true, address: { server: `unix:${socket}`, path: socket } });
      assert.deepEqual(await findServer({ PULSE_SERVER: `unix:${missing}` }), { reachable: false, tried: [`unix:${missing}`] });
    });

    it('listing without a server answers quickly with noServer, never runs pactl', async () => {
      const started = Date.now();
      const list = await listServerSinks({ PULSE_SERVER: `unix:${join(dir, 'nothing-here')}`, PATH: '' }, { pacat: 'pacat', pactl: 'pactl-must-not-run' });
      assert.ok(Date.now() - started < 300, `took ${Date.now() - started} ms`);
      assert.deepEqual(list, { sinks: [], reason: 'noServer', error: `no sound server answers at unix:${join(dir, 'nothing-here')}` });
    });

    it('a server without pacat on PATH is reachable but not listed: noPacat', async () => {
      const list = await listServerSinks({ PULSE_SERVER: `unix:${socket}`, PATH: dir }, { pacat: 'pacat', pactl: 'pactl' });
      assert.equal(list.reason, 'noPacat');
      assert.equal(list.server, `unix:${socket}`);
      assert.deepEqual(list.sinks, []);
      assert.match(list.error ?? '', /pacat not found: install pulseaudio-utils/);
    });
  });

  describe('parsing pactl', () => {
    it('reads names and descriptions from the JSON form and from the text form of older pactl', () => {
      assert.deepEqual(parseSinksJson('[{"index":0,"name":"a","description":"Speaker A"},{"index":1,"name":"b","description":""},{"index":2}]'), [
        { name: 'a', description: 'Speaker A' },
        { name: 'b', description: 'b' },
      ]);
      assert.equal(parseSinksJson('Sink #0'), undefined);
      const text = 'Sink #0\n\tState: IDLE\n\tName: alsa_output.usb\n\tDescription: USB Speaker\n\tDriver: x\n\tProperties:\n\t\tdevice.description = "USB Speaker"\n\nSink #1\n\tName: hdmi\n\tDriver: y\n';
      assert.deepEqual(parseSinksText(text), [
        { name: 'alsa_output.usb', description: 'USB Speaker' },
        { name: 'hdmi', description: 'hdmi' },
      ]);
    });
  });

  describe('a real pulseaudio', () => {
    requireSystem('pulseaudio');
    let server: PulseServer;

    before(async () => {
      server = await PulseServer.start();
    });

    after(async () => {
      const pids = server?.pids ?? [];
      await server?.stop();
      assert.deepEqual(pids.filter(alive), [], 'no process of the test server is left');
    });

    it('is found through PULSE_SERVER, and its sinks are listed by name with their descriptions', async () => {
      const found = await findServer(server.env);
      assert.equal(found.reachable, true);
      const list = await listServerSinks(server.env);
      assert.deepEqual(list, {
        server: server.server,
        sinks: [
          { name: 'announce', description: ANNOUNCE_DESCRIPTION },
          { name: 'other', description: OTHER_DESCRIPTION },
        ],
      });
    });

    it('is found at $XDG_RUNTIME_DIR/pulse/native, where a desktop session puts it', async () => {
      const runtime = mkdtempSync(join(tmpdir(), 'runtime-'));
      try {
        mkdirSync(join(runtime, 'pulse'));
        symlinkSync(server.server.slice('unix:'.length), join(runtime, 'pulse', 'native'));
        const env = { ...server.env, PULSE_SERVER: undefined, XDG_RUNTIME_DIR: runtime };
        const list = await listServerSinks(env);
        assert.deepEqual(list.sinks.map((s) => s.name), ['announce', 'other']);
        assert.equal(list.server, `unix:${join(runtime, 'pulse', 'native')}`);
      } finally {
        rmSync(runtime, { recursive: true, force: true });
      }
    });

    it('a pactl that fails is an answer with reason failed, not a throw', async () => {
      const bin = mkdtempSync(join(tmpdir(), 'bad-pactl-'));
      try {
        const fake = join(bin, 'pactl');
        writeFileSync(fake, '#!/bin/sh\necho "Connection failure: Access denied" >&2\nexit 1\n');
        chmodSync(fake, 0o755);
        symlinkSync('/usr/bin/pacat', join(bin, 'pacat'));
        const list = await listServerSinks({ ...server.env, PATH: `${bin}:/bin:/usr/bin` }, { pacat: join(bin, 'pacat'), pactl: fake });
        assert.deepEqual(list, { sinks: [], server: server.server, reason: 'failed', error: 'Connection failure: Access denied' });
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });
  });
});
