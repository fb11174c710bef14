/**
 * One Qwen-TTS-Realtime WebSocket = one session (qwen-realtime.md §2, §6): session.created on
 * connect, text buffered and cut into responses (server_commit: per sentence; commit: per commit),
 * responses strictly one after another, session.finish → drain → session.finished → close 1000.
 * Where the notes are silent, options choose among the plausible behaviours (options.ts QwenOptions):
 * where server_commit cuts, whether it announces its cuts, how an empty commit is answered, how many
 * responses a commit gets, and a maximum session duration.
 */
import { findModel, QWEN_PROTOCOL, type CatalogModel } from '../catalog';
import type { FaultOf, FaultQueue } from '../faults';
import { qwenId } from '../ids';
import { parseJsonObject, type JsonObject } from '../json';
import type { ResolvedOptions } from '../options';
import { PacedQueue, type PacedStep } from '../paced-queue';
import { sentenceFrames } from '../sentence-audio';
import { allSentences } from '../sentences';
import type { ClientFrame, SimConnection } from '../sim-connection';
import type { SimulatorStats } from '../stats';
import { TimerBag } from '../timer-bag';
import type { VoiceStore } from '../voice-store';
import * as ev from './events';
import { applySessionUpdate, defaultSessionConfig, describeSession, type QwenSessionConfig } from './session-config';
import { cutBuffer } from './server-cuts';
import { responseUsage } from './usage';
import { isQwenVoiceAllowed, voiceNotSupported } from './voice-check';

export interface QwenEnv {
  options: ResolvedOptions;
  faults: FaultQueue;
  stats: SimulatorStats;
  voices: VoiceStore;
}

type Phase = 'open' | 'finishing' | 'closing';

interface ActiveResponse {
  ref: ev.ResponseRef;
  usage: Record<string, unknown>;
}

const FAULT_EVENT: Record<NonNullable<FaultOf<'qwen-error'>['on']>, string> = {
  'session.update': 'session.update',
  append: 'input_text_buffer.append',
  commit: 'input_text_buffer.commit',
};

const THROTTLE_EVENT: Record<NonNullable<FaultOf<'qwen-throttle-close'>['on']>, string> = {
  ...FAULT_EVENT,
  'session.finish': 'session.finish',
};
const CLOSE_TRY_AGAIN_LATER = 1013;
const THROTTLE_REASON = 'Throttling.RateQuota: Requests rate limit exceeded, please try again later.';

export class QwenSession {
  private phase: Phase = 'open';
  private readonly model: CatalogModel | undefined;
  private config: QwenSessionConfig = defaultSessionConfig();
  private readonly sessionId = qwenId('sess');
  /** Text appended but not yet turned into a response (server_commit: not yet cut). */
  private buffer = '';
  private responseStarted = false;
  private createdSent = false;
  private active: ActiveResponse | undefined;
  private prevFrameMs = 0;
  /** A response of this session has started its audio with a container header (`qwen.containerHeaders`). */
  private headerSent = false;
  /** Characters billed so far in this session (`qwen.usage: 'cumulative'`). */
  private billedSoFar = 0;
  private readonly queue = new PacedQueue();
  private readonly timers = new TimerBag();
  private cancelIdle: () => void = () => undefined;

  constructor(
    readonly conn: SimConnection,
    private readonly modelId: string,
    private readonly env: QwenEnv,
  ) {
    this.model = findModel(modelId, QWEN_PROTOCOL);
    conn.onFrame((f) => this.onFrame(f));
    conn.onClose(() => this.dispose());
    this.announce();
    this.armIdle();
    this.armMaxDuration();
  }

  dispose(): void {
    this.phase = 'closing';
    this.queue.dispose();
    this.timers.clearAll();
  }

  /** §2: the handshake does not check the model; an unknown one gets session.created, then a silent close. */
  private announce(): void {
    const delay = this.env.faults.take('delay-session-created');
    this.queue.push({
      notBefore: delay ? Date.now() + delay.ms : undefined,
      run: () => {
        const c = this.config;
        this.conn.sendEvent(
          ev.sessionCreated({
            object: 'realtime.session',
            mode: c.mode,
            model: this.modelId,
            voice: c.voice,
            response_format: c.response_format,
            sample_rate: c.sample_rate,
            id: this.sessionId,
          }),
        );
        this.createdSent = true;
        if (this.model) return;
        if (this.env.options.qwen.unknownModel === 'error') this.conn.sendEvent(ev.error('invalid_value', `Model '${this.modelId}' is not supported.`));
        this.closeNow();
      },
    });
  }

  private closeNow(): void {
    this.phase = 'closing';
    this.queue.clear();
    this.timers.clearAll();
    this.conn.close(1000);
  }

  /** Acknowledgements go out at once, but never ahead of session.created. */
  private reply(event: Record<string, unknown>): void {
    if (this.createdSent) this.conn.sendEvent(event);
    else this.queue.push({ run: () => this.conn.sendEvent(event) });
  }

