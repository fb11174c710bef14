import { BACKEND_CHOICES, type BackendChoice } from '../../audio/backend-selector';
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
}

export interface PcmSpeakerSettings {
  /** ALSA pcm name; '' is the default device. */
  device: string;
  backend: BackendChoice;
  /** Software gain in percent, 100 = unchanged. */
  volume: number;
  prebufferMs: number;
  queue: QueueMode;
  stallMs: number;
}

export const DEFAULT_VOLUME = 100;
export const MAX_VOLUME = 200;
export const DEFAULT_PREBUFFER_MS = 200;
export const MAX_PREBUFFER_MS = 5000;
export const MIN_STALL_TIMEOUT_S = 0.1;
export const MAX_STALL_TIMEOUT_S = 600;

function numberIn(value: number | string | undefined, fallback: number, min: number, max: number, what: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${what} must be a number from ${min} to ${max} (got "${String(value)}")`);
  return n;
}

/** Checked once at deploy; throws with a message fit for the node's status. */
export function resolveSettings(props: PcmSpeakerProps): PcmSpeakerSettings {
  const backend = (props.backend ?? 'auto') as BackendChoice;
  const queue = (props.queue ?? 'queue') as QueueMode;
  if (!BACKEND_CHOICES.includes(backend)) throw new Error(`backend must be auto, speaker or aplay (got "${String(props.backend)}")`);
  if (!QUEUE_MODES.includes(queue)) throw new Error(`queue must be queue, replace or ignore (got "${String(props.queue)}")`);
  return {
    device: String(props.device ?? '').trim(),
    backend,
    volume: numberIn(props.volume, DEFAULT_VOLUME, 0, MAX_VOLUME, 'volume'),
    prebufferMs: numberIn(props.prebufferMs, DEFAULT_PREBUFFER_MS, 0, MAX_PREBUFFER_MS, 'pre-buffer'),
    queue,
    stallMs: Math.round(numberIn(props.stallTimeout, STALL_MS / 1000, MIN_STALL_TIMEOUT_S, MAX_STALL_TIMEOUT_S, 'stall timeout') * 1000),
  };
}
