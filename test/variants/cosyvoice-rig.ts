/**
 * The real cosyvoice-stream node (built file, real Node-RED runtime) on a simulator configured as
 * one service variant. Two nodes share one tts-config: `cu` takes whole utterances, `cs` a stream
 * of tokens. Every utterance's output is recorded by topic: each audio chunk (with parts), its end
 * marker, its output-2 event, or the error a catch node got.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { DashScopeSimulator, type Fault, type SimulatorOptions } from '../simulator';
import { waitFor } from '../support/collect';
import { builtNode, coreNode, helper, type TestFlows } from '../support/node-red';

export const KEY = 'sk-test-key';
export const VOICE = 'longanyang';
export const SAMPLE_RATE = 24000;

const nodes = [builtNode('tts-config'), builtNode('cosyvoice-stream'), coreNode('common/25-catch.js')];

interface ChunkMsg {
  topic?: string;
  payload: Buffer;
  parts?: { id: string; index: number; count?: number };
  partial?: boolean;
  interrupted?: boolean;
}

export interface CosyVoiceEvent {
  text: string;
  bytes: number;
  taskIds: string[];
  characters: number;
}

interface CaughtMsg {
  topic?: string;
  error?: { message: string; code?: string; source?: { id?: string } };
}

/** Everything one utterance (one topic) produced. */
interface TopicRecord {
  chunks: ChunkMsg[];
  events: CosyVoiceEvent[];
  errors: { code?: string; message: string }[];
}

export type Ending =
  | { kind: 'spoken'; audio: Buffer; event: CosyVoiceEvent; chunks: ChunkMsg[] }
  | { kind: 'error'; code?: string; message: string; heard: Buffer; chunks: ChunkMsg[] };

type Receiver = Node & { receive(msg: Record<string, unknown>): void };

/** One step of a token stream: a token, a pause in ms, or a condition to wait for. */
export type StreamStep = string | number | (() => Promise<void>);

export interface RigOptions {
  sim: SimulatorOptions;
  /** Faults armed right after the simulator starts. */
  faults?: Fault[];
  /** cosyvoice-stream node properties (both nodes). */
  node?: Record<string, unknown>;
}

export class CosyVoiceRig {
  sim!: DashScopeSimulator;
  private readonly records = new Map<string, TopicRecord>();
  private readonly waiters = new Map<string, () => void>();

  static async start(options: RigOptions): Promise<CosyVoiceRig> {
    const rig = new CosyVoiceRig();
    rig.sim = await DashScopeSimulator.start(options.sim);
    for (const fault of options.faults ?? []) rig.sim.inject(fault);
    const cosy = { type: 'cosyvoice-stream', z: 'tab', config: 'cfg', model: 'cosyvoice-v3-flash', voice: VOICE, format: 'pcm', sampleRate: SAMPLE_RATE, ...options.node };
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: rig.sim.baseUrl, keepWarm: false },
      { id: 'cu', ...cosy, input: 'utterance', wires: [['chunks'], ['events']] },
      { id: 'cs', ...cosy, input: 'stream', wires: [['chunks'], ['events']] },
      { id: 'chunks', type: 'helper', z: 'tab' },
      { id: 'events', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    helper.getNode('chunks').on('input', (raw: unknown) => rig.add(raw as ChunkMsg, (r, m) => r.chunks.push(m)));
    helper.getNode('events').on('input', (raw: unknown) => {
      const msg = raw as { topic?: string; payload: CosyVoiceEvent };
      rig.add(msg, (r) => r.events.push(msg.payload));
    });
    helper.getNode('caught').on('input', (raw: unknown) => {
      const msg = raw as CaughtMsg;
      assert.ok(msg.error?.source?.id === 'cu' || msg.error?.source?.id === 'cs', 'the error comes from a cosyvoice-stream node');
      rig.add(msg, (r) => r.errors.push({ code: msg.error?.code, message: msg.error?.message ?? '' }));
    });
    return rig;
  }

  private add<M extends { topic?: string }>(msg: M, put: (r: TopicRecord, m: M) => void): void {
    const key = String(msg.topic);
    let r = this.records.get(key);
    if (!r) {
      r = { chunks: [], events: [], errors: [] };
      this.records.set(key, r);
    }
    put(r, msg);
    if (this.ending(key)) this.waiters.get(key)?.();
  }

