/**
 * One scheduler process for the integration tests. Reads its setup from the environment, prints one JSON
 * line per event on stdout (`started`, `tick` with the outcome of every attempt, `stopped`), logs to
 * stderr, and shuts down on SIGTERM.
 *
 * Q_REDIS_URL, Q_PREFIX: the broker. Q_ENTRIES: JSON array of { spec, task, options }.
 * Q_CLOCK_OFFSET_MS: added to the clock (a host whose clock is off). Q_CLOCK_START_AT: an ISO time the
 * clock reads when the process starts (it then runs at normal speed). Q_DUPLICATE_WINDOW,
 * Q_HEARTBEAT_INTERVAL, Q_TIMEZONE: scheduler options.
 */
import { createRedisBroker } from '@q/broker-redis';
import type { Logger } from '@q/core';
import { Scheduler, type EntryOptions, type ScheduledTask } from '../src/index';

interface EntrySetup {
  spec: string;
  task: ScheduledTask;
  options?: EntryOptions;
}

const environment = process.env;
const print = (value: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ pid: process.pid, ...value })}\n`);
};
const log =
  (level: string) =>
  (fieldsOrMessage: Record<string, unknown> | string, message?: string): void => {
    const fields = typeof fieldsOrMessage === 'string' ? {} : fieldsOrMessage;
    const text = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : (message ?? '');
    process.stderr.write(`${JSON.stringify({ pid: process.pid, level, message: text, ...fields })}\n`);
  };
const logger: Logger = { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') };

const startedAt = Date.now();
const offset = environment.Q_CLOCK_START_AT
  ? Date.parse(environment.Q_CLOCK_START_AT) - startedAt
  : Number(environment.Q_CLOCK_OFFSET_MS ?? 0);

const broker = createRedisBroker({ url: environment.Q_REDIS_URL!, prefix: environment.Q_PREFIX! });
const scheduler = new Scheduler({
  broker,
  logger,
  timezone: environment.Q_TIMEZONE ?? 'UTC',
  heartbeatInterval: environment.Q_HEARTBEAT_INTERVAL ?? '1s',
  duplicateWindow: environment.Q_DUPLICATE_WINDOW ?? '5s',
  now: () => Date.now() + offset,
  afterEnqueue: (event, outcome) => {
    print({
      event: 'tick',
      entryId: event.entryId,
      taskId: event.taskId,
      tickAt: event.tickAt,
      catchUp: event.catchUp,
      status: outcome.status,
      foundBy: outcome.status === 'enqueued-elsewhere' ? outcome.foundBy : undefined,
    });
  },
});

const entries = JSON.parse(environment.Q_ENTRIES ?? '[]') as EntrySetup[];
const entryIds = entries.map((entry) => scheduler.register(entry.spec, entry.task, entry.options));

process.once('SIGTERM', () => {
  void scheduler
    .shutdown()
    .then(() => broker.close())
    .then(() => {
      print({ event: 'stopped' });
      process.exit(0);
    });
});

await scheduler.start();
print({ event: 'started', entryIds, schedulerId: scheduler.identity.schedulerId });
