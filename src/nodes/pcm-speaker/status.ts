import type { NodeStatus } from 'node-red';
import type { BackendInfo } from '../../audio/backend-selector';
import type { BackendName } from '../../audio/sinks/sink';
import type { StatusText } from '../shared/status-text';

export interface StatusInput {
  /** Set while the backend is being probed. */
  probing: boolean;
  info: BackendInfo;
  /** The backend of the device in use or last used (auto mode may have fallen back since the probe). */
  playingBackend: BackendName | undefined;
  /** Utterances accepted and not yet reported, the one playing included. */
  pending: number;
  /** The last problem, until an utterance plays to its end. */
  problem: string | undefined;
  /** The default device cannot work (the probe found none) and no other device is set. */
  noDefaultDevice: boolean;
}

const MAX_TEXT = 100;

function short(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 3)}...` : text;
}

/** What the node shows under itself: the backend in use always, and what is wrong when something is. */
export function speakerStatus(s: StatusInput, statusLine: StatusText): NodeStatus {
  const backend = s.playingBackend ?? s.info.backend;
  if (s.pending > 0) {
    const playing = backend ?? '…';
    return { fill: 'green', shape: 'dot', text: s.pending > 1 ? statusLine('playingQueued', { backend: playing, queued: s.pending - 1 }) : statusLine('playing', { backend: playing }) };
  }
  if (s.problem) return { fill: 'red', shape: 'ring', text: short(s.problem) };
  if (s.probing) return { fill: 'grey', shape: 'ring', text: statusLine('checking') };
  if (s.noDefaultDevice) return { fill: 'red', shape: 'ring', text: statusLine('noDefaultDevice') };
  if (!backend && s.info.serverProblem !== undefined && s.info.speakerProblem === undefined) {
    return { fill: 'red', shape: 'ring', text: short(statusLine('serverUnusable', { reason: s.info.serverProblem })) };
  }
  if (!backend) return { fill: 'red', shape: 'ring', text: short(statusLine('unusable', { reason: s.info.speakerProblem ?? 'unknown reason' })) };
  // Auto mode wanted the sound server (it answered) and plays through ALSA instead: the user expects the server.
  if (backend !== 'pulse' && s.info.serverProblem !== undefined) return { fill: 'yellow', shape: 'ring', text: short(statusLine('readyNoServer', { backend, reason: s.info.serverProblem })) };
  if (backend === 'aplay' && s.info.speakerProblem) return { fill: 'yellow', shape: 'ring', text: short(statusLine('readyAplay', { reason: s.info.speakerProblem })) };
  return { fill: 'grey', shape: 'dot', text: statusLine('ready', { backend }) };
}
