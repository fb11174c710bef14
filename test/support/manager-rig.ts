import { ConnectionManager, type ManagerOptions } from '../../src/connection/connection-manager';
import { resolveEndpoints } from '../../src/dashscope/endpoints';
import { DashScopeSimulator, type SimulatorOptions } from '../simulator';

export const RIG_KEY = 'sk-test-key';

export interface ManagerRig {
  /** The current test's simulator (once `setup` ran). */
  readonly sim: DashScopeSimulator;
  /** A ConnectionManager on a fresh simulator, with the suite's defaults under these options. */
  setup(options?: Partial<ManagerOptions>, simOptions?: SimulatorOptions): Promise<ConnectionManager>;
}

/**
 * For a suite whose tests each drive a ConnectionManager against its own simulator: both are
 * closed after every test (closing a manager the test closed itself is harmless).
 */
export function managerRig(defaults: Partial<ManagerOptions> = {}): ManagerRig {
  let sim: DashScopeSimulator | undefined;
  let manager: ConnectionManager | undefined;
  afterEach(async () => {
    await manager?.close();
    manager = undefined;
    await sim?.close();
    sim = undefined;
  });
  return {
    get sim(): DashScopeSimulator {
      if (!sim) throw new Error('managerRig: setup() has not run in this test');
      return sim;
    },
    async setup(options = {}, simOptions = {}) {
      sim = await DashScopeSimulator.start(simOptions);
      manager = new ConnectionManager({
        endpoints: resolveEndpoints({ region: 'custom', endpoint: sim.baseUrl }),
        credentials: { apiKey: RIG_KEY },
        keepWarm: false,
        reconnect: { baseMs: 20, maxMs: 200 },
        ...defaults,
        ...options,
      });
      return manager;
    },
  };
}
