import { BACKEND_CHOICES, backendDeviceProblem, type BackendChoice } from '../../audio/backend-selector';
import { QUEUE_MODES, STALL_MS, type QueueMode } from '../../audio/player';

/** The node's properties as the editor stores them (numbers may arrive as strings). */
export interface PcmSpeakerProps {
  device?: string;
  backend?: string;
  volume?: number | string;
  prebufferMs?: number | string;
  queue?: string;
  /** Seconds an unfinished utterance that holds the queue may receive nothing before it is ended. */
  stallTimeout?: number | string;
  /** Played before each utterance: '' none, a built-in chime's name, or an absolute WAV file path. */
  chime?: string;
  /** Silence written each time the device opens, in ms (HDMI and Bluetooth sinks swallow the first part). */
  leadInMs?: number | string;
  /** Seconds the device stays open after the last utterance; blank: settings.js pcmSpeakerIdleCloseMs. */
  keepOpen?: number | string;
}

export interface PcmSpeakerSettings {
  /** ALSA pcm name, or `pulse` / `pulse:<sink>` for the sound server; '' is the default output. */
  device: string;
  backend: BackendChoice;
  /** Software gain in percent, 100 = unchanged. */
  volume: number;
  prebufferMs: number;
  queue: QueueMode;
  stallMs: number;
  /** The chime spec ('' none); loaded (and checked) by the node, so that a bad one never stops an alert. */
  chime: string;
  leadInMs: number;
  /** Undefined: not set on the node (settings.js decides). */
  keepOpenMs: number | undefined;
}

export const DEFAULT_VOLUME = 100;
export const MAX_VOLUME = 200;
export const DEFAULT_PREBUFFER_MS = 200;
export const MAX_PREBUFFER_MS = 5000;
export const MIN_STALL_TIMEOUT_S = 0.1;
export const MAX_STALL_TIMEOUT_S = 600;
export const MAX_LEAD_IN_MS = 5000;
/** The dialog's default keep-open time, in seconds (the player's IDLE_CLOSE_MS). */
export const DEFAULT_KEEP_OPEN_S = 2;
export const MAX_KEEP_OPEN_S = 3600;

function blank(value: number | string | undefined): value is undefined | '' {
  return value === undefined || value === null || value === '';
}

function numberIn(value: number | string | undefined, fallback: number, min: number, max: number, what: string): number {
  if (blank(value)) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${what} must be a number from ${min} to ${max} (got "${String(value)}")`);
  return n;
}

/** Checked once at deploy; throws with a message fit for the node's status. */
export function resolveSettings(props: PcmSpeakerProps): PcmSpeakerSettings {
  const backend = (props.backend ?? 'auto') as BackendChoice;
  const queue = (props.queue ?? 'queue') as QueueMode;
  if (!BACKEND_CHOICES.includes(backend)) throw new Error(`backend must be ${BACKEND_CHOICES.join(', ')} (got "${String(props.backend)}")`);
  if (!QUEUE_MODES.includes(queue)) throw new Error(`queue must be queue, replace or ignore (got "${String(props.queue)}")`);
  const device = String(props.device ?? '').trim();
  const deviceProblem = backendDeviceProblem(backend, device);
  if (deviceProblem !== undefined) throw new Error(deviceProblem);
  return {
    device,
    backend,
    volume: numberIn(props.volume, DEFAULT_VOLUME, 0, MAX_VOLUME, 'volume'),
    prebufferMs: numberIn(props.prebufferMs, DEFAULT_PREBUFFER_MS, 0, MAX_PREBUFFER_MS, 'pre-buffer'),
    queue,
    stallMs: Math.round(numberIn(props.stallTimeout, STALL_MS / 1000, MIN_STALL_TIMEOUT_S, MAX_STALL_TIMEOUT_S, 'stall timeout') * 1000),
    chime: String(props.chime ?? '').trim(),
    leadInMs: Math.round(numberIn(props.leadInMs, 0, 0, MAX_LEAD_IN_MS, 'lead-in')),
    keepOpenMs: blank(props.keepOpen) ? undefined : Math.round(numberIn(props.keepOpen, DEFAULT_KEEP_OPEN_S, 0, MAX_KEEP_OPEN_S, 'keep open') * 1000),
  };
}
