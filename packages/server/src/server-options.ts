import { availableParallelism, hostname } from 'node:os';
import {
  type Clock,
  type Duration,
  type GroupStore,
  type Logger,
  type PayloadCodec,
  type QueueAdmin,
  type TaskConsumer,
  type TaskProducer,
  ValidationError,
  type ValidationIssue,
  jsonCodec,
  queueNameRule,
  silentLogger,
  systemClock,
  toMilliseconds,
} from '@q/core';
import { assertKnownKeys, queueNameProblem } from '@q/core/internal';
import type { GroupAggregator } from './group-aggregator';
import type { Task } from './handler';
import { defaultRetryDelay } from './retry-delay';

/**
 * What the server needs from a broker: the consumer role, plus the group store and `enqueue` when a
 * group aggregator is configured (to enqueue the aggregated task), and optionally `ping` for the health
 * check and `queueStats` for `pendingTaskCount()`. A `Broker` (`createRedisBroker`, `createMemoryBroker`)
 * has all of them.
 */
export type ServerBroker = TaskConsumer &
  Partial<GroupStore> &
  Partial<Pick<TaskProducer, 'enqueue'>> &
  Partial<Pick<QueueAdmin, 'queueStats' | 'storeInfo'>> & { ping?(): Promise<void> };

/** A `ServerBroker` that a group aggregator can use: `resolveServerOptions` checks it is one. */
export type AggregatingBroker = ServerBroker & GroupStore;

/** Decides how long to wait before the next attempt. Return milliseconds or a duration string. */
export type RetryDelayFunction = (retried: number, error: Error, task: Task) => Duration;

