/** A message the node cannot speak. `code` reaches catch nodes as msg.error.code. */
export class InputError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'InputError';
    this.code = code;
  }
}

/**
 * A model that speaks only custom voices, with no voice set on the node: the flow gives one with
 * each message (msg.voice), as the voice-design example does. Not a settings error at deploy;
 * a message without msg.voice is refused with it.
 */
export function isVoiceRequired(err: unknown): err is InputError {
  return err instanceof InputError && err.code === 'VoiceRequired';
}
