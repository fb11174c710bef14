import type { HttpAccess } from '../dashscope/http-json';

/** What the custom-voice work needs from whoever asked for it (a voice node's job). */
export interface ActionContext {
  http: HttpAccess;
  /** Aborts uploads, calls and polling (the node was closed). */
  signal: AbortSignal;
  /** Where the work has got to (a node's status line says it in the user's words). */
  progress(step: VoiceStep, detail?: { seconds: number }): void;
}

/** The steps of the custom-voice work; `deploying` may come with the seconds waited so far. */
export type VoiceStep =
  | 'checkingSample'
  | 'uploadingSample'
  | 'creatingVoice'
  | 'deploying'
  | 'updatingVoice'
  | 'designingVoice'
  | 'listingVoices'
  | 'queryingVoice'
  | 'deletingVoice';
