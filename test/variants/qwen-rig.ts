/**
 * The real qwen-realtime node (built file, real Node-RED runtime) on a simulator configured as one
 * service variant. Two nodes share one tts-config: `qu` takes whole utterances, `qs` a stream of
 * tokens. Every utterance's output is recorded by topic: each audio chunk (with parts), its end
 * marker, its output-2 event, or the error a catch node got.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { waitFor } from '../support/collect';
import { trackSourceTimers } from '../support/handles';
import { builtNode, coreNode, helper, type TestFlows } from '../support/node-red';

export const KEY = 'sk-test-key';
export const VOICE = 'Cherry';

const nodes = [builtNode('tts-config'), builtNode('qwen-realtime'), coreNode('common/25-catch.js')];

interface ChunkMsg {
  topic?: string;
  payload: Buffer;
  parts?: { id: string; index: number; count?: number };
  partial?: boolean;
  interrupted?: boolean;
}

export interface QwenEvent {
  text: string;
  bytes: number;
  sessionId: string;
  responseIds: string[];
  characters?: number;
  timeToFirstAudioMs?: number;
}

interface CaughtMsg {
  topic?: string;
  error?: { message: string; code?: string; source?: { id?: string } };
}

/** Everything one utterance (one topic) produced. */
export interface TopicRecord {
  chunks: ChunkMsg[];
  events: QwenEvent[];
  errors: { code?: string; message: string }[];
}

export type Ending =
  | { kind: 'spoken'; audio: Buffer; event: QwenEvent; chunks: ChunkMsg[] }
  | { kind: 'error'; code?: string; message: string; heard: Buffer; chunks: ChunkMsg[] };

type Receiver = Node & { receive(msg: Record<string, unknown>): void };

export interface RigOptions {
  sim: SimulatorOptions;
  /** qwen-realtime node properties (both nodes). */
  node?: Record<string, unknown>;
  /** tts-config properties. */
  cfg?: Record<string, unknown>;
}

export class QwenRig {
  sim!: DashScopeSimulator;
  readonly records = new Map<string, TopicRecord>();
  private readonly timers = trackSourceTimers();
  private readonly waiters = new Map<string, () => void>();

  static async start(options: RigOptions): Promise<QwenRig> {
    const rig = new QwenRig();
    rig.sim = await DashScopeSimulator.start(options.sim);
    const qwen = { type: 'qwen-realtime', z: 'tab', config: 'cfg', model: 'qwen3-tts-flash-realtime', voice: VOICE, mode: 'server_commit', format: 'pcm', sampleRate: 24000, ...options.node };
    const flow: TestFlows = [
      { id: 'tab', type: 'tab' },
      { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: rig.sim.baseUrl, keepWarm: false, ...options.cfg },
      { id: 'qu', ...qwen, input: 'utterance', wires: [['chunks'], ['events']] },
      { id: 'qs', ...qwen, input: 'stream', wires: [['chunks'], ['events']] },
      { id: 'chunks', type: 'helper', z: 'tab' },
      { id: 'events', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    helper.getNode('chunks').on('input', (raw: unknown) => {
      const msg = raw as ChunkMsg;
      rig.record(msg.topic).chunks.push(msg);
      rig.settle(msg.topic);
    });
    helper.getNode('events').on('input', (raw: unknown) => {
      const msg = raw as { topic?: string; payload: QwenEvent };
      rig.record(msg.topic).events.push(msg.payload);
      rig.settle(msg.topic);
    });
    helper.getNode('caught').on('input', (raw: unknown) => {
      const msg = raw as CaughtMsg;
      assert.ok(msg.error?.source?.id === 'qu' || msg.error?.source?.id === 'qs', 'the error comes from a qwen-realtime node');
      rig.record(msg.topic).errors.push({ code: msg.error?.code, message: msg.error?.message ?? '' });
      rig.settle(msg.topic);
    });
    return rig;
  }

  private record(topic: unknown): TopicRecord {
    const key = String(topic);
    let r = this.records.get(key);
    if (!r) {
      r = { chunks: [], events: [], errors: [] };
      this.records.set(key, r);
    }
    return r;
  }

  private settle(topic: unknown): void {
    const key = String(topic);
    if (this.ending(key)) this.waiters.get(key)?.();
  }

  /** How the utterance ended, once it has: its end marker and event, or its error. */
  ending(topic: string): Ending | undefined {
    const r = this.records.get(topic);
    if (!r) return undefined;
    const marker = r.chunks.find((c) => c.parts?.count !== undefined);
    const heard = Buffer.concat(r.chunks.map((c) => c.payload));
    const [error] = r.errors;
    if (error) return { kind: 'error', code: error.code, message: error.message, heard, chunks: r.chunks };
    const [event] = r.events;
    if (marker && event) return { kind: 'spoken', audio: heard, event, chunks: r.chunks };
    return undefined;
  }

  node(id: 'qu' | 'qs'): Receiver {
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

  /** A whole utterance to `qu`. */
  say(text: string, topic: string, extra: Record<string, unknown> = {}): Promise<Ending> {
    const p = this.ended(topic);
    this.node('qu').receive({ payload: text, topic, ...extra });
    return p;
  }

  /** Tokens of `size` characters to `qs`, a few at a time with a pause between, the last with msg.complete. */
  async stream(text: string, topic: string, size = 4, pauseMs = 2): Promise<Ending> {
    const p = this.ended(topic);
    const tokens = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'gu')) ?? [];
    for (let i = 0; i < tokens.length; i++) {
      this.node('qs').receive({ payload: tokens[i], topic, complete: i === tokens.length - 1 ? true : undefined });
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, pauseMs));
    }
    return p;
  }

  /** Every topic ended exactly once: one end marker, and one event or one error, never both. */
  assertEachOnce(): void {
    for (const [topic, r] of this.records) {
      const markers = r.chunks.filter((c) => c.parts?.count !== undefined).length;
      assert.ok(markers <= 1, `"${topic}": ${markers} end markers`);
      assert.equal(r.events.length + r.errors.length, 1, `"${topic}": ${r.events.length} events and ${r.errors.length} errors`);
    }
  }

  /** Undeploys and proves nothing is left: no open socket on the service, no timer from src/. */
  async finish(): Promise<void> {
    await helper.unload();
    try {
      await waitFor(() => this.sim.stats.openSockets === 0, 3000, 'every socket closed');
      await waitFor(() => this.timers.live().length === 0, 3000, `no timers left (${this.timers.live().join(' | ')})`);
    } finally {
      this.timers.stop();
      await this.sim.close();
    }
  }

  async abandon(): Promise<void> {
    this.timers.stop();
    await helper.unload().catch(() => undefined);
    await this.sim?.close();
  }
}

/**
 * Asserts a spoken utterance: exactly `expected` in order (chunk indices 0..n-1, end marker last
 * with parts.count), and its output-2 event for the same text and byte count.
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
  return a.length === b.length ? '' : ` (one is a prefix of the other)`;
}
