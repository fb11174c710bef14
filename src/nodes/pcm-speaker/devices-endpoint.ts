import type { NodeAPI } from 'node-red';
import { listAlsaDevices } from '../../audio/alsa-devices';

/**
 * GET <httpAdminRoot>/pcm-speaker/devices, for the editor's device picker:
 * `{ devices: [{ name, label, more, description? }], error?, reason? }` with "default" first, then
 * the sound cards by name, then the configuration's other pcms (`more: true`). Always 200: a
 * machine without aplay or without sound cards still gets "default", an `error` saying what is
 * missing and its `reason` code (missing, noCards, timeout, failed), which the dialog shows in the
 * editor's language.
 * Read-only, for users who may read pcm-speaker nodes.
 */
export function registerDevicesEndpoint(RED: NodeAPI): void {
  RED.httpAdmin.get('/pcm-speaker/devices', RED.auth.needsPermission('pcm-speaker.read'), (_req, res) => {
    void listAlsaDevices().then((result) => res.json(result));
  });
}
