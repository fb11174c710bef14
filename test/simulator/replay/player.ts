/**
 * Plays one recorded connection to a live client: the service's lines at their recorded gaps
 * (× timeScale), and at each recorded client frame, waits for the live client to send one of the
 * same type. A frame of another type is a replay error and closes the connection 1011.
 *
 * Timing: the service's lines keep the recording's clock; a client frame that comes later than the
 * recording had it moves that clock on (the service waited for the client), one that comes earlier
 * does not (the service was busy with its own lines).
 */
import type { WebSocket } from 'ws';
import { frameType, type Json } from '../../../src/live-check/transcript-format';
import { isRecord } from '../json';
import type { ClientFrame, SimConnection } from '../sim-connection';
import { TimerBag } from '../timer-bag';
import { replayAudio } from './audio';
import type { ConnectionScript, Step } from './script';

export interface ReplayError {
  /** The recorded connection (or HTTP request) number. */
  conn: number | undefined;
  service: 'cosyvoice' | 'qwen' | 'http';
  /** The type the recording has here (null: a frame without one; 'end': the recording had nothing more). */
  expected: string | null;
  /** The type the live client sent ('close': it closed instead). */
  got: string | null;
  message: string;
}

interface Received {
  type: string | null;
  frame: Json;
  at: number;
}

const DEFAULT_SAMPLE_RATE = 24000;

/** Close codes ws may send in a close frame (RFC 6455 §7.4). */
function sendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

export class ReplayPlayer {
  private next = 0;
  /** The recording's time and the real time of the same moment: every service line is due relative to it. */
  private anchorT: number;
  private anchorAt: number;
  private readonly received: Received[] = [];
  private readonly timers = new TimerBag();
  private waiting = false;
  private over = false;
  /** Recorded CosyVoice task id → the live client's (docs/protocol.md "CosyVoice: framing": events carry the task id). */
  private readonly taskIds = new Map<string, string>();
  private sampleRate = DEFAULT_SAMPLE_RATE;

  constructor(
    private readonly conn: SimConnection,
    private readonly ws: WebSocket,
    private readonly script: ConnectionScript,
    private readonly timeScale: number,
    private readonly errors: ReplayError[],
  ) {
    this.anchorT = script.outcome.t;
    this.anchorAt = performance.now();
  }

  start(): void {
    this.conn.onFrame((frame) => this.onClientFrame(frame));
    this.conn.onClose(() => this.onClientClose());
    this.advance();
  }

  private onClientFrame(frame: ClientFrame): void {
    if (this.over) return;
    const parsed = frame.binary ? null : parseJson(frame.text);
    const json: Json = frame.binary ? null : (parsed ?? frame.text);
    this.received.push({ type: frame.binary ? null : frameType(this.script.service, 'out', json), frame: json, at: performance.now() });
    this.advance();
  }

  private onClientClose(): void {
    if (this.over) return;
    this.over = true;
    this.timers.clearAll();
    const step = this.script.steps[this.next];
    if (step?.kind === 'out') this.fail(step.type, 'close', `the client closed where the recording has it send ${step.type ?? 'a frame'}`, false);
  }

  /** Plays what is due, and waits (a timer, or the client's next frame) for the rest. */
  private advance(): void {
    while (!this.over && !this.waiting) {
      const step = this.script.steps[this.next];
      if (!step) {
        const extra = this.received.shift();
        if (extra) this.fail('end', extra.type, `the client sent ${extra.type ?? 'a frame'} after the end of the recording`, true);
        return;
      }
      if (step.from === 'server') {
        const delay = this.anchorAt + (step.t - this.anchorT) * this.timeScale - performance.now();
        if (delay >= 1) {
          this.waiting = true;
          this.timers.after(delay, () => {
            this.waiting = false;
            this.advance();
          });
          return;
        }
        this.next++;
        this.play(step);
        continue;
      }
      const frame = this.received.shift();
      if (!frame) return; // the client's turn: onClientFrame resumes
      const expected = step.kind === 'out' ? step.type : 'closing';
      if (step.kind !== 'out' || frame.type !== step.type) {
        this.fail(expected, frame.type, `the client sent ${frame.type ?? 'a frame without a type'} where the recording has ${expected ?? 'a frame without a type'}`, true);
        return;
      }
      this.next++;
      this.learn(frame.frame, step);
      const due = this.anchorAt + (step.t - this.anchorT) * this.timeScale;
      if (frame.at > due) {
        this.anchorAt = frame.at;
        this.anchorT = step.t;
      }
    }
  }

  /** What a client frame tells the replay: a task's live id, the sample rate of the audio to send. */
  private learn(frame: Json, step: Step): void {
    if (!isRecord(frame) || step.kind !== 'out') return;
    if (this.script.service === 'cosyvoice') {
      const header = frame.header;
      const payload = frame.payload;
      // The recorded run-task names the id the service's events for this task carry: map it to the live one.
      if (step.type === 'run-task' && step.taskId && isRecord(header) && typeof header.task_id === 'string') this.taskIds.set(step.taskId, header.task_id);
      const parameters = isRecord(payload) && isRecord(payload.parameters) ? payload.parameters : undefined;
      if (typeof parameters?.sample_rate === 'number') this.sampleRate = parameters.sample_rate;
    } else if (step.type === 'session.update' && isRecord(frame.session) && typeof frame.session.sample_rate === 'number') {
      this.sampleRate = frame.session.sample_rate;
    }
  }

  private play(step: Step): void {
    switch (step.kind) {
      case 'in':
        this.playFrame(step.frame);
        return;
      case 'audio':
        this.conn.sendBinary(replayAudio(step.bytes, step.container, this.sampleRate));
        return;
      case 'close':
        this.over = true;
        this.timers.clearAll();
        if (step.code === 1005) this.ws.close();
        else if (sendableCode(step.code)) this.conn.close(step.code, step.reason);
        else this.conn.terminate();
        return;
      default:
        return;
    }
  }

  private playFrame(recorded: Json): void {
    if (!isRecord(recorded)) {
      // A frame that was not a JSON object (a malformed frame the service sent): as it was.
      if (this.conn.isOpen) this.ws.send(typeof recorded === 'string' ? recorded : JSON.stringify(recorded));
      return;
    }
    const frame = structuredClone(recorded) as Record<string, Json>;
    const header = frame.header;
    if (isRecord(header) && typeof header.task_id === 'string') {
      const live = this.taskIds.get(header.task_id);
      if (live) (header as Record<string, Json>).task_id = live;
    }
    const delta = frame.delta;
    if (frame.type === 'response.audio.delta' && isRecord(delta) && delta.audio === true && typeof delta.bytes === 'number') {
      const container = delta.container === 'riff' || delta.container === 'id3' || delta.container === 'mp3' || delta.container === 'ogg' ? delta.container : null;
      frame.delta = replayAudio(delta.bytes, container, this.sampleRate).toString('base64');
    }
    this.conn.sendEvent(frame);
  }

  private fail(expected: string | null, got: string | null, message: string, close: boolean): void {
    this.errors.push({ conn: this.script.conn, service: this.script.service, expected, got, message });
    this.over = true;
    this.timers.clearAll();
    if (close) this.conn.close(1011, 'replay: the client left the recording');
  }

  /** Ends playing (the simulator closes). */
  stop(): void {
    this.over = true;
    this.timers.clearAll();
  }
}

function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}
