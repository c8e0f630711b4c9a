import { LeaseLostError, type TaskMessage } from '@q/core';
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
 *
 * The retry is at once, and the queue's due retries are forwarded to pending straight away: the task's
 * handler did not fail, its worker went away. When the attempt before also ended with an expired lease,
 * the task may be what kills its workers, and `retryDelay` decides as for any failure (Go Asynq always
 * applies `retryDelay`). Also returns aggregation sets whose aggregator died to their group.
 */
/** Aggregation sets whose aggregator died are looked for this often, not at every sweep (Asynq: 1 min). */
const staleAggregationSetInterval = 5000;

export function createRecoverer({ options, processor, reachability, callTimeout }: RecovererOptions) {
  const { broker, clock, logger, codec } = options;
  const queues = Object.keys(options.queues);
  let aggregationSetsCheckedAt = Number.NEGATIVE_INFINITY;

  /** Retries (or archives) one task; returns whether it was retried at once. */
  const recover = async (message: TaskMessage, now: number, cutoff: number): Promise<boolean> => {
    // Only the lease that was found expired: if another server recovered the task meanwhile and it was
    // taken again, its new lease is not expired and the write is refused.
    const fence = { expiredBy: cutoff };
    const error = new Error(leaseExpiredMessage);
    error.name = 'LeaseExpiredError';
    const fields = { taskId: message.id, type: message.type, queue: message.queue };
    if (message.retried >= message.maxRetry) {
      await withTimeout(clock, broker.archive(message, leaseExpiredMessage, fence), callTimeout, 'archive');
      logger.warn(fields, 'recovered a task whose lease expired; its retries were spent, so it was archived');
      return false;
    }
    const diedBefore = message.errorMessage === leaseExpiredMessage;
    const delay = diedBefore
      ? computeRetryDelay({
          retryDelay: options.retryDelay,
          retried: message.retried,
          error,
          task: taskFromMessageLenient(message, codec),
          logger,
        })
      : 0;
    let isFailure = true;
    try {
      isFailure = Boolean(options.isFailure(error));
    } catch {
      // Counted as a failure, as the processor does.
    }
    await withTimeout(
      clock,
      broker.retry(message, {
        // retryAt rounds up to the next whole second; a retry at once must be due in this one.
        processAt: delay === 0 ? now : retryAt(now, delay),
        errorMessage: leaseExpiredMessage,
        isFailure,
        fence,
      }),
      callTimeout,
      'retry',
    );
    logger.warn(
      { ...fields, attempt: message.retried + 1, retryInMs: delay },
      diedBefore
        ? 'recovered a task whose lease expired for the second attempt in a row; it is retried after retryDelay'
        : 'recovered a task whose lease expired (its server stopped extending it); it runs again now',
    );
    return delay === 0;
  };

  return async (signal: AbortSignal): Promise<void> => {
    const now = clock.now();
    // Lease expiries are stored in whole seconds: a lease scored in the second before this one has
    // certainly ended, one scored in this second may not have yet.
    const cutoff = now - 1000;
    const expired = await withTimeout(
      clock,
      broker.listLeaseExpired(queues, cutoff),
      callTimeout,
      'listLeaseExpired',
    );
    reachability.succeeded();
    const runNow = new Set<string>();
    for (const message of expired) {
      if (signal.aborted) break;
      // Our own running tasks are checked by the lease keeper, which stops them if their lease is gone.
      if (processor.holdsLease(message.id)) continue;
      try {
        if (await recover(message, now, cutoff)) runNow.add(message.queue);
      } catch (error) {
        if (isUnreachableError(error)) throw error;
        if (error instanceof LeaseLostError) {
          logger.debug(
            { taskId: message.id, queue: message.queue },
            'a task whose lease expired was recovered by another server first',
          );
          continue;
        }
        // The record is broken, or the broker refused it for another reason: note it and go on.
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
    if (runNow.size > 0) {
      await withTimeout(clock, broker.forward([...runNow], clock.now()), callTimeout, 'forward');
    }
    if (signal.aborted || now - aggregationSetsCheckedAt < staleAggregationSetInterval) return;
    aggregationSetsCheckedAt = now;
    const reclaim = broker.reclaimStaleAggregationSets?.bind(broker);
    if (!reclaim) return;
    for (const queue of queues) {
      if (signal.aborted) return;
      await withTimeout(clock, reclaim(queue, now), callTimeout, 'reclaimStaleAggregationSets');
    }
  };
}
