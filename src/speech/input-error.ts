/** A message the node cannot speak. `code` reaches catch nodes as msg.error.code. */
export class InputError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'InputError';
    this.code = code;
  }
}
