/**
 * Every probe, in the order a run asks them: the quick ones first, the long ones (--long) last.
 * cv-throttle goes over the account's rate on purpose: it is the last quick probe, so that no
 * other reads a lingering rate limit (it cools down before the long ones).
 */
import type { Probe } from '../probe';
import { cvBlank } from './cv-blank';
import { cvBusy } from './cv-busy';
import { cvContainers } from './cv-containers';
import { cvModels } from './cv-models';
import { cvStream } from './cv-stream';
import { cvThrottle } from './cv-throttle';
import { cvWords } from './cv-words';
import { errorsProbe } from './errors';
import { cvIdle, cvTimeout, qwenIdle } from './long';
import { qwenCommit } from './qwen-commit';
import { qwenCuts } from './qwen-cuts';
import { qwenModes } from './qwen-modes';
import { qwenRates } from './qwen-rates';
import { uploadPolicy } from './upload-policy';

export const PROBES: readonly Probe[] = [
  cvModels,
  cvStream,
  cvContainers,
  cvWords,
  cvBlank,
  cvBusy,
  errorsProbe,
  qwenModes,
  qwenCuts,
  qwenCommit,
  qwenRates,
  uploadPolicy,
  cvThrottle,
  cvIdle,
  cvTimeout,
  qwenIdle,
];
