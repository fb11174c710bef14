import { createHook } from 'node:async_hooks';
import { join, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** The package's code as tests meet it: the TypeScript sources, and the bundles Node-RED loads. */
const OWN = [join(ROOT, 'src') + sep, join(ROOT, 'nodes') + sep];

/**
 * Watches the timers that the package's own code creates (src/, or its build in nodes/ that
 * Node-RED loads), so a test can prove that none is left running. Counting all of the process's
 * timers would also count mocha's and the simulator's, which come and go on their own.
 */
export function trackSourceTimers(): { live(): string[]; stop(): void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (type !== 'Timeout') return;
      const stack = new Error().stack ?? '';
      const frame = stack.split('\n').find((line) => OWN.some((dir) => line.includes(dir)) && !line.includes('node_modules'));
      if (frame) live.set(id, frame.trim());
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return {
    live: () => [...live.values()],
    stop: () => hook.disable(),
  };
}
