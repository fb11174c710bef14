import { performance } from 'node:perf_hooks';
import type { NodeRedHost } from './node-red-host';

export interface Spoken {
  /** Message into the node → first non-empty audio chunk out of it. */
  firstAudioMs: number;
  /** Message in → the utterance's event on output 2. */
  doneMs: number;
  audioBytes: number;
}

/** Sends one utterance into a deployed synthesis node and waits for its end. */
export function speak(host: NodeRedHost, nodeId: string, text: string, timeoutMs = 15_000): Promise<Spoken> {
  return new Promise((resolve, reject) => {
    let first = -1;
    let bytes = 0;
    let t0 = 0;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${nodeId}: no end of utterance within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = host.onSend((e, at) => {
      if (e.source.id !== nodeId) return;
      if (e.source.port === 0) {
        const len = (e.msg.payload as Buffer).length;
        if (first < 0 && len > 0) first = at - t0;
        bytes += len;
      } else if (e.source.port === 1) {
        clearTimeout(timer);
        off();
        resolve({ firstAudioMs: first, doneMs: at - t0, audioBytes: bytes });
      }
    });
    t0 = performance.now();
    host.node(nodeId).receive({ payload: text });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
