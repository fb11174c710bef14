/**
 * Runs the live check's probes one after another and collects what each point showed. Usable in
 * process (tests run it against the simulator) as well as from the command (cli.ts): it prints
 * nothing itself; the caller hears of each probe and finding through `RunEvents`.
 *
 * A run must end, whatever the service does: each probe has a deadline, a probe that ignores its
 * abort is left behind after a short grace, and a service that cannot be reached at all ends the
 * run after the first probe instead of failing every probe one by one. A refused key ends it too
 * (before the probes with `preflight`, or when a probe meets it), and so does an account in
 * arrears: no probe may read that refusal as the service's answer to its point.
 */
import type { Credentials } from '../dashscope/auth';
import type { Endpoints, Region } from '../dashscope/endpoints';
import type { HttpTap, SocketTap, WireTap } from '../dashscope/wire-tap';
import { keyRefusedMessage, preflight } from './preflight';
import type { Finding, PointId, Probe, ProbeContext } from './probe';
import { PROBES } from './probes';
import { isUnreachable } from './probes/define';
import { Redactor } from './redact';
import { arrearsMessage, isArrears, isKeyRefusal } from './refusals';

/** The tap a run records through: the transcript, which also marks where each probe starts and ends. */
export interface RunTap extends WireTap {
  mark(probe: string, phase: 'start' | 'end'): void;
  /**
   * What the run concluded about a point, told as it is learned (the same moments as `found`), so
   * the transcript holds it among the frames it came from and a replay can be held to it.
   */
  finding?(finding: Finding): void;
}

/** One point of the plan and what the run learned about it. */
export interface Asked {
  point: PointId;
  /** The probe that asked it. */
  probe: string;
  /** The reading the service showed; undefined when the run could not tell. */
  shown?: string;
  evidence: string;
}

export interface RunEvents {
  /** A probe begins (after its start mark). */
  probeStarted?(probe: Probe, index: number, count: number): void;
  /** A point was answered (or given up) by the probe that asks it. */
  found?(asked: Asked): void;
  /** A probe is over: `error` is the message it failed with (never the key). */
  probeEnded?(probe: Probe, error: string | undefined): void;
}

export interface RunOptions extends RunEvents {
  endpoints: Endpoints;
  credentials: Credentials;
  region: Region;
  /** Include the slow probes (`Probe.long`). */
  long?: boolean;
  /** Probe ids to run (in the order of `probes`, whatever order they are named in); all when absent. */
  only?: readonly string[];
  tap: RunTap;
  /** Ctrl-C: the current probe is aborted, the rest are not asked. */
  signal?: AbortSignal;
  /** 1 against the service (ProbeContext.timeScale): the deadlines are scaled by it too. */
  timeScale?: number;
  progress?(line: string): void;
  /** Default PROBES. */
  probes?: readonly Probe[];
  /**
   * Ask the free key check (preflight.ts) before the first probe, so a refused key ends the run
   * before it can be read as answers. The command always does; off by default so a replayed
   * transcript recorded without it is answered request for request.
   */
  preflight?: boolean;
}

export interface RunResult {
  /** ISO times. */
  started: string;
  finished: string;
  /** Ctrl-C ended the run early. */
  interrupted: boolean;
  /** Set when the run stopped because the service could not be reached at all ("cannot reach …"). */
  unreachable?: string;
  /**
   * Set when the run stopped because the service refused the user's key ("the key was refused at
   * …"): before the probes (the preflight) or in the middle (revoked). No probe after it is asked.
   */
  keyRefused?: string;
  /**
   * Set when the run stopped because the service refused the account itself: it is in arrears
   * (`Arrearage`). Every later probe would be refused the same way. The upload-policy preflight
   * bills nothing, so it cannot see this: the first probe that speaks meets it.
   */
  accountRefused?: string;
  /** The probes the plan held, in order (some may not have run). */
  probes: readonly Probe[];
  /** One entry per point of the plan, in plan order. */
  asked: Asked[];
}

/** Generous: the slowest normal probe waits a few seconds; a service this slow is broken for speech anyway. */
export const PROBE_DEADLINE_MS = 60_000;
/** A long probe may wait this long on purpose (the 90 s idle close, the 120 s Qwen idle) before its deadline counts. */
export const LONG_PROBE_WAIT_MS = 120_000;
/** How long an aborted probe has to close what it opened before the run goes on without it. */
export const ABORT_GRACE_MS = 5_000;

/** The probes a run asks: `only` picks by id (a long one included when named); otherwise the normal ones, and the long ones with `long`. */
export function selectProbes(all: readonly Probe[], options: { long?: boolean; only?: readonly string[] }): Probe[] {
  if (options.only && options.only.length > 0) {
    const wanted = new Set(options.only);
    return all.filter((p) => wanted.has(p.id));
  }
  return all.filter((p) => !p.long || options.long === true);
}

