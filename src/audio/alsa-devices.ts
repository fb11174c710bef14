import { execFile, type ExecFileException } from 'node:child_process';
import { parseAplayCards, parseAplayList } from './alsa-lists';
import { DEFAULT_CHOICE, deviceChoices, type DeviceChoice } from './device-choices';
import { aplayReason } from './sinks/aplay-sink';

/**
 * Why the list is short, as a code the editor has a text for in each language: aplay not
 * installed, no sound card, aplay giving no answer in time, aplay failing.
 */
export type DeviceListReason = 'missing' | 'noCards' | 'timeout' | 'failed';

export interface AlsaDeviceList {
  devices: DeviceChoice[];
  /** What kept the list short, in detail (aplay's own words where it failed). The list still has "default". */
  error?: string;
  /** The same, as a code (with `error`). */
  reason?: DeviceListReason;
}

interface AplayOutput {
  stdout: string;
  missing?: true;
  error?: string;
  timedOut?: true;
}

/** One aplay run, asynchronous and bounded: the editor waits for it, Node-RED's event loop never does. */
function runAplay(command: string, flag: '-l' | '-L', timeoutMs: number): Promise<AplayOutput> {
  return new Promise((resolve) => {
    const done = (err: ExecFileException | null, stdout: string, stderr: string): void => {
      if (!err) resolve({ stdout });
      else if (err.code === 'ENOENT') resolve({ stdout: '', missing: true });
      else if (err.killed) resolve({ stdout, error: `${command} ${flag} gave no answer within ${timeoutMs} ms`, timedOut: true });
      else resolve({ stdout, error: aplayReason(stderr) || err.message });
    };
    try {
      // The C locale: `aplay -l` translates its "card"/"device" words, which the parser reads.
      execFile(command, [flag], { timeout: timeoutMs, maxBuffer: 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, done);
    } catch (err) {
      resolve({ stdout: '', error: err instanceof Error ? err.message : String(err) });
    }
  });
}

/**
 * The devices this machine can play on, for the editor's device picker: the sound cards from
 * `aplay -l`, named by the pcms `aplay -L` offers for them (device-choices.ts). Both run at once.
 * Never rejects: whatever fails, "default" is offered and `error` says what is missing.
 */
export async function listAlsaDevices(command = 'aplay', timeoutMs = 5000): Promise<AlsaDeviceList> {
  const [cards, pcms] = await Promise.all([runAplay(command, '-l', timeoutMs), runAplay(command, '-L', timeoutMs)]);
  if (cards.missing || pcms.missing) {
    return { devices: [{ ...DEFAULT_CHOICE }], error: `${command} not found: install alsa-utils to list devices`, reason: 'missing' };
  }
  const cardList = parseAplayCards(cards.stdout);
  const devices = deviceChoices(cardList, parseAplayList(pcms.stdout));
  const failed = pcms.error !== undefined ? pcms : cards.error !== undefined ? cards : undefined;
  if (failed) return { devices, error: failed.error, reason: failed.timedOut ? 'timeout' : 'failed' };
  if (cardList.length === 0) return { devices, error: 'no sound cards found (aplay -l lists none)', reason: 'noCards' };
  return { devices };
}
