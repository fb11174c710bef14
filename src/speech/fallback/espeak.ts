import { execFile, spawn } from 'node:child_process';
import { parseWavHeader } from '../../audio/wav';
import { resampleS16 } from '../../audio/resample';

/** A speech engine on this machine, used when the service cannot be reached. */
export interface LocalVoice {
  readonly name: string;
  /** Undefined when the engine can speak; otherwise what is missing, in words for the user. */
  probe(): Promise<string | undefined>;
  /** 16-bit mono PCM at `sampleRate`. */
  synthesize(text: string, language: string, sampleRate: number): LocalSynthesis;
}

export interface LocalSynthesis {
  readonly pcm: Promise<Buffer>;
  cancel(): void;
}

const PROBE_TIMEOUT_MS = 5000;
/** Far above what a sentence takes; only a wedged process is cut off. */
const SYNTHESIS_TIMEOUT_MS = 30_000;

/**
 * espeak-ng (a Debian / Raspberry Pi OS package): text on stdin, a WAV on stdout, at its own rate
 * (22050 Hz), resampled here to what the node promised. The text goes on stdin, never on the
 * command line, so no text can be mistaken for an option.
 */
export class EspeakVoice implements LocalVoice {
  readonly name: string;

  constructor(private readonly command = 'espeak-ng') {
    this.name = command.split(/[\\/]/).pop() || command;
  }

  probe(): Promise<string | undefined> {
    return new Promise((resolve) => {
      execFile(this.command, ['--version'], { timeout: PROBE_TIMEOUT_MS }, (err) => {
        if (!err) resolve(undefined);
        else if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve(`${this.command} is not installed (sudo apt-get install espeak-ng)`);
        else resolve(`${this.command} does not run: ${err.message}`);
      });
    });
  }

  synthesize(text: string, language: string, sampleRate: number): LocalSynthesis {
    const child = spawn(this.command, ['-v', language, '--stdout'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), SYNTHESIS_TIMEOUT_MS);
    timer.unref?.();
    const pcm = new Promise<Buffer>((resolve, reject) => {
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) {
          reject(new Error(`${this.name} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no output'}`));
          return;
        }
        try {
          const wav = Buffer.concat(out);
          // espeak-ng streams its WAV with placeholder sizes: everything after the header is samples.
          const header = parseWavHeader(wav);
          if (header.format.channels !== 1 || header.format.bitDepth !== 16) throw new Error(`${this.name} produced ${header.format.channels} ch ${header.format.bitDepth}-bit audio`);
          resolve(resampleS16(wav.subarray(header.dataOffset), header.format.sampleRate, sampleRate));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    child.stdin.on('error', () => undefined); // the process died early: 'close' reports it
    child.stdin.end(text);
    return {
      pcm,
      cancel: () => {
        clearTimeout(timer);
        child.kill('SIGKILL');
      },
    };
  }
}
