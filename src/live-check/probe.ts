/**
 * What a live-check probe is: a short conversation with the real service, through the package's
 * own protocol clients (src/dashscope/), that answers one or more points of docs/protocol.md
 * "Unconfirmed points". Probes run one after another; each reports its findings as it learns
 * them, so an interrupted run still reports what it learned so far.
 */
import type { Credentials } from '../dashscope/auth';
import type { Endpoints, Region } from '../dashscope/endpoints';
import type { WireTap } from '../dashscope/wire-tap';

/** A point's id: an id of docs/protocol.md "Unconfirmed points", or of a live-check question (points.ts). */
export type PointId = string;

/** One question the kit asks the service, and what the package assumes about it. */
export interface Point {
  id: PointId;
  /** The question, as a user reads it in the report. */
  question: string;
  /** The reading the package assumes: one of `readings`. */
  packageDefault: string;
  /**
   * The readings the kit can tell apart, each named as the report prints it. Every reading that is
   * a simulator variant is tested offline: the kit names it when the simulator plays it.
   */
  readings: readonly string[];
  /**
   * Readings that say nothing about the package (a model this account may not use; a latency that
   * depends on the user's distance from the service): reported as "?" with their evidence, never
   * as a match or a mismatch.
   */
  neutral?: readonly string[];
}

export interface Finding {
  point: PointId;
  /** The reading the service showed (one of the point's readings); undefined when this run could not tell. */
  shown?: string;
  /** What was seen, in one line: codes, counts, times, the text sent. Never the key or a signed URL. */
  evidence: string;
}

export interface ProbeContext {
  readonly endpoints: Endpoints;
  readonly credentials: Credentials;
  readonly region: Region;
  /** Records every frame and request into the transcript; give it to every client call. */
  readonly tap: WireTap;
  /** Ctrl-C or the run's deadline: a probe stops at once, closing what it opened. */
  readonly signal: AbortSignal;
  /**
   * 1 against the service. Tests and replays run faster: every wait a probe makes is multiplied
   * by it, and every time it measures is divided by it before it is reported.
   */
  readonly timeScale: number;
  /** One line of progress for the person running the check. */
  progress(line: string): void;
}

export interface Probe {
  /** Short stable id, also the `--only` name and the transcript's probe marker. */
  id: string;
  /** What it does, in a few words, for the plan printed before the run. */
  title: string;
  /** Slow (minutes of waiting): only with --long. */
  long?: boolean;
  /** The most billed characters it can cost (docs/protocol.md "Character counting"); its texts are fixed, so this is exact. */
  maxCharacters: number;
  /** The points it answers. */
  points: readonly PointId[];
  /** Runs the probe; `found` is called once per point as soon as it is answered (or known unanswerable). */
  run(ctx: ProbeContext, found: (finding: Finding) => void): Promise<void>;
}
