/** Simulator options and their defaults (timeouts shortened in tests, real values by default). */
import { DEFAULT_CHUNK_MS } from './audio-frames';
import type { ReplayOptions } from './replay';
import { COSYVOICE_TERMINATORS, QWEN_TERMINATORS } from './sentences';

export interface CosyVoiceOptions {
  /** Mid-task silence before `request timeout after 23 seconds.` (cosyvoice.md §5.2). */
  taskTimeoutMs?: number;
  /** Idle connection close after a task ended, or after connecting (§7). */
  idleCloseMs?: number;
  /** run-task while a task runs: docs disagree (§5.4); default is the stricter rejection. */
  runTaskWhileRunning?: 'reject' | 'replace';
  /** Where word timestamps travel: docs disagree (§6.2); default sentence-end. */
  wordsIn?: 'sentence-end' | 'task-finished' | 'both';
  /** 0 = off; otherwise run-tasks beyond N per rolling second per API key fail with Throttling.RateQuota. */
  rateLimitPerSecond?: number;
  sentenceTerminators?: string;
  /** error_code of the 23 s timeout: docs disagree between InvalidParameter and CLIENT_ERROR (§6.5). */
  timeoutErrorCode?: string;
  /**
   * Where a wav/mp3 container header (RIFF / ID3) travels. Docs: only the first binary frame of a
   * task carries it (§3, §10), so each task is a whole file; whether a task's later sentences
   * start another one is not stated (unconfirmed). Default 'per-task'.
   */
  containerHeaders?: 'per-task' | 'per-sentence';
  /**
   * A continue-task whose text is only whitespace. Docs only say empty/missing text fails with
   * `Please ensure input text is valid.` (§5.2); whitespace is unconfirmed. Default 'accept'.
   */
  blankContinueTask?: 'accept' | 'fail';
  /**
   * How a run-task beyond `rateLimitPerSecond` is refused: task-failed `Throttling.RateQuota`, or a
   * connection close (1013 "try again later", the same words as reason) — §6.5 "task-failed / close
   * (unconfirmed on WS)". Default 'task-failed'.
   */
  throttleAnswer?: 'task-failed' | 'close';
}

export interface QwenOptions {
  /** 0 = off; otherwise an `error` then close when no client event arrives for this long (§7). */
  idleTimeoutMs?: number;
  /** Fate of appended-but-uncommitted text at session.finish in commit mode (§4.5). */
  uncommittedOnFinish?: 'discard' | 'synthesize';
  sentenceTerminators?: string;
  /** Rates accepted besides the documented four (SDK docstrings also list 22050/44100 — docs disagree). */
  extraSampleRates?: number[];
  /** server_commit: the service cuts its buffer into a response at sentence ends only, or at clause marks too (unconfirmed). */
  serverCuts?: 'sentence' | 'clause';
  /** server_commit: 0 = no limit; otherwise a cut also when this many characters wait without a cut point (unconfirmed). */
  maxBufferChars?: number;
  /** server_commit: the service's own cuts are announced with input_text_buffer.committed (unconfirmed, §5.4). */
  announceServerCommits?: boolean;
  /** How a commit of an empty buffer is answered: the docs say an error (§4.3); code and alternatives unconfirmed. */
  emptyCommit?: 'error' | 'committed' | 'ignore';
  /** commit mode: one response per commit (documented), or one per sentence of the committed text (unconfirmed). */
  responsesPerCommit?: 'one' | 'per-sentence';
  /** 0 = off; otherwise the session gets an `error` and is closed this long after it opened (§7: undocumented). */
  maxSessionMs?: number;
  /**
   * wav/mp3: every response starts with its own container header, or only the session's first
   * (unconfirmed: docs/protocol.md "Unconfirmed points" qwen-container-headers). Default 'per-response'.
   */
  containerHeaders?: 'per-response' | 'per-session';
  /**
   * `response.done` `usage.characters`: this response's characters, or the session's total so far
   * (unconfirmed: docs/protocol.md "Unconfirmed points" qwen-usage). Default 'per-response'.
   */
  usage?: 'per-response' | 'cumulative';
  /**
   * A model the service does not know: session.created then a silent close (third-party), or an
   * `error` event before the close (docs/protocol.md "Unconfirmed points" qwen-unknown-model). Default 'close'.
   */
  unknownModel?: 'close' | 'error';
  /**
   * Where a voice the model does not have is refused: at session.update (default), or only when a
   * response would speak with it (session.updated echoes it first). The live check's qwen-bad-voice
   * question (docs/protocol.md "The live check") tells the two apart.
   */
  voiceCheckedAt?: 'session.update' | 'response';
  /**
   * A sample_rate the model does not take: refused with an error (default), or kept out silently,
   * session.updated echoing the rate in effect (docs/protocol.md "Unconfirmed points" qwen-extra-rates).
   */
  otherSampleRates?: 'refuse' | 'keep';
}

