// Services that cannot be reached, for the live check's tests (run, command): a port with nothing
// listening on it, and a server that accepts connections and never answers.
import { createServer, type Server, type Socket } from 'node:net';

/** A port with nothing listening on it: a connection there is refused. */
export { freePort as closedPort } from './free-port';

export interface SilentServer {
  port: number;
  /** The connections it accepted (and holds open, saying nothing). */
  readonly accepted: readonly Socket[];
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** A server on loopback that accepts every connection and never sends a byte. */
export async function startSilentServer(): Promise<SilentServer> {
  const accepted: Socket[] = [];
  const server: Server = createServer((socket) => void accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    accepted,
    close: async () => {
      for (const socket of accepted.splice(0)) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
