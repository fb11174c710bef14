/**
 * The simulator in a process of its own, so its CPU time never counts against the nodes under
 * measurement. Options arrive as JSON in argv[2]; prints "READY <baseUrl>" once listening.
 */
import { DashScopeSimulator, type SimulatorOptions } from '../test/simulator';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
  const sim = await DashScopeSimulator.start({ ...options, recordTranscripts: false });
  process.stdout.write(`READY ${sim.baseUrl}\n`);
  const stop = (): void => {
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

void main();
