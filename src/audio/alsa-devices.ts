import { execFile } from 'node:child_process';

export interface AlsaDevice {
  /** What goes into the node's Device field (and `aplay -D`, speaker's `device`). */
  name: string;
  description: string;
}

/** Parses `aplay -L`: a pcm name at the start of a line, its description indented below it. */
export function parseAplayList(text: string): AlsaDevice[] {
  const devices: AlsaDevice[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      const last = devices[devices.length - 1];
      if (last) last.description = last.description ? `${last.description} — ${line.trim()}` : line.trim();
    } else {
      devices.push({ name: line.trim(), description: '' });
    }
  }
  return devices;
}

/** The ALSA pcms this machine offers, for the editor's device picker. Never rejects. */
export function listAlsaDevices(command = 'aplay', timeoutMs = 5000): Promise<{ devices: AlsaDevice[]; error?: string }> {
  return new Promise((resolve) => {
    execFile(command, ['-L'], { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ devices: [], error: `${command} not found: install alsa-utils to list devices` });
        return;
      }
      const devices = parseAplayList(stdout);
      if (err && devices.length === 0) resolve({ devices, error: stderr.trim().split('\n').pop() || err.message });
      else resolve({ devices });
    });
  });
}
