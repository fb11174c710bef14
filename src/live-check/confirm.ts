/** The question before anything is spent: only a person at a terminal can answer it. */
import { createInterface } from 'node:readline';

/**
 * Asks `question` on the terminal and resolves true only for an explicit yes (Enter alone is no:
 * the default of a question about money). Resolves false when input ends or `signal` aborts.
 */
export function askYesNo(question: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: true });
    let done = false;
    const finish = (answer: boolean): void => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      rl.close();
      resolve(answer);
    };
    const onAbort = (): void => finish(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    rl.on('close', () => finish(false));
    // readline turns Ctrl-C into its own SIGINT event; at this question it means no.
    rl.on('SIGINT', () => {
      output.write('\n');
      finish(false);
    });
    rl.question(`${question} [y/N] `, (answer) => finish(/^\s*y(es)?\s*$/i.test(answer)));
  });
}
