import type { NodeAPI } from 'node-red';
import { listAlsaDevices, type AlsaDeviceList } from '../../audio/alsa-devices';
import type { DeviceChoice } from '../../audio/device-choices';
import { PULSE_DEVICE_PREFIX } from '../../audio/sinks/pulse-sink';
import { listServerSinks, type ServerReason, type SinkList } from '../../audio/sound-server';

/** A sound-server sink in the picker: its Device value is `pulse:<sink>`. */
export interface ServerDeviceChoice extends DeviceChoice {
  server: true;
}

export interface DevicesAnswer extends AlsaDeviceList {
  devices: (DeviceChoice | ServerDeviceChoice)[];
  /**
   * Whether a sound server answered, and if its sinks are not listed, why (noServer, noPacat,
   * failed: `reason`, shown in the editor's language) and in detail (`error`, its tooltip).
   */
  server: { reachable: boolean; reason?: ServerReason; error?: string };
}

/** The picker's list: "default", then the sound server's sinks, then the ALSA cards and the rest. */
export function devicesAnswer(alsa: AlsaDeviceList, server: SinkList): DevicesAnswer {
  const sinks: ServerDeviceChoice[] = server.sinks.map((s) => ({ name: `${PULSE_DEVICE_PREFIX}${s.name}`, label: s.description, more: false, server: true }));
  const [first, ...rest] = alsa.devices;
  return {
    ...alsa,
    devices: first ? [first, ...sinks, ...rest] : sinks,
    server: {
      reachable: server.server !== undefined,
      ...(server.reason ? { reason: server.reason } : {}),
      ...(server.error ? { error: server.error } : {}),
    },
  };
}

/**
 * GET <httpAdminRoot>/pcm-speaker/devices, for the editor's device picker:
 * `{ devices: [{ name, label, more, description?, server? }], error?, reason?, server }` with
 * "default" first, then the sinks of the sound server Node-RED's user can reach (`server: true`,
 * named `pulse:<sink>`), then the sound cards by name, then the configuration's other pcms
 * (`more: true`). Always 200: a machine without aplay or without sound cards still gets
 * "default", an `error` saying what is missing and its `reason` code (missing, noCards, timeout,
 * failed), which the dialog shows in the editor's language; `server.reason` says why no sink of
 * a sound server is listed (noServer, noPacat, failed) and `server.error` the same in detail (a
 * reachable server with a reason is one that cannot be played through or listed). Without a
 * server the answer is as quick as before: finding none is a socket connect that fails at once.
 * Read-only, for users who may read pcm-speaker nodes.
 */
export function registerDevicesEndpoint(RED: NodeAPI): void {
  RED.httpAdmin.get('/pcm-speaker/devices', RED.auth.needsPermission('pcm-speaker.read'), (_req, res) => {
    void Promise.all([listAlsaDevices(), listServerSinks(process.env)]).then(([alsa, server]) => res.json(devicesAnswer(alsa, server)));
  });
}
