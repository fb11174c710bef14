/** Live counters other tests assert on. */

export interface SimulatorStats {
  /** Accepted WebSocket upgrades per service. */
  connections: { cosyvoice: number; qwen: number };
  /** Currently open WebSockets. */
  openSockets: number;
  /** Handshakes answered with 401/403. */
  handshakesRejected: number;
  /** Upgrades whose TCP socket was destroyed (refuse-connection). */
  connectionsRefused: number;
  /** CosyVoice: task-started / task-finished / task-failed sent. */
  tasks: { started: number; finished: number; failed: number };
  /** Qwen: response.created / response.done sent. */
  responses: { created: number; done: number };
  /** Qwen session.update events received. */
  sessionUpdates: number;
  /** Plain HTTP requests (customization and stray ones). */
  httpRequests: number;
  /**
   * Characters billed for synthesis, by docs/protocol.md "Character counting": each CosyVoice
   * sentence and each Qwen response that was queued to be spoken (what the live check's budget is
   * held to).
   */
  billedCharacters: number;
}

export function createStats(): SimulatorStats {
  return {
    connections: { cosyvoice: 0, qwen: 0 },
    openSockets: 0,
    handshakesRejected: 0,
    connectionsRefused: 0,
    tasks: { started: 0, finished: 0, failed: 0 },
    responses: { created: 0, done: 0 },
    sessionUpdates: 0,
    httpRequests: 0,
    billedCharacters: 0,
  };
}
