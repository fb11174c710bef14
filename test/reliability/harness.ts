/**
 * Shared by the fault matrix and the soak: one synthesis node (either service) on the simulator,
 * driven through the real built nodes, with every utterance's outcome (spoken audio or the error
 * a catch node got) recorded by topic.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import type { TtsConfigNode } from '../../src/nodes/tts-config/types';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';
import { expectedAudio } from '../simulator/audio';
import { trackSourceTimers } from '../support/handles';
import { builtNode, coreNode, endAnyway, endCleanly, helper } from '../support/node-red';
import { synthesisFlow } from '../support/synthesis-flow';

export const KEY = 'sk-test-key';

export type Service = 'cosyvoice' | 'qwen';
export const SERVICES: readonly Service[] = ['cosyvoice', 'qwen'];

interface ServiceSpec {
  type: string;
  node: Record<string, unknown>;
  audio(text: string): Buffer;
}

export const SPEC: Record<Service, ServiceSpec> = {
  cosyvoice: {
    type: 'cosyvoice-stream',
    node: { model: 'cosyvoice-v3-flash', voice: 'longanyang' },
    audio: (text) => expectedAudio({ text, voice: 'longanyang', sampleRate: 24000 }),
  },
  qwen: {
    type: 'qwen-realtime',
    node: { model: 'qwen3-tts-flash-realtime', voice: 'Cherry', mode: 'server_commit' },
    audio: (text) => expectedAudio({ text, voice: 'Cherry', sampleRate: 24000, service: 'qwen' }),
  },
};

const nodes = [
  builtNode('tts-config'),
  builtNode('cosyvoice-stream'),
  builtNode('qwen-realtime'),
  coreNode('sequence/17-split.js'),
  coreNode('common/25-catch.js'),
];

export interface ErrorMsg {
  topic?: string;
  error?: { message: string; code?: string; source?: { id?: string } };
  [key: string]: unknown;
}

export type Outcome = { kind: 'spoken'; audio: Buffer; topic: string } | { kind: 'error'; code?: string; message: string; msg: ErrorMsg };

type StatusSpy = { args: { fill?: string; text?: string }[][] };
type ErrorSpy = { callCount: number };
export type Receiver = Node & { receive(msg: Record<string, unknown>): void };

/** One deployed flow with its simulator, its outcomes by topic and a handle count at the end. */
export class Rig {
  sim!: DashScopeSimulator;
  readonly outcomes = new Map<string, Outcome[]>();
  chunkCount = 0;
  /** Audio of utterances that failed after some of it was heard, by topic. */
  readonly partials = new Map<string, Buffer>();
  private waiters = new Map<string, (o: Outcome) => void>();
  private timers = trackSourceTimers();

  constructor(readonly service: Service) {}

  /**
   * Connections that carried text: CosyVoice sockets that ran a task, Qwen sessions that were
   * appended to. A Qwen utterance has a session of its own and a spare is opened ahead
   * (docs/protocol.md "Qwen: end of an utterance"), so plain connection counts include spares.
   */
  textConnections(): number {
    const wanted = this.service === 'qwen' ? 'input_text_buffer.append' : 'run-task';
    return this.sim.transcripts.filter(
      (t) =>
        t.service === this.service &&
        t.entries.some((e) => {
          if (e.dir !== 'C') return false;
          const json = e.json as { type?: string; header?: { action?: string } } | undefined;
          return json?.type === wanted || json?.header?.action === wanted;
        }),
    ).length;
  }

  static async start(service: Service, simOptions: SimulatorOptions = {}, opts: { cfg?: Record<string, unknown>; node?: Record<string, unknown>; key?: string } = {}): Promise<Rig> {
    const rig = new Rig(service);
    rig.sim = await DashScopeSimulator.start(simOptions);
    await rig.deploy(opts);
    return rig;
  }

  /** (Re)deploys the flow, as the editor's deploy does: the old nodes close first. */
  async deploy(opts: { cfg?: Record<string, unknown>; node?: Record<string, unknown>; key?: string } = {}): Promise<void> {
    await helper.unload();
    const spec = SPEC[this.service];
    const flow = synthesisFlow(this.sim.baseUrl, { id: 'tts', type: spec.type, ...spec.node, ...opts.node }, opts.cfg ?? {});
    await helper.load(nodes, flow, { cfg: { apiKey: opts.key ?? KEY } });
    helper.getNode('joined').on('input', (raw: unknown) => {
      const msg = raw as { topic?: string; payload: Buffer };
      // A sequence cut short by a failure is closed (marked partial) so join never hangs; the error follows on catch.
      // Its end marker reached `chunks` in the same tick as the join (the join sends on later).
      if (!this.partials.has(String(msg.topic))) this.record(String(msg.topic), { kind: 'spoken', audio: msg.payload, topic: String(msg.topic) });
    });
    const heard = new Map<string, Buffer[]>();
    helper.getNode('chunks').on('input', (raw: unknown) => {
      const msg = raw as { topic?: string; payload: Buffer; partial?: boolean; parts?: { count?: number } };
      const topic = String(msg.topic);
      this.chunkCount++;
      const list = heard.get(topic) ?? [];
      list.push(msg.payload);
      heard.set(topic, list);
      if (msg.parts?.count === undefined) return;
      heard.delete(topic);
      if (msg.partial === true) this.partials.set(topic, Buffer.concat(list));
    });
    helper.getNode('caught').on('input', (raw: unknown) => {
      const msg = raw as ErrorMsg;
      this.record(String(msg.topic), { kind: 'error', code: msg.error?.code, message: msg.error?.message ?? '', msg });
    });
  }