/** Go Asynq's server configuration, in TypeScript form, plus @q's extensions. */
export interface ServerOptions {
  /** Where tasks come from. */
  broker: ServerBroker;
  /**
   * How many tasks run at once. Strict: a handler that ignores its abort signal keeps its slot until it settles.
   * @default os.availableParallelism()
   */
  concurrency?: number;
  /**
   * Queues to serve and their weights (positive integers). Queue names follow the client's rule: 1 to 256
   * characters, no leading or trailing whitespace, no '{', '}' or control character.
   * @default { default: 1 }
   */
  queues?: Record<string, number>;
  /**
   * Serve queues strictly by weight, highest first, instead of in a weighted random order.
   * @default false
   */
  strictPriority?: boolean;
  /**
   * How long to wait before retrying a failed task; `retried` is the number of retries already spent.
   * @default Asynq's formula: retried⁴ + 15 + random(0..29) × (retried + 1) seconds
   */
  retryDelay?: RetryDelayFunction;
  /**
   * Whether an error counts as a failure. When it does not, the retry spends no retry count and the
   * failed counters stay.
   * @default () => true
   */
  isFailure?: (error: Error) => boolean;
  /**
   * Called for every failed attempt (before the task is retried, archived or revoked). Not awaited;
   * errors it throws are logged.
   * @default none
   */
  onError?: (error: Error, task: Task) => unknown;
  /**
   * How long `shutdown()` waits for running tasks before aborting them and putting them back in pending.
   * @default '8s'
   */
  shutdownTimeout?: Duration;
  /**
   * Called every `healthCheckInterval` with the error of a broker ping, or `undefined` when it answered.
   * @default none
   */
  healthCheck?: (error: Error | undefined) => unknown;
  /** @default '15s' */
  healthCheckInterval?: Duration;
  /**
   * How often due scheduled and retry tasks are moved to pending.
   * @default '5s'
   */
  delayedTaskCheckInterval?: Duration;
  /**
   * How long an idle server waits for a wake-up before polling the queues again. Producers that signal
   * new work (@q clients) wake it at once; Go Asynq clients do not, so their tasks start within this.
   * @default '1s'
   */
  taskCheckInterval?: Duration;
  /**
   * How often completed tasks whose retention ended are deleted.
   * @default '8s'
   */
  janitorInterval?: Duration;
  /**
   * How many expired completed tasks are deleted per broker call.
   * @default 100
   */
  janitorBatchSize?: number;
  /**
   * How long a dequeued task is leased. The server extends the lease of every running task three times per
   * lease (every second by default), in one call per queue; a task whose lease ends (its server died, or
   * could not reach Redis for that long) is recovered by any server's recoverer within a second after.
   * So a dead server's tasks run again within about `leaseDuration` + 1 s, and a server whose event loop
   * is blocked for longer than two thirds of the lease loses its running tasks to another server: raise
   * it for handlers that block the event loop for seconds (better: move such work to a worker thread).
   * Go Asynq leases for 30 s; a Go server never takes a running @q task, as its recoverer waits until a
   * lease ended 30 s ago.
   * @default '3s'
   */
  leaseDuration?: Duration;
  /**
   * How often leases that ended are looked for. The sweeps fall on whole multiples of the interval on
   * the clock, shortly after the second in which a lease ends (lease expiries are stored in whole
   * seconds). A task found is retried at once, unless its previous attempt also ended with an expired
   * lease: then `retryDelay` decides, so that a task that kills its worker does not kill one worker
   * after another (Asynq: every minute, 30 s after expiry, always after `retryDelay`).
   * @default '1s'
   */
  recovererInterval?: Duration;
  /**
   * How often server and worker info is published (with a time to live of twice this).
   * @default '5s'
   */
  heartbeatInterval?: Duration;
  /**
   * Combines the tasks of a group into one task. Group aggregation runs only when this is set.
   * @default none
   */
  groupAggregator?: GroupAggregator;
  /**
   * Aggregate a group once no task was added to it for this long. At least one second.
   * @default '1m'
   */
  groupGracePeriod?: Duration;
  /**
   * Aggregate a group once its oldest task waited this long; 0 disables the limit.
   * @default 0
   */
  groupMaxDelay?: Duration;
  /**
   * Aggregate a group once it holds this many tasks; 0 disables the limit.
   * @default 0
   */
  groupMaxSize?: number;
  /**
   * Turns payload bytes into the value handlers see, and aggregated payloads into bytes.
   * @default jsonCodec
   */
  codec?: PayloadCodec;
  /**
   * Where the server reports what it does (pino's shape).
   * @default silentLogger
   */
  logger?: Logger;
  /**
   * The host name published in server info.
   * @default os.hostname()
   */
  host?: string;
  /**
   * Where the server reads the time and sets its timers: heartbeats, fetch waits, lease extensions,
   * task deadlines, retry times, the forwarder and the other loops. Tests pass the manual clock of
   * `@q/broker-memory` (the same one the broker runs on) and move time with `clock.advance()`.
   * @default systemClock (the real time)
   */
  clock?: Clock;
}

/** The options after validation, durations in milliseconds. */
export interface ResolvedServerOptions {
  broker: ServerBroker;
  concurrency: number;
  queues: Record<string, number>;
  strictPriority: boolean;
  retryDelay: RetryDelayFunction;
  isFailure: (error: Error) => boolean;
  onError: ((error: Error, task: Task) => unknown) | undefined;
  shutdownTimeout: number;
  healthCheck: ((error: Error | undefined) => unknown) | undefined;
  healthCheckInterval: number;
  delayedTaskCheckInterval: number;
  taskCheckInterval: number;
  janitorInterval: number;
  janitorBatchSize: number;
  leaseDuration: number;
  recovererInterval: number;
  heartbeatInterval: number;
  groupAggregator: GroupAggregator | undefined;
  groupGracePeriod: number;
  groupMaxDelay: number;
  groupMaxSize: number;
  codec: PayloadCodec;
  logger: Logger;
  host: string;
  clock: Clock;
}

