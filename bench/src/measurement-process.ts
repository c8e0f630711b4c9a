/**
 * The child process of one measurement: receives `{ system, url, request }` over IPC, runs it, sends
 * back `{ result }` or `{ error }`, and exits. One process per measurement keeps heaps, JIT state and
 * leftover timers of one system from weighing on the next.
 */
import type { MeasurementRequest, SystemName } from './measurement';
import { runMeasurement } from './run-measurement';

interface Order {
  system: SystemName;
  url: string;
  request: MeasurementRequest;
}

process.once('message', (order: Order) => {
  runMeasurement(order.system, order.url, order.request).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (error: unknown) =>
      process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
        process.exit(1),
      ),
  );
});
