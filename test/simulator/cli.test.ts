// The simulator process's own options that npm start relies on.
import assert from 'node:assert/strict';
import { parseArgs, startAvoiding } from './cli';

describe('simulator command: --avoid-port', () => {
  it('is parsed, and is no simulator option', () => {
    assert.equal(parseArgs(['--port', '0', '--avoid-port', '1880']).avoidPort, 1880);
    assert.throws(() => parseArgs(['--avoid-port']), /--avoid-port needs a non-negative number/);
  });

  it('a simulator that lands on the avoided port is closed and started again until it does not', async () => {
    const ports = [4000, 4000, 4001];
    const closed: number[] = [];
    const started: number[] = [];
    const start = async (): Promise<{ port: number; close(): Promise<void> }> => {
      const port = ports.shift() as number;
      started.push(port);
      return { port, close: async () => void closed.push(port) };
    };
    const sim = await startAvoiding({}, 4000, start);
    assert.equal(sim.port, 4001);
    assert.deepEqual(started, [4000, 4000, 4001]);
    assert.deepEqual(closed, [4000, 4000]);
    ports.push(4000);
    assert.equal((await startAvoiding({}, undefined, start)).port, 4000, 'nothing avoided without the option');
  });
});
