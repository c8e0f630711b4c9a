/**
 * The child process of one measurement: receives `{ system, url, request, profilePath }` over IPC, runs
 * it, sends back `{ result }` or `{ error }`, and exits. One process per measurement keeps heaps, JIT
 * state and leftover timers of one system from weighing on the next. With `profilePath`, V8's CPU
 * profiler (what `--cpu-prof` uses) records the timed part only and writes it there.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { MeasurementRequest, SystemName } from './measurement';
import { runMeasurement, type TimedPartHooks } from './run-measurement';

interface Order {
  system: SystemName;
  url: string;
  request: MeasurementRequest;
  profilePath?: string;
}

function profilerHooks(path: string): TimedPartHooks {
  const session = new Session();
  session.connect();
  return {
    async start() {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    },
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(path, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

process.once('message', (order: Order) => {
  const hooks = order.profilePath ? profilerHooks(order.profilePath) : undefined;
  runMeasurement(order.system, order.url, order.request, hooks).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (error: unknown) =>
      process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
        process.exit(1),
      ),
  );
});