/** The most the chosen probes can cost in billed characters (each probe's figure is exact). */
export function maxCharacters(probes: readonly Probe[]): number {
  return probes.reduce((sum, p) => sum + p.maxCharacters, 0);
}

/** A probe's deadline before scaling: a long probe's deliberate wait plus the normal allowance. */
export function probeDeadlineMs(probe: Probe): number {
  return (probe.long ? LONG_PROBE_WAIT_MS : 0) + PROBE_DEADLINE_MS;
}

/**
 * Watches the tap for any sign of the service: an open socket, a refused upgrade (an HTTP status
 * is an answer), a frame, an HTTP reply. Only a run that has seen none, and a connection that
 * failed, is "unreachable".
 */
class ReachWatch implements WireTap {
  contact = false;
  failure: string | undefined;
  /** The service took the key once (a socket opened, an HTTP request answered without an error): a refusal after that is not the region. */
  keyAccepted = false;

  constructor(private readonly inner: WireTap) {}

  socket(url: string): SocketTap {
    const tap = this.inner.socket(url);
    return {
      opened: () => {
        this.contact = true;
        this.keyAccepted = true;
        tap.opened();
      },
      refused: (status, body) => {
        this.contact = true;
        tap.refused(status, body);
      },
      failed: (message) => {
        this.failure ??= message;
        tap.failed(message);
      },
      sent: (data) => tap.sent(data),
      received: (data, isBinary) => {
        this.contact = true;
        tap.received(data, isBinary);
      },
      closing: (code) => tap.closing(code),
      closed: (code, reason) => tap.closed(code, reason),
    };
  }

  http(method: string, url: string, body: string | undefined): HttpTap {
    const tap = this.inner.http(method, url, body);
    return {
      replied: (status, text) => {
        this.contact = true;
        if (status < 400) this.keyAccepted = true;
        tap.replied(status, text);
      },
      failed: (message) => {
        this.failure ??= message;
        tap.failed(message);
      },
    };
  }
}

/** The words of an error, without the key (a message is built from service replies and our words, but a proxy could echo anything). */
function messageOf(err: unknown, redactor: Redactor): string {
  return redactor.text(err instanceof Error ? err.message : String(err));
}

type Outcome = { kind: 'returned' } | { kind: 'threw'; error: unknown } | { kind: 'deadline' } | { kind: 'abandoned' };

/**
 * Runs one probe under its own signal: aborted by the run's signal or by the deadline. Resolves
 * when the probe settles, or ABORT_GRACE_MS after an abort it does not honour.
 */
function runProbe(probe: Probe, ctx: ProbeContext, parent: AbortSignal | undefined, deadlineMs: number, graceMs: number, found: (f: Finding) => void): Promise<Outcome> {
  const controller = new AbortController();
  let expired = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const deadline = setTimeout(() => {
    expired = true;
    controller.abort();
  }, deadlineMs);
  const onParentAbort = (): void => controller.abort();
  if (parent?.aborted) controller.abort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });

  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(graceTimer);
      parent?.removeEventListener('abort', onParentAbort);
      resolve(outcome);
    };
    // A probe that does not return once aborted is left behind: the run (and Ctrl-C) must end.
    controller.signal.addEventListener('abort', () => {
      graceTimer = setTimeout(() => settle({ kind: 'abandoned' }), graceMs);
    }, { once: true });
    const guardedFound = (f: Finding): void => {
      if (!settled) found(f);
    };
    let running: Promise<void>;
    try {
      running = probe.run({ ...ctx, signal: controller.signal }, guardedFound);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      () => settle(expired ? { kind: 'deadline' } : { kind: 'returned' }),
      (error: unknown) => settle(expired ? { kind: 'deadline' } : { kind: 'threw', error }),
    );
  }).then((outcome) => (outcome.kind === 'abandoned' && expired ? { kind: 'deadline' } : outcome));
}

