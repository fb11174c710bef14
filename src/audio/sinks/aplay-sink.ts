import type { BitDepth, PcmFormat } from '../pcm-format';
import { ProcessSink } from './process-sink';
import { DeviceError, deviceLabel } from './sink';

const APLAY_FORMATS: Record<BitDepth, string> = { 8: 'U8', 16: 'S16_LE', 24: 'S24_3LE', 32: 'S32_LE' };

export function aplayArgs(format: PcmFormat, device: string): string[] {
  return [
    '-q',
    '-t',
    'raw',
    '-f',
    APLAY_FORMATS[format.bitDepth],
    '-c',
    String(format.channels),
    '-r',
    String(format.sampleRate),
    ...(device ? ['-D', device] : []),
    '-',
  ];
}

/** aplay's last stderr line without its source location: "audio open error: No such file or directory". */
export function aplayReason(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines.filter((l) => l.startsWith('aplay:')).pop() ?? lines.pop();
  return line?.replace(/^aplay:\s*(?:[\w]+:\d+:\s*)?/, '');
}

/**
 * Plays through an `aplay` child process reading raw PCM on stdin: works wherever alsa-utils is
 * installed. The child's handling (pipe backpressure, kill on abort) is ProcessSink's.
 */
export class AplaySink extends ProcessSink {
  constructor(format: PcmFormat, device: string, command = 'aplay') {
    super(format, {
      backend: 'aplay',
      command,
      args: aplayArgs(format, device),
      installHint: 'install alsa-utils (apt-get install alsa-utils)',
      exitError: (stderr, code, signal) => {
        const reason = aplayReason(stderr) ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
        const errorCode = /open error/i.test(reason) ? 'DeviceOpenFailed' : 'DeviceFailed';
        return new DeviceError(errorCode, `aplay could not play on ALSA device "${deviceLabel(device)}": ${reason}`);
      },
    });
  }
}
