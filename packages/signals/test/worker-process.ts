/**
 * The worker the process tests start as a child: a real `Server` on a real Redis, run by `run()`, with
 * its log as JSON lines on stdout. Configured by the `Q_TEST_WORKER` environment variable (a
 * `WorkerConfig` as JSON). Task types:
 *
 * - `work`: waits `payload.ms`, stopping early when its signal aborts.
 * - `hang`: never settles and ignores its signal, as a buggy handler would.
 * - `probe`: returns at once.
 */
import { writeSync } from 'node:fs';
import { createRedisBroker } from '@q/broker-redis';
import type { Broker, Logger } from '@q/core';
import { Server, type Task, type TaskContext } from '@q/server';
import { run, type RunOptions } from '@q/signals';

export interface WorkerConfig {
  redisUrl: string;
  prefix: string;
  queues: Record<string, number>;
  concurrency: number;
  shutdownTimeout: number;
  leaseDuration?: number;
  run?: Omit<RunOptions, 'logger'>;
  faults?: {
    /**
     * Throw from `count` `dequeue` calls, starting `afterMs` after the worker started. `unblocked` throws
     * the error Redis answers a blocked command with after `CLIENT UNBLOCK ... ERROR`.
     */
    failDequeue?: { afterMs: number; count: number; error?: 'plain' | 'unblocked' };
    /** Make one `dequeue` call, `afterMs` after the worker started, never answer. */
    hangDequeue?: { afterMs: number };
    /** Make `server.shutdown()` never settle, to show the watchdog. */
    shutdownHangs?: boolean;
  };
}

function write(level: string, fieldsOrMessage: Record<string, unknown> | string, message?: string): void {
  const fields = typeof fieldsOrMessage === 'string' ? {} : fieldsOrMessage;
  const text = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : (message ?? '');
  const line = JSON.stringify(
    { level, time: Date.now(), pid: process.pid, ...fields, msg: text },
    (_key, value: unknown) => (value instanceof Error ? value.message : value),
  );
  // Synchronous, so that nothing is lost when run() exits the process. A line that cannot be written
  // (the terminal is closed) is dropped, as pino does: a logger must never throw at its caller.
  try {
    writeSync(1, line + '\n');
  } catch {
    return;
  }
}

const logger: Logger = {
  debug: () => undefined,
  info: (fields: Record<string, unknown> | string, message?: string) => write('info', fields, message),
  warn: (fields: Record<string, unknown> | string, message?: string) => write('warn', fields, message),
  error: (fields: Record<string, unknown> | string, message?: string) => write('error', fields, message),
};

const config = JSON.parse(process.env.Q_TEST_WORKER ?? '{}') as WorkerConfig;
const startedAt = Date.now();
const broker = createRedisBroker({ url: config.redisUrl, prefix: config.prefix });

function injectedError(kind: 'plain' | 'unblocked'): Error {
  if (kind === 'plain') return new Error('injected dequeue failure');
  const error = new Error('UNBLOCKED client unblocked via CLIENT UNBLOCK');
  error.name = 'ReplyError';
  return error;
}

let brokerForServer: Broker = broker;
const { failDequeue, hangDequeue } = config.faults ?? {};
if (failDequeue || hangDequeue) {
  let failures = 0;
  let hung = false;
  brokerForServer = Object.create(broker) as Broker;
  brokerForServer.dequeue = async (queues, options) => {
    const age = Date.now() - startedAt;
    if (failDequeue && age >= failDequeue.afterMs && failures < failDequeue.count) {
      failures += 1;
      logger.info({ event: 'dequeue-fault', failures }, 'injected dequeue failure');
      throw injectedError(failDequeue.error ?? 'plain');
    }
    if (hangDequeue && age >= hangDequeue.afterMs && !hung) {
      hung = true;
      logger.info({ event: 'dequeue-hang' }, 'injected dequeue that never answers');
      return new Promise(() => undefined);
    }
    const result = await broker.dequeue(queues, options);
    logger.info({ event: 'dequeue', tasks: result.tasks.length }, 'dequeue answered');
    return result;
  };
}

const server = new Server({
  broker: brokerForServer,
  queues: config.queues,
  concurrency: config.concurrency,
  shutdownTimeout: config.shutdownTimeout,
  ...(config.leaseDuration === undefined ? {} : { leaseDuration: config.leaseDuration }),
  heartbeatInterval: 1000,
  recovererInterval: 1000,
  logger,
});
if (config.faults?.shutdownHangs) {
  server.shutdown = () => new Promise<void>(() => undefined);
}

async function handle(task: Task, context: TaskContext): Promise<void> {
  const fields = { event: 'task-started', taskId: task.id, type: task.type, queue: task.queue };
  logger.info(fields, `task ${task.id} started`);
  context.signal.addEventListener('abort', () => {
    logger.info(
      { event: 'task-aborted', taskId: task.id, reason: String(context.signal.reason) },
      'abort received',
    );
  });
  if (task.type === 'hang') {
    await new Promise(() => undefined);
  }
  if (task.type === 'work') {
    const { ms } = task.payload as { ms: number };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      context.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
  }
  logger.info({ event: 'task-finished', taskId: task.id }, `task ${task.id} finished`);
}

await run(server, handle, { ...config.run, logger });
