import type { BrokerReachability } from './broker-reachability';
import type { ResolvedServerOptions } from './server-options';
import { withTimeout } from './timing';

/** One run of the janitor: deletes completed tasks whose retention ended, a batch at a time. */
export function createJanitor(
  options: ResolvedServerOptions,
  reachability: BrokerReachability,
  callTimeout: number,
) {
  const { broker, clock, janitorBatchSize, logger } = options;
  const queues = Object.keys(options.queues);
  return async (signal: AbortSignal): Promise<void> => {
    for (const queue of queues) {
      let deleted = 0;
      for (;;) {
        if (signal.aborted) return;
        const count = await withTimeout(
          clock,
          broker.deleteExpiredCompleted(queue, clock.now(), janitorBatchSize),
          callTimeout,
          'deleteExpiredCompleted',
        );
        reachability.succeeded();
        deleted += count;
        if (count < janitorBatchSize) break;
      }
      if (deleted > 0) logger.debug({ queue, deleted }, 'deleted completed tasks whose retention ended');
    }
  };
}
