/**
 * The bounds on what messages can make the package do, from settings.js (never from a flow, which
 * may have been imported from anywhere):
 *
 *   ttsLimits: { queuedUtterances: 100, utteranceCharacters: 50000, speakerBufferSeconds: 300 }
 *   ttsVoiceSampleFolder: '/home/pi/voice-samples'
 *
 * A missing or malformed value means the default; none of them can be switched off.
 */
export interface Limits {
  /** Utterances a synthesis node holds (the one speaking included); more are refused. */
  queuedUtterances: number;
  /** Characters of one utterance (billed per character); a longer text is refused. */
  utteranceCharacters: number;
  /** Audio pcm-speaker holds that is not yet written to the device. */
  speakerBufferMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  queuedUtterances: 100,
  utteranceCharacters: 50_000,
  speakerBufferMs: 300_000,
});

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

export function limitsOf(settings: Record<string, unknown>): Limits {
  const raw = settings.ttsLimits;
  const given = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const seconds = positive(given.speakerBufferSeconds);
  return {
    queuedUtterances: Math.floor(positive(given.queuedUtterances) ?? DEFAULT_LIMITS.queuedUtterances) || 1,
    utteranceCharacters: Math.floor(positive(given.utteranceCharacters) ?? DEFAULT_LIMITS.utteranceCharacters) || 1,
    speakerBufferMs: seconds === undefined ? DEFAULT_LIMITS.speakerBufferMs : Math.round(seconds * 1000),
  };
}

/** The one folder voice-clone may read local sample files from; undefined: none (paths are refused). */
export function sampleFolderOf(settings: Record<string, unknown>): string | undefined {
  const folder = settings.ttsVoiceSampleFolder;
  return typeof folder === 'string' && folder.trim() !== '' ? folder.trim() : undefined;
}