  private armIdle(): void {
    const ms = this.env.options.qwen.idleTimeoutMs;
    if (ms <= 0) return;
    this.cancelIdle();
    this.cancelIdle = this.timers.after(ms, () => {
      // Streaming audio is activity too; only a quiet session times out.
      if (this.queue.pending > 0) return this.armIdle();
      this.conn.sendEvent(ev.error('idle_timeout', `Session idle timeout: no client event for ${ms} ms.`));
      this.closeNow();
    });
  }

  /** §7: a maximum session duration is undocumented; when set, it ends the session even mid-response. */
  private armMaxDuration(): void {
    const ms = this.env.options.qwen.maxSessionMs;
    if (ms <= 0) return;
    this.timers.after(ms, () => {
      if (this.phase === 'closing') return;
      this.conn.sendEvent(ev.error('session_expired', `Session expired: the maximum session duration of ${ms} ms was reached.`));
      this.closeNow();
    });
  }

  private onFrame(frame: ClientFrame): void {
    if (this.phase !== 'open' || !this.model) return;
    this.armIdle();
    if (frame.binary) return this.reply(ev.error('invalid_value', 'Binary frames are not supported; send JSON events.'));
    const msg = parseJsonObject(frame.text);
    if (!msg || typeof msg.type !== 'string') return this.reply(ev.error('invalid_value', 'Invalid event: expected a JSON object with a "type".'));
    const type = msg.type;

    const throttled = this.env.faults.take('qwen-throttle-close', (f) => THROTTLE_EVENT[f.on ?? 'append'] === type);
    if (throttled) {
      this.phase = 'closing';
      this.queue.clear();
      this.timers.clearAll();
      this.conn.close(CLOSE_TRY_AGAIN_LATER, THROTTLE_REASON);
      return;
    }
    const fault = this.env.faults.take('qwen-error', (f) => !f.on || FAULT_EVENT[f.on] === type);
    if (fault) {
      this.reply(ev.error(fault.code, fault.message));
      if (fault.fatal) this.closeNow();
      return;
    }
    this.dispatch(type, msg, this.model);
  }

  private dispatch(type: string, msg: JsonObject, model: CatalogModel): void {
    switch (type) {
      case 'session.update':
        return this.sessionUpdate(msg, model);
      case 'input_text_buffer.append':
        return this.append(msg);
      case 'input_text_buffer.commit':
        return this.commit();
      case 'input_text_buffer.clear':
        this.buffer = '';
        return this.reply(ev.cleared());
      case 'session.finish':
        return this.finish();
      case 'response.cancel':
        return this.cancelResponse();
      default:
        return this.reply(ev.error('invalid_value', `Unknown event type '${type}'.`));
    }
  }

  private sessionUpdate(msg: JsonObject, model: CatalogModel): void {
    this.env.stats.sessionUpdates += 1;
    if (this.responseStarted) {
      return this.reply(ev.error('invalid_value', 'Session update error: session already started or finished or failed.'));
    }
    const q = this.env.options.qwen;
    const r = applySessionUpdate(this.config, msg.session, model, this.env.voices, q.extraSampleRates, { voice: q.voiceCheckedAt, otherSampleRate: q.otherSampleRates });
    if (!r.ok) return this.reply(ev.error('invalid_value', r.message));
    this.config = r.config;
    this.reply(ev.sessionUpdated(describeSession(this.sessionId, this.modelId, this.config)));
  }

  private append(msg: JsonObject): void {
    if (typeof msg.text !== 'string') return this.reply(ev.error('invalid_value', "input_text_buffer.append needs a string 'text'."));
    if (!msg.text) return;
    this.buffer += msg.text;
    if (this.config.mode !== 'server_commit') return;
    const q = this.env.options.qwen;
    const { pieces, rest } = cutBuffer(this.buffer, q);
    this.buffer = rest;
    for (const piece of pieces) {
      if (q.announceServerCommits) this.reply(ev.committed(qwenId('item')));
      this.enqueueResponse([piece]);
    }
  }

  private commit(): void {
    // "The buffer" is what has not been turned into a response yet: in server_commit mode the
    // service's own cuts empty it (measured: a commit after the service cut everything is refused
    // with "buffer is empty").
    const text = this.takeBuffer();
    if (!text) return this.emptyCommit();
    this.reply(ev.committed(qwenId('item')));
    if (this.config.mode === 'commit') this.respondToCommit(text);
    else this.enqueueResponse([text]);
  }

  /** §4.3: the docs say an error; the code, and whether it may be a bare `committed` or nothing, are unconfirmed. */
  private emptyCommit(): void {
    switch (this.env.options.qwen.emptyCommit) {
      case 'error':
        return this.reply(ev.error('invalid_value', 'Error committing input text buffer: buffer is empty.'));
      case 'committed':
        return this.reply(ev.committed(qwenId('item')));
      case 'ignore':
        return;
    }
  }

