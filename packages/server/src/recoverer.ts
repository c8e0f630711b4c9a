import type { TaskMessage } from '@q/core';
import type { BrokerReachability } from './broker-reachability';
import { isUnreachableError } from './broker-reachability';
import type { Processor } from './processor';
import { computeRetryDelay, retryAt } from './retry-delay';
import type { ResolvedServerOptions } from './server-options';
import { taskFromMessageLenient } from './task-from-message';
import { withTimeout } from './timing';

/** The error Go Asynq records for a recovered task; kept word for word so Go tooling reads it the same. */
export const leaseExpiredMessage = 'asynq: task lease expired';

export interface RecovererOptions {
  options: ResolvedServerOptions;
  processor: Processor;
  reachability: BrokerReachability;
  callTimeout: number;
}

/**
 * One sweep of the recoverer: every active task whose lease ended (its server died or lost Redis for
 * longer than the lease), and every active task with no lease at all, is retried with the error
 * "asynq: task lease expired", or archived when its retries are spent. Go Asynq waits until a lease
 * ended 30 s ago and sweeps every minute; @q sweeps every `recovererInterval` as soon as it ended.
 * Also returns aggregation sets whose aggregator died to their group.
 */
export function createRecoverer({ options, processor, reachability, callTimeout }: RecovererOptions) {
  const { broker, logger, codec } = options;
  const queues = Object.keys(options.queues);

  const recover = async (message: TaskMessage, now: number): Promise<void> => {
    // Only the lease that was found expired: if another server recovered the task meanwhile and it was
    // taken again, its new lease is not expired and the write is refused.
    const fence = { expiredBy: now };
    const error = new Error(leaseExpiredMessage);
    error.name = 'LeaseExpiredError';
    const fields = { taskId: message.id, type: message.type, queue: message.queue };
    if (message.retried >= message.maxRetry) {
      await withTimeout(broker.archive(message, leaseExpiredMessage, fence), callTimeout, 'archive');
      logger.warn(fields, 'recovered a task whose lease expired; its retries were spent, so it was archived');
      return;
    }
    const task = taskFromMessageLenient(message, codec);
    const delay = computeRetryDelay({
      retryDelay: options.retryDelay,
      retried: message.retried,
      error,
      task,
      logger,
    });
    let isFailure = true;
    try {
      isFailure = Boolean(options.isFailure(error));
    } catch {
      // Counted as a failure, as the processor does.
    }
    await withTimeout(
      broker.retry(message, {
        processAt: retryAt(now, delay),
        errorMessage: leaseExpiredMessage,
        isFailure,
        fence,
      }),
      callTimeout,
      'retry',
    );
    logger.warn({ ...fields, retryInMs: delay }, 'recovered a task whose lease expired; it will be retried');
  };

  return async (signal: AbortSignal): Promise<void> => {
    const now = Date.now();
    const expired = await withTimeout(broker.listLeaseExpired(queues, now), callTimeout, 'listLeaseExpired');
    reachability.succeeded();
    for (const message of expired) {
      if (signal.aborted) return;
      // Our own running tasks are checked by the lease keeper, which stops them if their lease is gone.
      if (processor.holdsLease(message.id)) continue;
      try {
        await recover(message, now);
      } catch (error) {
        if (isUnreachableError(error)) throw error;
        // Another server's recoverer was faster, or the record is broken: note it and go on.
        logger.warn(
          {
            taskId: message.id,
            queue: message.queue,
            error: error instanceof Error ? error.message : String(error),
          },
          'could not recover a task whose lease expired; skipping it',
        );
      }
    }
    for (const queue of queues) {
      if (signal.aborted) return;
      await withTimeout(
        broker.reclaimStaleAggregationSets(queue, now),
        callTimeout,
        'reclaimStaleAggregationSets',
      );
    }
  };
}
