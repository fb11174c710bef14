/**
 * An observer of what crosses the wire, for a tool that records it (the live check's transcript,
 * src/live-check/). The protocol clients call a tap only when their caller gave one: the speech
 * nodes never do, so their hot path has no tap at all.
 */

/** One WebSocket, from the upgrade to the close. */
export interface SocketTap {
  /** The upgrade succeeded. */
  opened(): void;
  /** The upgrade was answered with an HTTP status instead (the body as received, at most 4 kB). */
  refused(status: number, body: string): void;
  /** No connection at all: a network error or the connect timeout. */
  failed(message: string): void;
  /** A text frame the client is sending, exactly as it goes out. */
  sent(data: string): void;
  /** A frame from the service, before the client handles it. */
  received(data: Buffer, isBinary: boolean): void;
  /**
   * The client starts the close handshake (before `closed`), or drops the socket without one
   * (terminate: code 1006). A close without this came from the service or the network; the
   * answer to the service's close frame is not reported here.
   */
  closing(code: number): void;
  /** The socket is closed: the code and reason of the close frame (1006 and '' when there was none). */
  closed(code: number, reason: string): void;
}

/** One HTTP request and its answer. */
export interface HttpTap {
  replied(status: number, body: string): void;
  /** No answer: a network error or the timeout. */
  failed(message: string): void;
}

export interface WireTap {
  /** A WebSocket to `url` is being opened. */
  socket(url: string): SocketTap;
  /** An HTTP request is being sent (`body` as sent, undefined for none). */
  http(method: string, url: string, body: string | undefined): HttpTap;
}