export type CloneUrlFailure = 'decoder' | 'file-too-large' | 'sample-rate' | 'silent' | 'internal' | 'undeployed';

export interface CustomizationOptions {
  /** CosyVoice clones/designs stay DEPLOYING this long; 0 = OK at the next look. */
  deployMs?: number;
  /** Per service voice quota (voice-customization.md §6). */
  quota?: number;
  /** Simulated download outcome per sample URL (§9: "configurable failures"). */
  urlFailures?: Record<string, CloneUrlFailure>;
  /** Minimum preview_text length (third-party rule); 0 disables. */
  qwenPreviewTextMinChars?: number;
  cosyvoicePreviewTextMinChars?: number;
  /** When set, Qwen clone creation answers fallback_mode: true with this reason. */
  qwenCloneFallbackReason?: string;
  /** Add target_model to CosyVoice list_voice entries (one doc lists it; unconfirmed). */
  listIncludesTargetModel?: boolean;
}

/** Temporary file upload (file-upload.md): the policy endpoint, the fake OSS bucket, oss:// resolution. */
export interface UploadOptions {
  /** `max_file_size_mb` per consuming model (unconfirmed for voice-enrollment; §7 suggests 10). */
  maxFileSizeMb?: Record<string, number>;
  /** For every other model. */
  defaultMaxFileSizeMb?: number;
  /** Credential lifetime (`expire_in_seconds`); 0 makes every upload find its policy expired. */
  policyExpireSeconds?: number;
  /** How long an uploaded object stays resolvable (docs: 48 h). */
  objectLifetimeMs?: number;
  /** 0 = off; otherwise getPolicy calls beyond N per rolling second per (account, model) get 429 (docs: 100). */
  policyRatePerSecond?: number;
  /** Clock for expiry checks, injectable so tests can travel 48 h. */
  now?: () => number;
}

export interface SimulatorOptions {
  host?: string;
  port?: number;
  apiKeys?: string[];
  /** Demo mode: any non-empty Bearer key is accepted. */
  acceptAnyKey?: boolean;
  firstAudioLatencyMs?: number;
  /** 0 = as fast as possible; 0.5 = one second of audio takes 500 ms to stream. */
  realTimeFactor?: number;
  chunkMs?: number;
  cosyvoice?: CosyVoiceOptions;
  qwen?: QwenOptions;
  customization?: CustomizationOptions;
  uploads?: UploadOptions;
  /** Keep per-connection transcripts (default true; the long-running demo turns it off). */
  recordTranscripts?: boolean;
  /** One short line per connection / notable event (the CLI sends it to stderr). */
  log?: (line: string) => void;
  /**
   * Answer from a live-check transcript instead of simulating (replay/index.ts): the recorded
   * connections, frames, refusals and HTTP answers, at the recorded gaps × timeScale.
   */
  replay?: ReplayOptions;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  apiKeys: ReadonlySet<string>;
  acceptAnyKey: boolean;
  firstAudioLatencyMs: number;
  realTimeFactor: number;
  chunkMs: number;
  cosyvoice: Required<CosyVoiceOptions>;
  qwen: Required<QwenOptions>;
  customization: Required<Omit<CustomizationOptions, 'qwenCloneFallbackReason'>> &
    Pick<CustomizationOptions, 'qwenCloneFallbackReason'>;
  uploads: Required<UploadOptions>;
  recordTranscripts: boolean;
  log: (line: string) => void;
  replay: ReplayOptions | undefined;
}

