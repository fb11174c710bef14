import { isVoiceRequired } from '../../speech/input-error';

/** A voice that is no system voice: what the deploy check puts where a message's msg.voice will be. */
const STAND_IN_VOICE = 'a-voice-from-msg-voice';

export interface NodeDefaults<Settings> {
  /** The node's own settings, when they are complete and valid. */
  defaults?: Settings;
  /** What is wrong with them: shown at deploy, and the error of every message that needs them. */
  defaultsError?: Error;
  /**
   * The node waits for msg.voice (a model with only custom voices, the Voice left empty): not an
   * error at deploy; the error of a message that brings none.
   */
  voiceRequired?: Error;
}

/**
 * A speech node's own settings, checked once at deploy. `resolve(voice)` resolves them, with
 * `voice` standing in for msg.voice when given. A node waiting for msg.voice still has the rest
 * of its settings checked now, so a bad rate is not discovered at the first alert.
 */
export function nodeDefaults<Settings>(resolve: (voice?: string) => Settings): NodeDefaults<Settings> {
  try {
    return { defaults: resolve() };
  } catch (err) {
    if (!isVoiceRequired(err)) return { defaultsError: err as Error };
    try {
      resolve(STAND_IN_VOICE);
      return { voiceRequired: err };
    } catch (other) {
      return { defaultsError: other as Error };
    }
  }
}