export const serverOptionKeys = [
  'broker',
  'concurrency',
  'queues',
  'strictPriority',
  'retryDelay',
  'isFailure',
  'onError',
  'shutdownTimeout',
  'healthCheck',
  'healthCheckInterval',
  'delayedTaskCheckInterval',
  'taskCheckInterval',
  'janitorInterval',
  'janitorBatchSize',
  'leaseDuration',
  'recovererInterval',
  'heartbeatInterval',
  'groupAggregator',
  'groupGracePeriod',
  'groupMaxDelay',
  'groupMaxSize',
  'codec',
  'logger',
  'host',
  'clock',
] as const satisfies readonly (keyof ServerOptions)[];

const consumerMethods = [
  'dequeue',
  'waitForTasks',
  'done',
  'markComplete',
  'requeue',
  'retry',
  'archive',
  'extendLeases',
  'writeResult',
  'listLeaseExpired',
  'forward',
  'deleteExpiredCompleted',
  'writeServerState',
  'clearServerState',
  'subscribeCancel',
] as const satisfies readonly (keyof TaskConsumer)[];

const groupStoreMethods = [
  'listGroups',
  'aggregationCheck',
  'readAggregationSet',
  'deleteAggregationSet',
  'reclaimStaleAggregationSets',
] as const satisfies readonly (keyof GroupStore)[];

