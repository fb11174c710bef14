/**
 * What the per-service variant rigs (cosyvoice-rig.ts, qwen-rig.ts) share: a real speech node
 * (built file, real Node-RED runtime) on a simulator configured as one service variant. Two nodes
 * of the same type share one tts-config: one takes whole utterances, the other a stream of tokens.
 * Every utterance's output is recorded by topic: each audio chunk (with parts), its end marker,
 * its output-2 event, or the error a catch node got. Each service rig adds only its node's
 * properties and its own say/stream helpers.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { DashScopeSimulator, type Fault, type SimulatorOptions } from '../simulator';
import { trackSourceTimers } from '../support/handles';
import { builtNode, coreNode, endAnyway, endCleanly, helper, type TestFlows } from '../support/node-red';

export const KEY = 'sk-test-key';

export interface ChunkMsg {
  topic?: string;
  payload: Buffer;
  parts?: { id: string; index: number; count?: number };
  partial?: boolean;
  interrupted?: boolean;
}

/** The part of an output-2 event every service reports. */
export interface SpokenEvent {
  text: string;
  bytes: number;
}

interface CaughtMsg {
  topic?: string;
  error?: { message: string; code?: string; source?: { id?: string } };
}

/** Everything one utterance (one topic) produced. */
export interface TopicRecord<E extends SpokenEvent> {
  chunks: ChunkMsg[];
  events: E[];
  errors: { code?: string; message: string }[];
}

export type Ending<E extends SpokenEvent> =
  | { kind: 'spoken'; audio: Buffer; event: E; chunks: ChunkMsg[] }
  | { kind: 'error'; code?: string; message: string; heard: Buffer; chunks: ChunkMsg[] };

export type Receiver = Node & { receive(msg: Record<string, unknown>): void };

export interface RigOptions {
  sim: SimulatorOptions;
  /** Faults armed right after the simulator starts. */
  faults?: Fault[];
  /** Speech node properties (both nodes), over the service's defaults. */
  node?: Record<string, unknown>;
  /** tts-config properties. */
  cfg?: Record<string, unknown>;
}

/** What a service rig deploys: its node type, the ids of its two nodes, and their default properties. */
export interface Service {
  /** The speech node's type, e.g. 'cosyvoice-stream'. */
  type: string;
  /** Ids of the node taking whole utterances and of the one taking a token stream. */
  utterance: string;
  stream: string;
  /** Default properties of both speech nodes. */
  node: Record<string, unknown>;
}

export abstract class VariantRig<E extends SpokenEvent> {
  sim!: DashScopeSimulator;
  readonly records = new Map<string, TopicRecord<E>>();
  private readonly timers = trackSourceTimers();
  private readonly waiters = new Map<string, () => void>();
  protected abstract readonly service: Service;

  /** A rig of this service on a fresh simulator, its flow deployed. */
  static async start<R extends VariantRig<SpokenEvent>>(this: new () => R, options: RigOptions): Promise<R> {
    const rig = new this();
    await rig.deploy(options);
    return rig;
  }

  /** Starts the simulator, arms the faults and deploys the flow; on failure, leaves nothing behind. */
  private async deploy(options: RigOptions): Promise<void> {
    const d = this.service;
    try {
      this.sim = await DashScopeSimulator.start(options.sim);
      for (const fault of options.faults ?? []) this.sim.inject(fault);
      const speech = { type: d.type, z: 'tab', config: 'cfg', ...d.node, ...options.node };
      const flow: TestFlows = [
        { id: 'tab', type: 'tab' },
        { id: 'cfg', type: 'tts-config', region: 'custom', endpoint: this.sim.baseUrl, keepWarm: false, ...options.cfg },
        { id: d.utterance, ...speech, input: 'utterance', wires: [['chunks'], ['events']] },
        { id: d.stream, ...speech, input: 'stream', wires: [['chunks'], ['events']] },
        { id: 'chunks', type: 'helper', z: 'tab' },
        { id: 'events', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ];
      const nodes = [builtNode('tts-config'), builtNode(d.type), coreNode('common/25-catch.js')];
      await helper.load(nodes, flow, { cfg: { apiKey: KEY } });
    } catch (err) {
      await this.abandon();
      throw err;
    }
    helper.getNode('chunks').on('input', (raw: unknown) => this.add(raw as ChunkMsg, (r, m) => r.chunks.push(m)));
    helper.getNode('events').on('input', (raw: unknown) => {
      const msg = raw as { topic?: string; payload: E };
      this.add(msg, (r) => r.events.push(msg.payload));
    });
    helper.getNode('caught').on('input', (raw: unknown) => {
      const msg = raw as CaughtMsg;
      const source = msg.error?.source?.id;
      assert.ok(source === d.utterance || source === d.stream, `the error comes from a ${d.type} node`);
      this.add(msg, (r) => r.errors.push({ code: msg.error?.code, message: msg.error?.message ?? '' }));
    });
  }

  private add<M extends { topic?: string }>(msg: M, put: (r: TopicRecord<E>, m: M) => void): void {
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
  ending(topic: string): Ending<E> | undefined {
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

  protected receiver(id: string): Receiver {
    return helper.getNode(id) as Receiver;
  }

  /** Resolves when the utterance `topic` has ended (spoken or failed). */
  ended(topic: string, timeoutMs = 10_000): Promise<Ending<E>> {
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

  /** Every topic ended exactly once: at most one end marker, and one event or one error, never both. */
  assertEachOnce(): void {
    for (const [topic, r] of this.records) {
      const markers = r.chunks.filter((c) => c.parts?.count !== undefined).length;
      assert.ok(markers <= 1, `"${topic}": ${markers} end markers`);
      assert.equal(r.events.length + r.errors.length, 1, `"${topic}": ${r.events.length} events and ${r.errors.length} errors`);
    }
  }

  /** Undeploys and proves nothing is left: no open socket on the service, no timer from src/. */
  finish(): Promise<void> {
    return endCleanly(this.sim, this.timers);
  }

  abandon(): Promise<void> {
    return endAnyway(this.sim, this.timers);
  }
}

/**
 * Asserts a spoken utterance: exactly `expected` in order (chunk indices 0..n-1, end marker last
 * with parts.count, not partial), and its output-2 event for the same text and byte count.
 */
export function assertSpoken<E extends SpokenEvent>(
  ending: Ending<E>,
  expected: Buffer,
  text: string,
  topic: string,
): asserts ending is Extract<Ending<E>, { kind: 'spoken' }> {
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