  get tts(): Receiver {
    return helper.getNode('tts') as Receiver;
  }

  get manager(): NonNullable<TtsConfigNode['manager']> {
    return (helper.getNode('cfg') as unknown as TtsConfigNode).manager!;
  }

  statuses(): { fill?: string; text?: string }[] {
    return ((this.tts as unknown as { status: StatusSpy }).status.args ?? []).map((a) => a[0] ?? {});
  }

  errorCalls(): number {
    return (this.tts as unknown as { error: ErrorSpy }).error.callCount;
  }

  audioOf(text: string): Buffer {
    return SPEC[this.service].audio(text);
  }

  /** Sends one utterance; resolves with how it ended (the first outcome recorded for its topic). */
  say(text: string, topic: string, extra: Record<string, unknown> = {}, timeoutMs?: number): Promise<Outcome> {
    const p = this.outcome(topic, timeoutMs);
    this.tts.receive({ payload: text, topic, ...extra });
    return p;
  }

  outcome(topic: string, timeoutMs = 8000): Promise<Outcome> {
    const known = this.outcomes.get(topic)?.[0];
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`utterance "${topic}" neither spoken nor reported within ${timeoutMs} ms (a hang)`)), timeoutMs);
      this.waiters.set(topic, (o) => {
        clearTimeout(timer);
        resolve(o);
      });
    });
  }

  /**
   * The test helper spies on every node method (send, receive, status...) and keeps each call's
   * arguments, audio Buffers included: a long run forgets them so the heap measures the package.
   */
  forgetSpyHistory(): void {
    (helper as unknown as { _sandbox: { resetHistory(): void } })._sandbox.resetHistory();
  }

  /** Timers created by src/ that are still pending. */
  liveTimers(): string[] {
    return this.timers.live();
  }

  /** Asserts the utterance was spoken, byte for byte. */
  async spoken(text: string, topic: string, extra: Record<string, unknown> = {}): Promise<void> {
    const o = await this.say(text, topic, extra);
    assert.equal(o.kind, 'spoken', o.kind === 'error' ? `"${topic}" failed: ${o.code}: ${o.message}` : '');
    const expected = this.audioOf(text);
    assert.ok(o.kind === 'spoken' && o.audio.equals(expected), `"${topic}": ${o.kind === 'spoken' ? o.audio.length : 0} bytes, expected ${expected.length}`);
  }

  /** Asserts the utterance failed with `code`, reported to the catch node on its own message. */
  async fails(text: string, topic: string, code: string | RegExp, message?: RegExp): Promise<ErrorMsg> {
    const o = await this.say(text, topic);
    assert.equal(o.kind, 'error', `"${topic}" was spoken instead of failing`);
    if (o.kind !== 'error') throw new Error('unreachable');
    if (typeof code === 'string') assert.equal(o.code, code, o.message);
    else assert.match(o.code ?? '', code, o.message);
    if (message) assert.match(o.message, message);
    assert.equal(o.msg.topic, topic, 'the error names the utterance (its msg properties)');
    assert.equal(o.msg.error?.source?.id, 'tts');
    return o.msg;
  }

  private record(topic: string, o: Outcome): void {
    const list = this.outcomes.get(topic) ?? [];
    list.push(o);
    this.outcomes.set(topic, list);
    const waiter = this.waiters.get(topic);
    if (waiter) {
      this.waiters.delete(topic);
      waiter(o);
    }
  }

  /** Undeploys and proves nothing is left: no open socket on the service, no timer from src/. */
  finish(): Promise<void> {
    return endCleanly(this.sim, this.timers);
  }

  /** Every topic got exactly one outcome. */
  assertEachOnce(): void {
    for (const [topic, list] of this.outcomes) assert.equal(list.length, 1, `"${topic}" ended ${list.length} times`);
  }

  abandon(): Promise<void> {
    return endAnyway(this.sim, this.timers);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Mulberry32: a tiny seeded PRNG so a soak run can be repeated exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