/** Validates every option and fills in the defaults. Throws one `ValidationError` listing every problem. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('new Server(options): options must be an object with at least a broker.', [
      { path: 'options', message: 'not an object' },
    ]);
  }
  assertKnownKeys(options, serverOptionKeys, 'server option');
  const issues: ValidationIssue[] = [];
  const problem = (path: string, message: string): void => {
    issues.push({ path, message });
  };

  const broker = options.broker;
  if (typeof broker !== 'object' || broker === null) {
    problem('broker', 'is required: pass createRedisBroker({ url }) or another TaskConsumer');
  } else {
    const missing = consumerMethods.filter(
      (method) => typeof (broker as unknown as Record<string, unknown>)[method] !== 'function',
    );
    if (missing.length > 0)
      problem('broker', `does not implement TaskConsumer (missing ${missing.join(', ')})`);
  }

  const integer = (name: string, value: unknown, fallback: number, minimum: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
      problem(name, `must be an integer of at least ${minimum}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  };
  const duration = (name: string, value: Duration | undefined, fallback: number, minimum: number): number => {
    if (value === undefined) return fallback;
    let milliseconds: number;
    try {
      milliseconds = toMilliseconds(value, name);
    } catch {
      problem(name, `must be milliseconds or a duration such as '30s', got ${JSON.stringify(value)}`);
      return fallback;
    }
    if (milliseconds < minimum) {
      problem(name, `must be at least ${minimum} ms, got ${milliseconds} ms`);
      return fallback;
    }
    return milliseconds;
  };
  const optionalFunction = <T>(name: string, value: T | undefined): T | undefined => {
    if (value !== undefined && typeof value !== 'function') problem(name, 'must be a function');
    return typeof value === 'function' ? value : undefined;
  };

  let queues: Record<string, number> = { default: 1 };
  if (options.queues !== undefined) {
    if (typeof options.queues !== 'object' || options.queues === null || Array.isArray(options.queues)) {
      problem('queues', 'must be an object of queue name to weight, such as { critical: 6, default: 3 }');
    } else if (Object.keys(options.queues).length === 0) {
      problem('queues', 'must name at least one queue');
    } else {
      queues = {};
      for (const [name, weight] of Object.entries(options.queues)) {
        const nameProblem = queueNameProblem(name);
        if (nameProblem !== undefined) {
          problem(`queues[${JSON.stringify(name)}]`, `${nameProblem}: ${queueNameRule}`);
          continue;
        }
        if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1) {
          problem(`queues["${name}"]`, `weight must be a positive integer, got ${JSON.stringify(weight)}`);
          continue;
        }
        queues[name] = weight;
      }
    }
  }

  const codec = options.codec ?? jsonCodec;
  if (typeof codec?.encode !== 'function' || typeof codec?.decode !== 'function') {
    problem('codec', 'must have encode(value) and decode(bytes)');
  }
  const clock = options.clock ?? systemClock;
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof clock?.[method] !== 'function') {
      problem('clock', `must have a ${method}() method (a Clock, such as systemClock or a manual clock)`);
    }
  }
  const logger = options.logger ?? silentLogger;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger?.[level] !== 'function')
      problem('logger', `must have a ${level}() method (pino's shape)`);
  }
  if (options.strictPriority !== undefined && typeof options.strictPriority !== 'boolean') {
    problem('strictPriority', 'must be true or false');
  }
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) {
    problem('host', 'must be a non-empty string');
  }

  const groupAggregator = options.groupAggregator;
  if (groupAggregator !== undefined) {
    if (typeof groupAggregator !== 'function') {
      problem('groupAggregator', 'must be a function (group, tasks) => ({ type, payload })');
    } else if (typeof broker?.enqueue !== 'function') {
      problem('groupAggregator', 'needs a broker that can enqueue the aggregated task (a full Broker)');
    } else {
      const missing = groupStoreMethods.filter((method) => typeof broker[method] !== 'function');
      if (missing.length > 0) {
        problem(
          'groupAggregator',
          `needs a broker that implements GroupStore (missing ${missing.join(', ')})`,
        );
      }
    }
  }

  const resolved: ResolvedServerOptions = {
    broker,
    concurrency: integer('concurrency', options.concurrency, availableParallelism(), 1),
    queues,
    strictPriority: options.strictPriority === true,
    retryDelay: optionalFunction('retryDelay', options.retryDelay) ?? defaultRetryDelay,
    isFailure: optionalFunction('isFailure', options.isFailure) ?? (() => true),
    onError: optionalFunction('onError', options.onError),
    shutdownTimeout: duration('shutdownTimeout', options.shutdownTimeout, 8000, 0),
    healthCheck: optionalFunction('healthCheck', options.healthCheck),
    healthCheckInterval: duration('healthCheckInterval', options.healthCheckInterval, 15_000, 10),
    delayedTaskCheckInterval: duration(
      'delayedTaskCheckInterval',
      options.delayedTaskCheckInterval,
      5000,
      10,
    ),
    taskCheckInterval: duration('taskCheckInterval', options.taskCheckInterval, 1000, 10),
    janitorInterval: duration('janitorInterval', options.janitorInterval, 8000, 10),
    janitorBatchSize: integer('janitorBatchSize', options.janitorBatchSize, 100, 1),
    // Leases and server info live in whole seconds in Redis, so shorter values would round to nothing.
    leaseDuration: duration('leaseDuration', options.leaseDuration, 3000, 2000),
    recovererInterval: duration('recovererInterval', options.recovererInterval, 1000, 10),
    heartbeatInterval: duration('heartbeatInterval', options.heartbeatInterval, 5000, 1000),
    groupAggregator: typeof groupAggregator === 'function' ? groupAggregator : undefined,
    groupGracePeriod: duration('groupGracePeriod', options.groupGracePeriod, 60_000, 1000),
    groupMaxDelay: duration('groupMaxDelay', options.groupMaxDelay, 0, 0),
    groupMaxSize: integer('groupMaxSize', options.groupMaxSize, 0, 0),
    codec,
    logger,
    host: options.host ?? hostname(),
    clock,
  };

  if (resolved.groupMaxDelay > 0 && resolved.groupMaxDelay < 1000) {
    problem('groupMaxDelay', 'must be 0 (no limit) or at least 1 s: groups are timed in whole seconds');
  }
  if (issues.length > 0) {
    throw new ValidationError(
      `Invalid server options: ${issues.map((issue) => `${issue.path} ${issue.message}`).join('; ')}.`,
      issues,
    );
  }
  return resolved;
}
