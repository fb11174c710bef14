import type { NodeAPI } from 'node-red';
import { listAlsaDevices } from '../../audio/alsa-devices';

/**
 * GET <httpAdminRoot>/pcm-speaker/devices: the ALSA pcms `aplay -L` lists, for the editor's device
 * picker. Read-only, for users who may read pcm-speaker nodes.
 */
export function registerDevicesEndpoint(RED: NodeAPI): void {
  RED.httpAdmin.get('/pcm-speaker/devices', RED.auth.needsPermission('pcm-speaker.read'), (_req, res) => {
    void listAlsaDevices().then((result) => res.json(result));
  });
}
