/**
 * A real @q worker for the browser tests: a `Server` run by `run()` from @q/signals, so that it reacts to
 * real signals and publishes its lifecycle. Configured by `Q_WEB_TEST_WORKER` (JSON `WorkerConfig`).
 * Handler: `slow` runs until its abort signal fires, so the worker shows a running task.
 */
import { createRedisBroker } from '@q/broker-redis';
import { Server, ServeMux } from '@q/server';
import { run } from '@q/signals';

export interface WorkerConfig {
  redisUrl: string;
  prefix: string;
  queues: Record<string, number>;
}

const config = JSON.parse(process.env.Q_WEB_TEST_WORKER ?? '{}') as WorkerConfig;
const broker = createRedisBroker({ url: config.redisUrl, prefix: config.prefix });
const mux = new ServeMux();
mux.handle(
  'slow',
  (_task, context) =>
    new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve(), { once: true })),
);

const server = new Server({
  broker,
  queues: config.queues,
  concurrency: 2,
  heartbeatInterval: 1000,
  shutdownTimeout: 1000,
});
await run(server, mux);