export function resolveOptions(o: SimulatorOptions = {}): ResolvedOptions {
  const c = o.cosyvoice ?? {};
  const q = o.qwen ?? {};
  const z = o.customization ?? {};
  const u = o.uploads ?? {};
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    apiKeys: new Set(o.apiKeys ?? ['sk-test-key']),
    acceptAnyKey: o.acceptAnyKey ?? false,
    firstAudioLatencyMs: Math.max(0, o.firstAudioLatencyMs ?? 0),
    realTimeFactor: Math.max(0, o.realTimeFactor ?? 0),
    chunkMs: o.chunkMs && o.chunkMs > 0 ? o.chunkMs : DEFAULT_CHUNK_MS,
    cosyvoice: {
      taskTimeoutMs: c.taskTimeoutMs ?? 23_000,
      idleCloseMs: c.idleCloseMs ?? 60_000,
      runTaskWhileRunning: c.runTaskWhileRunning ?? 'reject',
      wordsIn: c.wordsIn ?? 'sentence-end',
      rateLimitPerSecond: c.rateLimitPerSecond ?? 0,
      sentenceTerminators: c.sentenceTerminators ?? COSYVOICE_TERMINATORS,
      timeoutErrorCode: c.timeoutErrorCode ?? 'InvalidParameter',
      containerHeaders: c.containerHeaders ?? 'per-task',
      blankContinueTask: c.blankContinueTask ?? 'accept',
      throttleAnswer: c.throttleAnswer ?? 'task-failed',
    },
    qwen: {
      idleTimeoutMs: q.idleTimeoutMs ?? 0,
      uncommittedOnFinish: q.uncommittedOnFinish ?? 'discard',
      sentenceTerminators: q.sentenceTerminators ?? QWEN_TERMINATORS,
      extraSampleRates: q.extraSampleRates ?? [],
      serverCuts: q.serverCuts ?? 'sentence',
      maxBufferChars: Math.max(0, q.maxBufferChars ?? 0),
      announceServerCommits: q.announceServerCommits ?? false,
      emptyCommit: q.emptyCommit ?? 'error',
      responsesPerCommit: q.responsesPerCommit ?? 'one',
      maxSessionMs: Math.max(0, q.maxSessionMs ?? 0),
      containerHeaders: q.containerHeaders ?? 'per-response',
      usage: q.usage ?? 'per-response',
      unknownModel: q.unknownModel ?? 'close',
      voiceCheckedAt: q.voiceCheckedAt ?? 'session.update',
      otherSampleRates: q.otherSampleRates ?? 'refuse',
    },
    customization: {
      deployMs: z.deployMs ?? 0,
      quota: z.quota ?? 1000,
      urlFailures: z.urlFailures ?? {},
      qwenPreviewTextMinChars: z.qwenPreviewTextMinChars ?? 15,
      cosyvoicePreviewTextMinChars: z.cosyvoicePreviewTextMinChars ?? 0,
      qwenCloneFallbackReason: z.qwenCloneFallbackReason,
      listIncludesTargetModel: z.listIncludesTargetModel ?? false,
    },
    uploads: {
      maxFileSizeMb: { 'voice-enrollment': 10, ...u.maxFileSizeMb },
      defaultMaxFileSizeMb: u.defaultMaxFileSizeMb ?? 1024,
      policyExpireSeconds: u.policyExpireSeconds ?? 300,
      objectLifetimeMs: u.objectLifetimeMs ?? 48 * 3600_000,
      policyRatePerSecond: u.policyRatePerSecond ?? 0,
      now: u.now ?? Date.now,
    },
    recordTranscripts: o.recordTranscripts ?? true,
    log: o.log ?? (() => undefined),
    replay: o.replay,
  };
}
