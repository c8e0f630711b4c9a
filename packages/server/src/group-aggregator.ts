import { randomUUID } from 'node:crypto';
import { type Duration, type TaskMessage, ValidationError, toMilliseconds } from '@q/core';
import {
  assertKnownKeys,
  assertTaskType,
  emptyTaskMessage,
  taskDefaults,
  toWholeSecondsUp,
} from '@q/core/internal';
import type { BrokerReachability } from './broker-reachability';
import type { Task } from './handler';
import type { AggregatingBroker, ResolvedServerOptions } from './server-options';
import { taskFromMessageLenient } from './task-from-message';
import { withTimeout } from './timing';

/** Options an aggregated task may carry; it always goes to the queue of the group it came from. */
export interface AggregatedTaskOptions {
  /** @default a new UUID */
  taskId?: string;
  /** @default 25 */
  maxRetry?: number;
  /** Whole seconds, rounded up. @default 30 minutes when neither timeout nor deadline is given */
  timeout?: Duration;
  /** A `Date` or Unix milliseconds, rounded up to the next whole second. @default none */
  deadline?: Date | number;
  /** Whole seconds, rounded up. @default 0 */
  retention?: Duration;
  /** @default {} */
  headers?: Record<string, string>;
}

/** The task a group aggregator returns. */
export interface AggregatedTask {
  type: string;
  /** Encoded with the server's codec. */
  payload?: unknown;
  options?: AggregatedTaskOptions;
}

/**
 * Combines the tasks of a group into one task, which is enqueued to the group's queue (Go Asynq's
 * `GroupAggregator`). If it throws, the group's tasks are kept and offered again later.
 */
export type GroupAggregator = (group: string, tasks: Task[]) => AggregatedTask | Promise<AggregatedTask>;

const aggregatedOptionKeys = ['taskId', 'maxRetry', 'timeout', 'deadline', 'retention', 'headers'] as const;

function aggregatedMessage(
  aggregated: AggregatedTask,
  queue: string,
  options: ResolvedServerOptions,
): TaskMessage {
  if (typeof aggregated !== 'object' || aggregated === null) {
    throw new ValidationError('The group aggregator must return { type, payload, options? }.', [
      { path: 'aggregated', message: 'not an object' },
    ]);
  }
  const taskOptions = aggregated.options ?? {};
  assertKnownKeys(taskOptions, aggregatedOptionKeys, 'aggregated task option');
  const message = emptyTaskMessage();
  message.id = taskOptions.taskId ?? randomUUID();
  message.type = assertTaskType(aggregated.type, 'aggregated.type');
  message.payload = options.codec.encode(aggregated.payload);
  message.queue = queue;
  message.maxRetry = taskOptions.maxRetry ?? taskDefaults.maxRetry;
  // Whole seconds on the wire, rounded up as the client does: never shorter or earlier than asked.
  if (taskOptions.timeout !== undefined) {
    message.timeoutSeconds = toWholeSecondsUp(
      toMilliseconds(taskOptions.timeout, 'aggregated.options.timeout'),
    );
  }
  if (taskOptions.deadline !== undefined) {
    message.deadlineUnixSeconds = toWholeSecondsUp(new Date(taskOptions.deadline).getTime());
  }
  if (message.timeoutSeconds === 0 && message.deadlineUnixSeconds === 0) {
    message.timeoutSeconds = taskDefaults.timeoutMilliseconds / 1000;
  }
  if (taskOptions.retention !== undefined) {
    message.retentionSeconds = toWholeSecondsUp(
      toMilliseconds(taskOptions.retention, 'aggregated.options.retention'),
    );
  }
  message.headers = { ...taskOptions.headers };
  return message;
}

/**
 * One run of group aggregation, for every group of every queue: asks the broker whether the group is
 * ready (size, delay or grace period reached); if so, hands its tasks to the aggregator, enqueues the
 * result and deletes the set. A set whose aggregation fails is reclaimed by the recoverer after its
 * deadline (2 min) and offered again.
 */
export function createGroupAggregation(
  options: ResolvedServerOptions,
  reachability: BrokerReachability,
  callTimeout: number,
) {
  const { clock, logger, codec } = options;
  // resolveServerOptions refuses a group aggregator with a broker that is not a GroupStore.
  const broker = options.broker as AggregatingBroker;
  const aggregator = options.groupAggregator;
  const queues = Object.keys(options.queues);

  const aggregate = async (queue: string, group: string): Promise<void> => {
    const setId = await withTimeout(
      clock,
      broker.aggregationCheck(queue, group, {
        setId: randomUUID(),
        maxSize: options.groupMaxSize,
        maxDelay: options.groupMaxDelay,
        gracePeriod: options.groupGracePeriod,
        now: clock.now(),
      }),
      callTimeout,
      'aggregationCheck',
    );
    if (setId === undefined || !aggregator || typeof broker.enqueue !== 'function') return;
    const set = await withTimeout(
      clock,
      broker.readAggregationSet(queue, group, setId),
      callTimeout,
      'readAggregationSet',
    );
    const tasks = set.messages.map((message) => taskFromMessageLenient(message, codec));
    let message: TaskMessage;
    try {
      message = aggregatedMessage(await aggregator(group, tasks), queue, options);
    } catch (error) {
      logger.error(
        { queue, group, size: tasks.length, error: error instanceof Error ? error.message : String(error) },
        'the group aggregator failed; the group is kept and offered again after the aggregation deadline',
      );
      return;
    }
    await withTimeout(clock, broker.enqueue({ message }), callTimeout, 'enqueue');
    await withTimeout(
      clock,
      broker.deleteAggregationSet(queue, group, setId),
      callTimeout,
      'deleteAggregationSet',
    );
    logger.info(
      { queue, group, size: tasks.length, taskId: message.id, type: message.type },
      'aggregated a group',
    );
  };

  return async (signal: AbortSignal): Promise<void> => {
    for (const queue of queues) {
      if (signal.aborted) return;
      const groups = await withTimeout(clock, broker.listGroups(queue), callTimeout, 'listGroups');
      reachability.succeeded();
      for (const group of groups) {
        if (signal.aborted) return;
        await aggregate(queue, group);
      }
    }
  };
}
