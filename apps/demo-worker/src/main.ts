/**
 * The demo: one process that produces tasks, schedules periodic ones and works them off, the way a small
 * service would. Read it top to bottom: connect, define the handlers, configure the server, then hand the
 * process to `run()`, which owns the signals from there on. The README says which signals to send.
 */
import { createRedisBroker } from '@q/broker-redis';
import { Client, type EnqueueInterceptor } from '@q/client';
import { createEnqueueTelemetry, createHandlerTelemetry } from '@q/otel';
import { Scheduler } from '@q/scheduler';
import { Server, ServeMux } from '@q/server';
import { run } from '@q/signals';
import { startDashboard } from './dashboard';
import { registerHandlers } from './handlers';
import { useLocalRedis } from './local-redis';
import { createLogger } from './logger';
import { loggingMiddleware, timingMiddleware } from './middleware';
import { startProducer } from './producer';
import { retryDelay } from './retry-delay';
import { registerSchedules } from './schedules';
import { queues } from './task-definitions';
import { startTracing } from './tracing';

const logger = createLogger();
// OpenTelemetry, when OTEL_TRACES_EXPORTER=console or otlp: one trace from each enqueue to its handler.
const tracing = startTracing(logger);

// 1. Redis: REDIS_URL, or a private redis-server under .data/ started for the demo.
const redis = await useLocalRedis();
const broker = createRedisBroker({ url: redis.url });
logger.info({ redis: redis.url }, 'connected to Redis');

// The web dashboard, on loopback: open the address it logs.
const dashboard = await startDashboard({ broker, source: redis.url, port: process.env.DASHBOARD_PORT });
logger.info({ url: dashboard.url }, `dashboard at ${dashboard.url}`);

// 2. The handlers, wrapped in middleware (the first registered is the outermost).
const timing = timingMiddleware(logger);
const mux = new ServeMux();
if (tracing.enabled) mux.use(createHandlerTelemetry());
registerHandlers(mux.use(loggingMiddleware(logger), timing.middleware));

// 3. The worker: ten slots over three weighted queues.
const server = new Server({
  broker,
  concurrency: 10,
  queues,
  shutdownTimeout: '8s',
  retryDelay,
  logger: logger.child({ component: 'server' }),
});

// 4. Work coming in: a steady mix from the producer, and periodic tasks from the scheduler.
const traced = (interceptor: () => EnqueueInterceptor): EnqueueInterceptor[] =>
  tracing.enabled ? [interceptor()] : [];
const client = new Client({ broker, interceptors: traced(() => createEnqueueTelemetry()) });
const producer = startProducer({ client, logger: logger.child({ component: 'producer' }), rate: 5 });
// Each tick of a periodic task is a trace of its own.
const scheduler = new Scheduler({
  broker,
  logger: logger.child({ component: 'scheduler' }),
  interceptors: traced(() => createEnqueueTelemetry({ root: true })),
});
registerSchedules(scheduler);
await scheduler.start();
const timingReport = setInterval(() => timing.logSummary(), 30_000);

// Once the worker starts shutting down, stop adding work: what is already enqueued stays in Redis.
server.on('state', ({ to }) => {
  if (to !== 'draining') return;
  clearInterval(timingReport);
  producer.stop().catch(() => undefined);
  scheduler.shutdown().catch(() => undefined);
});

// 5. Hand the process to run(): it starts the server and handles every signal until the shutdown ends.
const healthPort = process.env.HEALTH_PORT;
const result = await run(server, mux, {
  logger,
  // Quiet (SIGTSTP) for longer than this while tasks wait is logged as a warning.
  quietWarningAfter: '20s',
  health: healthPort === undefined ? false : { port: Number(healthPort) },
  // Close the connections below before exiting; the watchdog still bounds the shutdown itself.
  exitProcess: false,
});

// The server is closed. Close the rest, but never wait long for it: a stuck close must not keep us alive.
const closeEverything = Promise.allSettled([producer.stop(), scheduler.shutdown(), dashboard.close()]).then(
  async () => {
    await broker.close();
    await redis.stop();
    await tracing.shutdown();
  },
);
await Promise.race([closeEverything, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
timing.logSummary();
logger.info({ exitCode: result.exitCode, forced: result.forced }, 'demo worker exiting');
logger.flush();
process.exit(result.exitCode);
