import type { BrokerReachability } from './broker-reachability';
import type { ResolvedServerOptions } from './server-options';
import { withTimeout } from './timing';

/** One run of the forwarder: due scheduled and retry tasks of the server's queues move to pending. */
export function createForwarder(
  options: ResolvedServerOptions,
  reachability: BrokerReachability,
  callTimeout: number,
) {
  const queues = Object.keys(options.queues);
  return async (): Promise<void> => {
    const moved = await withTimeout(
      options.clock,
      options.broker.forward(queues, options.clock.now()),
      callTimeout,
      'forward',
    );
    reachability.succeeded();
    if (moved > 0) options.logger.debug({ moved }, 'forwarded due scheduled and retry tasks to pending');
  };
}