  /** commit mode: one response for the committed text (§6.2), or one per sentence of it (unconfirmed). */
  private respondToCommit(text: string): void {
    const q = this.env.options.qwen;
    const sentences = allSentences(text, q.sentenceTerminators);
    if (q.responsesPerCommit === 'per-sentence') for (const s of sentences) this.enqueueResponse([s]);
    else this.enqueueResponse(sentences);
  }

  private finish(): void {
    this.phase = 'finishing';
    this.cancelIdle();
    const text = this.takeBuffer();
    if (text) {
      // §4.5: server_commit synthesizes the whole remaining buffer; commit mode's uncommitted text is unconfirmed.
      if (this.config.mode === 'server_commit') this.enqueueResponse([text]);
      else if (this.env.options.qwen.uncommittedOnFinish === 'synthesize') this.respondToCommit(text);
    }
    this.queue.push({
      run: () => {
        this.conn.sendEvent(ev.sessionFinished());
        this.closeNow();
      },
    });
  }

  private takeBuffer(): string {
    const t = this.buffer;
    this.buffer = '';
    return t;
  }

  /** response.cancel (SDK-only, §4.6): simulator proposal — stop deltas, response.done "cancelled". */
  private cancelResponse(): void {
    const active = this.active;
    if (!active) return this.reply(ev.error('response_cancel_not_active', 'Cancellation failed: no active response found.'));
    this.queue.drop(active.ref.id);
    this.queue.pushFront({
      run: () => {
        this.conn.sendEvent(ev.responseDone(active.ref, 'cancelled', active.usage));
        this.env.stats.responses.done += 1;
        this.active = undefined;
      },
    });
  }

  /** Counts the response's billed characters, and reports them per response or as the session's total (`qwen.usage`). */
  private usageOf(usage: Record<string, unknown>): Record<string, unknown> {
    if (typeof usage.characters !== 'number') return usage;
    this.billedSoFar += usage.characters;
    this.env.stats.billedCharacters += usage.characters;
    return this.env.options.qwen.usage === 'cumulative' ? { ...usage, characters: this.billedSoFar } : usage;
  }

  /**
   * One response: created → item added → part added → deltas → audio/part/item done → response.done.
   * A response-status fault ends it early: only its first `afterFrames` deltas, then that status.
   */
  private enqueueResponse(sentences: string[]): void {
    const model = this.model;
    if (!model || sentences.length === 0) return;
    const c = this.config;
    if (!isQwenVoiceAllowed(model, c.voice, this.env.voices)) return this.reply(ev.error('invalid_value', voiceNotSupported(c.voice)));
    this.responseStarted = true;
    const { options, stats } = this.env;
    const ref: ev.ResponseRef = { id: qwenId('resp'), itemId: qwenId('item'), voice: c.voice };
    const shape = { voice: c.voice, sampleRate: c.sample_rate, format: c.response_format, chunkMs: options.chunkMs };
    const header = options.qwen.containerHeaders === 'per-response' || !this.headerSent;
    this.headerSent = true;
    const synthesized = sentences.flatMap((s, i) => sentenceFrames(s, shape, header && i === 0));
    const early = this.env.faults.take('response-status');
    const frames = early ? synthesized.slice(0, Math.max(0, early.afterFrames ?? 0)) : synthesized;
    const status: ev.ResponseStatus = early?.status ?? 'completed';
    const text = sentences.join('');
    const usage = this.usageOf(responseUsage(model, text, frames.reduce((a, f) => a + f.durationMs, 0)));
    const readyAt = Date.now();

    const steps: PacedStep[] = [
      {
        tag: ref.id,
        run: () => {
          this.active = { ref, usage };
          this.conn.sendEvent(ev.responseCreated(ref));
          stats.responses.created += 1;
          this.conn.sendEvent(ev.outputItemAdded(ref));
          this.conn.sendEvent(ev.contentPartAdded(ref));
        },
      },
    ];
    frames.forEach((frame, i) => {
      steps.push({
        tag: ref.id,
        notBefore: i === 0 ? readyAt + options.firstAudioLatencyMs : undefined,
        gapMs: (i === 0 ? this.prevFrameMs : (frames[i - 1]?.durationMs ?? 0)) * options.realTimeFactor,
        run: () => {
          if (!this.conn.emitAudioFrame(() => this.conn.sendEvent(ev.audioDelta(ref, frame.data)))) this.dispose();
        },
      });
    });
    this.prevFrameMs = frames[frames.length - 1]?.durationMs ?? 0;
    steps.push({
      tag: ref.id,
      run: () => {
        this.conn.sendEvent(ev.audioDone(ref));
        this.conn.sendEvent(ev.contentPartDone(ref));
        this.conn.sendEvent(ev.outputItemDone(ref));
        this.conn.sendEvent(ev.responseDone(ref, status, usage));
        stats.responses.done += 1;
        this.active = undefined;
      },
    });
    this.queue.push(...steps);
  }
}