export async function runLiveCheck(options: RunOptions): Promise<RunResult> {
  const started = new Date().toISOString();
  const timeScale = options.timeScale ?? 1;
  const plan = selectProbes(options.probes ?? PROBES, options);
  const watch = new ReachWatch(options.tap);
  const asked: Asked[] = [];
  const byPoint = new Map<PointId, Asked>();
  const redactor = new Redactor([options.credentials.apiKey]);
  let interrupted = false;
  let unreachable: string | undefined;
  let keyRefused: string | undefined;
  let accountRefused: string | undefined;

  // Every point of the plan has its entry from the start, so a run cut short still reports each one.
  for (const probe of plan) {
    for (const point of probe.points) {
      if (byPoint.has(point)) continue;
      const entry: Asked = { point, probe: probe.id, evidence: 'not asked' };
      byPoint.set(point, entry);
      asked.push(entry);
    }
  }

  const tell = (entry: Asked): void => {
    options.tap.finding?.({ point: entry.point, shown: entry.shown, evidence: entry.evidence });
    options.found?.({ ...entry });
  };

  const record = (probe: Probe, finding: Finding, answered: Set<PointId>): void => {
    let entry = byPoint.get(finding.point);
    if (!entry) {
      // A point the probe did not declare: still worth reporting.
      entry = { point: finding.point, probe: probe.id, evidence: '' };
      byPoint.set(finding.point, entry);
      asked.push(entry);
    }
    // The first answer stands; a later probe asking the same point only fills in one left open.
    if (entry.shown !== undefined) return;
    entry.probe = probe.id;
    entry.shown = finding.shown;
    entry.evidence = messageOf(finding.evidence, redactor);
    answered.add(finding.point);
    tell(entry);
  };

  const giveUp = (probe: Probe, answered: ReadonlySet<PointId>, evidence: string, told: boolean): void => {
    for (const point of probe.points) {
      const entry = byPoint.get(point);
      if (!entry || answered.has(point) || entry.shown !== undefined) continue;
      entry.probe = probe.id;
      entry.evidence = evidence;
      if (told) tell(entry);
    }
  };

  const ctx: ProbeContext = {
    endpoints: options.endpoints,
    credentials: options.credentials,
    region: options.region,
    tap: watch,
    signal: options.signal ?? new AbortController().signal,
    timeScale,
    progress: (line) => options.progress?.(messageOf(line, redactor)),
  };

  // The key check goes first, marked in the transcript like a probe; it answers no point, and only a
  // refused key or an unreachable host (not, say, a proxy without its path) changes the run.
  const steps = options.preflight ? [preflight, ...plan] : plan;
  for (let s = 0; s < steps.length; s++) {
    const probe = steps[s] as Probe;
    const i = plan.indexOf(probe);
    const stoppedBy = unreachable ?? keyRefused ?? accountRefused;
    if (options.signal?.aborted) {
      interrupted = true;
      giveUp(probe, new Set(), 'not asked: interrupted', false);
      continue;
    }
    if (stoppedBy) {
      giveUp(probe, new Set(), `not asked: ${stoppedBy}`, false);
      continue;
    }
    options.tap.mark(probe.id, 'start');
    if (i >= 0) options.probeStarted?.(probe, i, plan.length);
    const answered = new Set<PointId>();
    const deadlineMs = probeDeadlineMs(probe) * timeScale;
    const outcome = await runProbe(probe, ctx, options.signal, deadlineMs, ABORT_GRACE_MS * timeScale, (f) => record(probe, f, answered));
    options.tap.mark(probe.id, 'end');

    let error: string | undefined;
    if (options.signal?.aborted) {
      interrupted = true;
      error = 'interrupted';
    } else if (outcome.kind === 'deadline') {
      error = `no answer within ${Math.round(deadlineMs / timeScale / 1000)} s`;
    } else if (outcome.kind === 'threw') {
      error = messageOf(outcome.error, redactor);
    } else if (outcome.kind === 'abandoned') {
      error = 'did not stop when asked';
    }
    if (!watch.contact && (watch.failure !== undefined || (outcome.kind === 'threw' && isUnreachable(outcome.error)))) {
      unreachable = `cannot reach ${hostOf(options.endpoints)}: ${messageOf(watch.failure ?? error ?? 'no connection', redactor)}`;
    } else if (outcome.kind === 'threw' && isKeyRefusal(outcome.error, { accepted: watch.keyAccepted }) && !options.signal?.aborted) {
      // A probe rethrows a refusal of the user's key (probes/define.ts refusalOf): every later probe
      // would be refused too, and read it as an answer. Refused after the key was taken once: revoked.
      // Once taken, only a 401 or an auth code is the key's (refusals.ts): a bare 403 is the account's.
      keyRefused = messageOf(keyRefusedMessage(hostOf(options.endpoints), options.region, outcome.error, watch.keyAccepted), redactor);
      error = keyRefused;
    } else if (outcome.kind === 'threw' && isArrears(outcome.error) && !options.signal?.aborted) {
      accountRefused = messageOf(arrearsMessage(hostOf(options.endpoints), outcome.error), redactor);
      error = accountRefused;
    }
    giveUp(probe, answered, error ?? 'the probe could not tell', true);
    if (i >= 0) options.probeEnded?.(probe, error);
  }

  return { started, finished: new Date().toISOString(), interrupted, unreachable, keyRefused, accountRefused, probes: plan, asked };
}

/** The host a run talks to, for the plan and the "cannot reach" line. */
export function hostOf(endpoints: Endpoints): string {
  return new URL(endpoints.httpBase).host;
}
