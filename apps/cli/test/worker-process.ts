/**
 * A real @q worker for the doctor tests: a `Server` on Redis run by `run()` from @q/signals, so that it
 * reacts to real signals and publishes its lifecycle. Configured by `Q_DOCTOR_WORKER` (JSON `WorkerConfig`).
 * Handlers: `quick` returns at once; `hang` never settles and ignores its abort signal. Any other type has
 * no handler.
 */
import { createRedisBroker } from '@q/broker-redis';
import { Server, ServeMux } from '@q/server';
import { run } from '@q/signals';

export interface WorkerConfig {
  redisUrl: string;
  prefix: string;
  queues: Record<string, number>;
  concurrency: number;
}

const config = JSON.parse(process.env.Q_DOCTOR_WORKER ?? '{}') as WorkerConfig;
const broker = createRedisBroker({ url: config.redisUrl, prefix: config.prefix });
const mux = new ServeMux();
mux.handle('quick', () => Promise.resolve());
mux.handle('hang', () => new Promise<void>(() => undefined));

const server = new Server({
  broker,
  queues: config.queues,
  concurrency: config.concurrency,
  heartbeatInterval: 1000,
  taskCheckInterval: 100,
  shutdownTimeout: 1000,
});
process.stdout.write('ready\n');
await run(server, mux);
