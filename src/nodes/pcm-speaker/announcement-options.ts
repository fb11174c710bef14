import { speakerVolumeOf, ttlMsOf, type Chime, type UtteranceOptions } from '../../audio/announcement';
import { requestedAtOf } from '../../audio/audio-message';
import { MAX_CHIME_FILE_BYTES, MAX_CHIME_SECONDS, namesFile, type ChimeLibrary } from '../../audio/chime';
import { AudioInputError } from '../../audio/pcm-format';
import { monotonicNow, type Now } from '../../audio/playback-clock';
import type { Message } from '../shared/message-base';

export interface AnnouncementHooks {
  /** The chime could not be loaded: the utterance plays without it (an alert is never silenced by its chime). */
  chimeFailed(err: Error, msg: Message): void;
  /** Why a file named by msg.chime was refused, and which: for the debug log, never for the error. */
  logDetail(text: string): void;
}

/**
 * The one error for every file msg.chime names that cannot be played. msg.chime often comes from
 * outside the flow (http in, MQTT): it may name only files of the chime folder, and an error that
 * told "no such file" from "outside the folder", "not a file" or "not a WAV" would answer
 * questions about the disk (as for voice samples, README "Security and limits"). It names where
 * files may come from, never the path or the reason. The node's own chime, set by the flow's
 * author, is reported with its reason.
 */
export const CHIME_FILE_REFUSED = `msg.chime: cannot use this file as a chime (msg.chime files are read only from the folder set by pcmSpeakerChimeFolder in settings.js: a PCM WAV file of at most ${MAX_CHIME_FILE_BYTES / 1024 / 1024} MB and ${MAX_CHIME_SECONDS} s)`;

/** settings.js `pcmSpeakerChimeFolder`: the one folder msg.chime may name files in; undefined: none (every file is refused). */
export function chimeFolderOf(settings: Record<string, unknown>): string | undefined {
  const folder = settings.pcmSpeakerChimeFolder;
  return typeof folder === 'string' && folder.trim() !== '' ? folder.trim() : undefined;
}

/**
 * What one message and the node's settings ask of an utterance (src/audio/announcement.ts): its
 * chime (msg.chime: a name, a file of the chime folder, or false for none; absent: the node's), its volume
 * (msg.speakerVolume), its expiry (msg.ttl, counted from msg.audio.requestedAt when the speech node
 * set it, else from now) and where its first-audio latency counts from.
 *
 * Asked once per utterance, on its first chunk (the player calls `options()` then): a bad
 * msg.speakerVolume or msg.ttl throws AudioInputError('InvalidInput'), which refuses that
 * utterance. A chime that cannot be loaded does not: it is reported and left out.
 */
export class Announcements {
  constructor(
    private readonly library: ChimeLibrary,
    /** The node's chime ('' none): a built-in name or any absolute path (the flow's author chose it). */
    private readonly nodeChime: string,
    /** settings.js pcmSpeakerChimeFolder (chimeFolderOf): where msg.chime may name files; undefined: nowhere. */
    private readonly chimeFolder: string | undefined,
    private readonly hooks: AnnouncementHooks,
    private readonly now: Now = monotonicNow,
  ) {}

  /** The node's own chime, loaded at deploy so that a missing file shows then, not at the first alert. */
  check(): Error | undefined {
    if (this.nodeChime === '') return undefined;
    try {
      this.library.load(this.nodeChime);
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /** `audio`: msg.audio as readAudioMessage read it (the audio message contract is read in one place). */
  options(msg: Message, audio: unknown): UtteranceOptions {
    // The refusals first: a refused utterance has no chime to complain about.
    const volumePercent = speakerVolumeOf(msg.speakerVolume);
    const ttlMs = ttlMsOf(msg.ttl);
    const now = this.now();
    const requestedAt = requestedAtOf(audio, now);
    const options: UtteranceOptions = {};
    if (volumePercent !== undefined) options.volumePercent = volumePercent;
    if (requestedAt !== undefined) options.requestedAt = requestedAt;
    if (ttlMs !== undefined) options.expiresAt = (requestedAt ?? now) + ttlMs;
    const chime = this.chimeOf(msg);
    if (chime) options.chime = chime;
    return options;
  }

  private chimeOf(msg: Message): Chime | undefined {
    const spec = msg.chime;
    if (spec === false) return undefined;
    const fromMessage = !(spec === undefined || spec === null || spec === '');
    const name = fromMessage ? spec : this.nodeChime;
    if (name === '') return undefined;
    try {
      if (typeof name !== 'string') throw new AudioInputError('ChimeUnavailable', `msg.chime must be a chime name, a file path or false (got ${Array.isArray(name) ? 'an array' : typeof name})`);
      const spec = name.trim();
      // A name (built-in or unknown) touches no disk: its error may say why.
      return fromMessage && namesFile(spec) ? this.messageFile(spec) : this.library.load(spec);
    } catch (err) {
      this.hooks.chimeFailed(err as Error, msg);
      return undefined;
    }
  }

  /** A file msg.chime names: only inside the chime folder, every refusal the same error. */
  private messageFile(spec: string): Chime {
    if (this.chimeFolder === undefined) throw this.refuseFile(`pcmSpeakerChimeFolder is not set in settings.js (msg.chime ${JSON.stringify(spec)})`);
    try {
      return this.library.loadInFolder(spec, this.chimeFolder);
    } catch (err) {
      // Anything unforeseen is refused the same way: its message could name the path or the reason.
      throw this.refuseFile(err instanceof Error ? err.message : String(err));
    }
  }

  private refuseFile(detail: string): AudioInputError {
    this.hooks.logDetail(`chime file refused: ${detail}`);
    return new AudioInputError('ChimeUnavailable', CHIME_FILE_REFUSED);
  }

}
