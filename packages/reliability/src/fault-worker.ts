/**
 * A worker process of the battery: a real `Server` run by `run()` from @q/signals, with docs/reliability.md's
 * test settings (lease 5 s, recoverer sweep 1 s). Every handler run is written to the ledger before the
 * work starts; the log goes to stdout as JSON lines. Configured by `Q_FAULT_WORKER` (a `WorkerConfig`).
 */
import { writeSync } from 'node:fs';
import { Server, type Task, type TaskContext } from '@q/server';
import { run } from '@q/signals';
import { Ledger } from './ledger';
import { createBroker, jsonLineLogger, type FaultPayload, type WorkerConfig } from './process-config';

const config = JSON.parse(process.env.Q_FAULT_WORKER ?? '{}') as WorkerConfig;
const logger = jsonLineLogger((line) => writeSync(1, line), { worker: config.name, pid: process.pid });
const ledger = new Ledger(config.ledgerUrl, config.ledgerPrefix);
const broker = createBroker(config.target, logger);

process.on('unhandledRejection', (reason) => {
  logger.error({ event: 'unhandled-rejection', error: String(reason) }, 'unhandled rejection');
});

const server = new Server({
  broker,
  queues: config.queues,
  concurrency: config.concurrency,
  leaseDuration: config.leaseDuration,
  shutdownTimeout: config.shutdownTimeout,
  recovererInterval: 1000,
  heartbeatInterval: 1000,
  delayedTaskCheckInterval: 200,
  taskCheckInterval: 500,
  retryDelay: () => 0,
  logger,
});

async function handle(task: Task, context: TaskContext): Promise<void> {
  const payload = task.payload as FaultPayload;
  const at = Date.now();
  await ledger.recordRun(task.id, {
    worker: config.name,
    pid: process.pid,
    attempt: task.retried,
    at,
    latency: at - payload.enqueuedAt,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, payload.ms);
    context.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });
  if (config.recordEnds) await ledger.recordEnd(task.id, { pid: process.pid, at: Date.now() });
}

if (config.memoryReportInterval) {
  // RSS is what the promise is about; the heap left after a full collection is what a leak grows, without
  // the allocator's and V8's lazy sizing that make RSS climb for the first minute of any Node process.
  const collect = (globalThis as { gc?: () => void }).gc;
  setInterval(() => {
    collect?.();
    const { rss, heapUsed } = process.memoryUsage();
    logger.info({ event: 'memory', rss, heapAfterGc: collect ? heapUsed : undefined }, 'memory');
  }, config.memoryReportInterval).unref();
}

await run(server, handle, { logger, exitProcess: true });
