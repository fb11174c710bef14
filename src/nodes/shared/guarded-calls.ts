import type { Node, NodeMessage, NodeStatus } from 'node-red';

type Message = Record<string, unknown>;

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The message's top-level plain values (topic, _msgid...): what can always be copied. */
function plainValues(msg: Message): Message {
  const out: Message = {};
  for (const [key, value] of Object.entries(msg)) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) out[key] = value;
  }
  return out;
}

/**
 * A node's calls into Node-RED from socket, timer and device callbacks: a throw there would
 * escape into the process (or, inside a message handler, land on an unrelated message) and leave
 * the caller half-way through its bookkeeping. Node-RED can throw from inside node.send and
 * done(err): it deep-copies the message for every wire after the first and for each catch node,
 * and a property that cannot be copied (a getter that throws, from a function node) throws there.
 * So every call is caught; what failed is reported as an error, and the node goes on.
 */
export class GuardedCalls {
  constructor(private readonly node: Node) {}

  /** node.send of `msg`, or of one message (or null) per output; `failed` hears of a throw (the message may have reached some wires already). */
  send(msg: Message | (Message | null)[], failed: (err: Error) => void): void {
    try {
      this.node.send(msg as NodeMessage | (NodeMessage | null)[]);
    } catch (err) {
      failed(asError(err));
    }
  }

  /**
   * node.error for catch nodes, with `msg`'s properties. Node-RED copies the message for each
   * catch node, so a message that cannot be copied gets there with its plain values only.
   */
  error(err: Error, msg: Message): void {
    try {
      this.node.error(err, { ...msg } as NodeMessage);
      return;
    } catch {
      // Copying the message failed: try again with what can be copied.
    }
    try {
      this.node.error(err, plainValues(msg) as NodeMessage);
    } catch (again) {
      this.log(`could not report "${err.message}": ${asError(again).message}`);
    }
  }

  /**
   * done(err) for one input message. When Node-RED cannot copy that message for the catch nodes,
   * they still hear of it, with what of it can be copied.
   */
  done(done: (err?: Error) => void, err: Error | undefined, msg: Message): void {
    try {
      done(err);
    } catch (thrown) {
      this.error(err ?? asError(thrown), msg);
    }
  }

  warn(text: string): void {
    try {
      this.node.warn(text);
    } catch (err) {
      this.log(`could not warn "${text}": ${asError(err).message}`);
    }
  }

  status(status: NodeStatus): void {
    try {
      this.node.status(status);
    } catch (err) {
      this.log(`could not show the status: ${asError(err).message}`);
    }
  }

  log(text: string): void {
    try {
      this.node.log(text);
    } catch {
      // Nothing is left to tell it with; the node goes on.
    }
  }
}
