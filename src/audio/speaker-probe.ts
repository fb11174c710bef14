import { spawn } from 'node:child_process';
import { resolveSpeaker } from './speaker-addon';

export type ProbeFailure = 'not-installed' | 'load-failed' | 'no-default-device' | 'probe-failed';

/** `reason` is short enough for a node status. */
export type ProbeResult = { usable: true } | { usable: false; failure: ProbeFailure; reason: string };

const PROBE_TIMEOUT_MS = 10_000;
const STDERR_KEEP = 2048;

/**
 * Tells whether `require('speaker')` is safe in this process, by trying it in a child first.
 *
 * Loading the addon opens the ALSA "default" pcm to list formats and does not check that the open
 * worked: with no usable default device, alsa-lib asserts and the whole process aborts (SIGABRT),
 * whatever device would be used later. No try/catch, lazy require or worker thread can catch
 * that, so the only safe test is another process with the same environment. The child is spawned
 * asynchronously: deploy is never blocked on it.
 */
export function probeSpeaker(options: { env?: NodeJS.ProcessEnv; modulePath?: string; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const modulePath = options.modulePath ?? resolveSpeaker();
  if (!modulePath) {
    return Promise.resolve({ usable: false, failure: 'not-installed', reason: 'addon not installed' });
  }
  const script = `try { require(${JSON.stringify(modulePath)}); } catch (e) { process.stderr.write('LOAD_FAILED ' + (e && e.message || e)); process.exit(3); }`;
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const child = spawn(process.execPath, ['-e', script], { env: options.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_KEEP);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ usable: false, failure: 'probe-failed', reason: 'probe timed out' });
    }, options.timeoutMs ?? PROBE_TIMEOUT_MS);
    child.once('error', (err) => finish({ usable: false, failure: 'probe-failed', reason: `probe failed: ${err.message}` }));
    child.once('close', (code, signal) => finish(code === 0 ? { usable: true } : probeFailure(code, signal, stderr)));
  });
}

function probeFailure(code: number | null, signal: NodeJS.Signals | null, stderr: string): ProbeResult {
  const loadFailed = /LOAD_FAILED (.*)/.exec(stderr);
  if (loadFailed) return { usable: false, failure: 'load-failed', reason: `addon failed to load: ${loadFailed[1] ?? ''}` };
  // alsa-lib's assertion in snd_pcm_hw_refine, after speaker's unchecked open of "default".
  if (signal === 'SIGABRT' || /Assertion .* failed/.test(stderr)) return { usable: false, failure: 'no-default-device', reason: 'no usable default ALSA device' };
  return { usable: false, failure: 'probe-failed', reason: `probe failed (${signal ?? `exit code ${code}`})` };
}

let cached: Promise<ProbeResult> | undefined;

/**
 * The probe for this process, run once: every pcm-speaker node, and every redeploy, shares it.
 * A machine whose audio setup changes needs a Node-RED restart to notice, like any loaded addon.
 */
export function speakerAvailability(): Promise<ProbeResult> {
  cached ??= probeSpeaker();
  return cached;
}