  /** How the utterance ended, once it has: its end marker and event, or its error. */
  ending(topic: string): Ending | undefined {
    const r = this.records.get(topic);
    if (!r) return undefined;
    const heard = Buffer.concat(r.chunks.map((c) => c.payload));
    const [error] = r.errors;
    if (error) return { kind: 'error', code: error.code, message: error.message, heard, chunks: r.chunks };
    const marker = r.chunks.find((c) => c.parts?.count !== undefined);
    const [event] = r.events;
    if (marker && event) return { kind: 'spoken', audio: heard, event, chunks: r.chunks };
    return undefined;
  }

  node(id: 'cu' | 'cs'): Receiver {
    return helper.getNode(id) as Receiver;
  }

  /** Resolves when the utterance `topic` has ended (spoken or failed). */
  ended(topic: string, timeoutMs = 10_000): Promise<Ending> {
    const known = this.ending(topic);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(topic);
        reject(new Error(`utterance "${topic}" neither spoken nor reported within ${timeoutMs} ms (a hang)`));
      }, timeoutMs);
      this.waiters.set(topic, () => {
        const e = this.ending(topic);
        if (!e) return;
        clearTimeout(timer);
        this.waiters.delete(topic);
        resolve(e);
      });
    });
  }

  /** A whole utterance to `cu`. */
  say(text: string, topic: string): Promise<Ending> {
    const p = this.ended(topic);
    this.node('cu').receive({ payload: text, topic });
    return p;
  }

  /**
   * Tokens to `cs`, one message each; a number in the list is a pause of that many ms, a function
   * a condition to wait for. The last token carries msg.complete.
   */
  async stream(script: StreamStep[], topic: string): Promise<Ending> {
    const p = this.ended(topic);
    const last = script.length - 1;
    for (const [i, step] of script.entries()) {
      if (typeof step === 'number') await new Promise((r) => setTimeout(r, step));
      else if (typeof step === 'function') await step();
      else this.node('cs').receive({ payload: step, topic, complete: i === last ? true : undefined });
    }
    return p;
  }

  /** Every topic ended exactly once: at most one end marker, and one event or one error, never both. */
  assertEachOnce(): void {
    for (const [topic, r] of this.records) {
      const markers = r.chunks.filter((c) => c.parts?.count !== undefined).length;
      assert.ok(markers <= 1, `"${topic}": ${markers} end markers`);
      assert.equal(r.events.length + r.errors.length, 1, `"${topic}": ${r.events.length} events and ${r.errors.length} errors`);
    }
  }

  /** Undeploys and proves the service sees no socket left open. */
  async finish(): Promise<void> {
    await helper.unload();
    try {
      await waitFor(() => this.sim.stats.openSockets === 0, 3000, 'every socket closed');
    } finally {
      await this.sim.close();
    }
  }

  async abandon(): Promise<void> {
    await helper.unload().catch(() => undefined);
    await this.sim?.close();
  }
}

/**
 * Asserts a spoken utterance: exactly `expected` in order (chunk indices 0..n-1, end marker last
 * with parts.count, not partial), and its output-2 event for the same text and byte count.
 */
export function assertSpoken(ending: Ending, expected: Buffer, text: string, topic: string): asserts ending is Extract<Ending, { kind: 'spoken' }> {
  assert.equal(ending.kind, 'spoken', ending.kind === 'error' ? `"${topic}" failed: ${ending.code}: ${ending.message}` : '');
  if (ending.kind !== 'spoken') return;
  assert.ok(ending.audio.equals(expected), `"${topic}": ${ending.audio.length} bytes, expected ${expected.length}${firstDifference(ending.audio, expected)}`);
  ending.chunks.forEach((c, i) => assert.equal(c.parts?.index, i, `"${topic}": chunk ${i} in order`));
  const last = ending.chunks[ending.chunks.length - 1];
  assert.equal(last?.payload.length, 0, `"${topic}": ends with a zero-length end marker`);
  assert.equal(last?.parts?.count, ending.chunks.length);
  assert.notEqual(last?.partial, true);
  assert.equal(ending.event.text, text);
  assert.equal(ending.event.bytes, expected.length);
}

function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return ` (first difference at byte ${i})`;
  return a.length === b.length ? '' : ' (one is a prefix of the other)';
}
