/**
 * The listening TCP socket, kept apart from the HTTP machinery so it can be closed (clients get a
 * real ECONNREFUSED) and reopened on the same port while accepted sockets live on.
 */
import net from 'node:net';

/**
 * 'close' is emitted before libuv releases the handle (its close callbacks run after the check
 * phase), so wait until the following loop iteration.
 */
function nextLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

export class Listener {
  private readonly server: net.Server;
  private boundPort: number;

  constructor(
    private readonly host: string,
    port: number,
    onSocket: (socket: net.Socket) => void,
  ) {
    this.boundPort = port;
    this.server = net.createServer(onSocket);
  }

  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.boundPort, this.host, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        if (addr && typeof addr === 'object') this.boundPort = addr.port;
        resolve(this.boundPort);
      });
    });
  }

  /** Stops accepting without waiting for accepted sockets (net.Server#close would wait for them). */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    this.server.close();
    await nextLoopTurn();
  }

  /** Final close: resolves once the server has let go of every socket (callers destroy them first). */
  async close(): Promise<void> {
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await nextLoopTurn();
  }
}
