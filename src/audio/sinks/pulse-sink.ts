import type { BitDepth, PcmFormat } from '../pcm-format';
import { ProcessSink } from './process-sink';
import { DeviceError } from './sink';

const PACAT_FORMATS: Record<BitDepth, string> = { 8: 'u8', 16: 's16le', 24: 's24le', 32: 's32le' };

/**
 * The sound server's buffer for our stream (pacat --latency-msec): what it holds before it starts
 * and at most while playing. pacat refills it from its stdin pipe in its own main loop, and with
 * 60 ms a loaded machine (load 4 on 2 cores) let it run dry now and then: the server then plays
 * silence and waits for the buffer to fill again, an audible gap mid-sentence. 100 ms had none in
 * the same runs (pacat from a file never underran even at 60 ms: it is the pipe). A stop is a kill,
 * so this is not how late a stop is heard; it is about how much later than the player's clock the
 * audio may be heard, which "finished" follows (measured in test/e2e/pcm-speaker-pulse.test.ts).
 */
export const PACAT_LATENCY_MS = 100;

/** The Device field's name for a sound-server sink: `pulse:<sink>`; `pulse` alone is the server's default sink. */
export const PULSE_DEVICE_PREFIX = 'pulse:';

/**
 * The sink a Device value names on the sound server: '' (the server's default) for `pulse`, the
 * name after `pulse:` (the same thing ALSA's pulse plugin means by that name), else undefined (an
 * ALSA name). '' itself is undefined here: only the backend choice makes it the server's default.
 */
export function pulseSinkOf(device: string): string | undefined {
  if (device === 'pulse') return '';
  if (device.startsWith(PULSE_DEVICE_PREFIX)) return device.slice(PULSE_DEVICE_PREFIX.length);
  return undefined;
}

export interface PulseTarget {
  /** The server address the probe reached, passed as --server so that libpulse never autospawns a daemon. */
  server: string;
  /** '' for the server's default sink. */
  sink: string;
  /** The environment pacat runs with (its cookie and runtime folders come from it). */
  env?: NodeJS.ProcessEnv;
}

export function pacatArgs(format: PcmFormat, target: PulseTarget, latencyMs = PACAT_LATENCY_MS): string[] {
  return [
    '--playback',
    '--raw',
    `--format=${PACAT_FORMATS[format.bitDepth]}`,
    `--rate=${format.sampleRate}`,
    `--channels=${format.channels}`,
    `--latency-msec=${latencyMs}`,
    `--server=${target.server}`,
    '--client-name=Node-RED',
    '--stream-name=pcm-speaker',
    ...(target.sink ? [`--device=${target.sink}`] : []),
    // No file argument: pacat reads stdin (it would open a file named "-").
  ];
}

function sinkLabel(sink: string): string {
  return sink === '' ? 'default sink' : `sink "${sink}"`;
}

/** pacat's first error line: "Stream error: No such entity", "Connection failure: Connection refused". */
export function pacatReason(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.find((l) => /error|failure|failed/i.test(l)) ?? lines.pop();
}

/** pacat's exit, in words that say what to fix. */
export function pacatError(target: PulseTarget, stderr: string, code: number | null, signal: NodeJS.Signals | null): DeviceError {
  const reason = pacatReason(stderr) ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
  if (/No such entity/i.test(reason)) {
    return new DeviceError('DeviceOpenFailed', `the sound server at ${target.server} has no ${sinkLabel(target.sink)} (pacat: ${reason}): choose a Device the list offers`);
  }
  // "Connection failure: Connection terminated" is the server going away while pacat played: a
  // failure of a stream that was heard, not one that never connected (no other backend is tried).
  if (/Connection terminated/i.test(reason)) {
    return new DeviceError('DeviceFailed', `the sound server at ${target.server} went away while pacat played: ${reason}`);
  }
  if (/Connection (refused|failure)|pa_context_connect|Access denied/i.test(reason)) {
    return new DeviceError('DeviceOpenFailed', `pacat could not connect to the sound server at ${target.server}: ${reason}`);
  }
  return new DeviceError('DeviceFailed', `pacat could not play on the sound server's ${sinkLabel(target.sink)}: ${reason}`);
}

/**
 * Plays through the PulseAudio or PipeWire sound server with a `pacat` child reading raw PCM on
 * stdin (sound-server.ts says why pacat). Same semantics as aplay (ProcessSink): a write settles
 * when the pipe took it, abort kills the child (the server drops the stream and what it held),
 * finish ends stdin and pacat exits once the server has played the rest.
 */
export class PulseSink extends ProcessSink {
  constructor(format: PcmFormat, target: PulseTarget, command = 'pacat', latencyMs = PACAT_LATENCY_MS) {
    super(format, {
      backend: 'pulse',
      command,
      args: pacatArgs(format, target, latencyMs),
      env: target.env,
      installHint: 'install pulseaudio-utils (apt-get install pulseaudio-utils)',
      exitError: (stderr, code, signal) => pacatError(target, stderr, code, signal),
    });
  }
}
