/**
 * The part of the optional `speaker` addon this package uses, declared here so that the type
 * check never depends on the addon having been built (it is an optional dependency with a native
 * ALSA build, absent on a machine without libasound2-dev or after `npm ci --omit=optional`).
 *
 * The addon's own index.d.ts also lacks options its code reads (`device`, `signed`,
 * `samplesPerFrame`), so this declaration is the more accurate one anyway.
 */
export interface SpeakerOptions {
  readonly channels: number;
  readonly bitDepth: number;
  readonly sampleRate: number;
  readonly signed?: boolean;
  /** Frames per native write; the addon splits larger writes into writes of this many frames. */
  readonly samplesPerFrame?: number;
  /** An ALSA pcm name; the default device when absent. */
  readonly device?: string;
}

/** A `speaker` instance: a Writable stream onto the device, with the addon's own `close`. */
export interface SpeakerStream {
  write(chunk: Buffer, callback: (err?: Error | null) => void): boolean;
  /** `flush` true drops what the device still holds; false drains it (synchronously, on this thread). */
  close(flush: boolean): void;
  on(event: 'error', listener: (err: Error) => void): this;
}

export type SpeakerConstructor = new (options: SpeakerOptions) => SpeakerStream;

/** Where the addon would load from, or undefined when it is not installed. */
export function resolveSpeaker(): string | undefined {
  try {
    return require.resolve('speaker');
  } catch {
    return undefined;
  }
}

/**
 * Loads the addon. Only call it once `probeSpeaker` said loading is safe in this process: loading
 * opens the default ALSA device and aborts the process when there is none. The bundler keeps
 * `speaker` external, so this resolves the installed addon at run time.
 */
export function loadSpeaker(): SpeakerConstructor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('speaker') as SpeakerConstructor;
}
