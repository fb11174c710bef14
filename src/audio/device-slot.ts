import type { PcmFormat } from './pcm-format';
import type { BackendName, PcmSink } from './sinks/sink';

export interface DeviceSlotEvents {
  /** An open, abort or close is over: writing may go on. */
  settled(): void;
  /** The device could not be opened (no `sink`), or `sink` failed while open, outside a write. */
  failed(err: Error, sink?: PcmSink): void;
}

/**
 * The one device a player writes to, and its life cycle. Opening, aborting and closing are
 * asynchronous (an aplay child must exit, a speaker write in flight must end first) and nothing is
 * written meanwhile, so a device is always released before the next one opens: a `hw:` device
 * cannot be opened twice.
 */
export class DeviceSlot {
  private sink: PcmSink | undefined;
  /** Every device opened and not yet released: close() releases them all. */
  private readonly live = new Set<PcmSink>();
  private transition: Promise<void> | undefined;
  private retireTimer: NodeJS.Timeout | undefined;
  private retireReason: 'idle' | 'format' | undefined;
  private closed = false;
  private last: BackendName | undefined;

  constructor(
    private readonly openSink: (format: PcmFormat) => Promise<PcmSink>,
    private readonly events: DeviceSlotEvents,
  ) {}

  /** The open device, if any. */
  get current(): PcmSink | undefined {
    return this.sink;
  }

  /** An open, abort or close is under way. */
  get busy(): boolean {
    return this.transition !== undefined;
  }

  /** The backend of the open device, else of the last one. */
  get backend(): BackendName | undefined {
    return this.sink?.backend ?? this.last;
  }

  open(format: PcmFormat): void {
    this.run(
      this.openSink(format).then(
        (sink) => {
          this.live.add(sink);
          if (this.closed) return this.release(sink, sink.abort());
          this.sink = sink;
          this.last = sink.backend;
          sink.onFailure((err) => {
            if (this.sink === sink) this.events.failed(err, sink);
          });
          return undefined;
        },
        (err: Error) => {
          if (!this.closed) this.events.failed(err);
        },
      ),
    );
  }

  /** Drops what the device holds, at once: stop, cut-in, failure. */
  abort(): void {
    this.clearRetire();
    const sink = this.sink;
    this.sink = undefined;
    if (!sink) return;
    // At once when nothing else is under way: a stop must not wait for a tick.
    this.run(this.transition ? this.transition.then(() => this.release(sink, sink.abort())) : this.release(sink, sink.abort()));
  }

  /**
   * Closes the device after `afterMs`, when what it holds has played: `idle` after the last
   * utterance, `format` to reopen it for another format. An idle close is cancelled by new audio.
   */
  retire(reason: 'idle' | 'format', afterMs: number): void {
    if (!this.sink || (this.retireTimer && this.retireReason === reason)) return;
    this.clearRetire();
    this.retireReason = reason;
    this.retireTimer = setTimeout(() => {
      this.retireTimer = undefined;
      this.retireReason = undefined;
      const sink = this.sink;
      this.sink = undefined;
      if (sink) this.run(this.release(sink, sink.finish()));
    }, afterMs);
  }

  cancelIdleRetire(): void {
    if (this.retireReason === 'idle') this.clearRetire();
  }

  /** Node close: every device released, no timer left. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearRetire();
    this.sink = undefined;
    await Promise.all([...this.live].map((sink) => sink.abort()));
    // A device still being opened is released as soon as it exists (see open).
    await this.transition;
  }

  private clearRetire(): void {
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.retireTimer = undefined;
    this.retireReason = undefined;
  }

  private release(sink: PcmSink, released: Promise<void>): Promise<void> {
    return released.then(() => {
      this.live.delete(sink);
    });
  }

  private run(step: Promise<void>): void {
    this.transition = step;
    void step.then(() => {
      if (this.transition !== step) return;
      this.transition = undefined;
      if (!this.closed) this.events.settled();
    });
  }
}
