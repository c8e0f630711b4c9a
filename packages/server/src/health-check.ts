import { BrokerUnavailableError } from '@q/core';
import type { BrokerReachability } from './broker-reachability';
import { toError } from './error-chain';
import type { ResolvedServerOptions } from './server-options';
import { withTimeout } from './timing';

/**
 * One run of the health check: pings the broker (or, for a broker without `ping`, reports what the
 * other loops last saw) and hands the result to the `healthCheck` option.
 */
export function createHealthCheck(
  options: ResolvedServerOptions,
  reachability: BrokerReachability,
  callTimeout: number,
) {
  const { broker, clock, healthCheck, logger } = options;
  return async (): Promise<void> => {
    let error: Error | undefined;
    if (typeof broker.ping === 'function') {
      try {
        await withTimeout(clock, broker.ping(), callTimeout, 'ping');
        reachability.succeeded();
      } catch (pingError) {
        reachability.failed(pingError);
        error = toError(pingError);
      }
    } else if (!reachability.reachable) {
      error = reachability.lastError ?? new BrokerUnavailableError('The broker could not be reached.');
    }
    try {
      await healthCheck?.(error);
    } catch (callbackError) {
      logger.error(
        { error: callbackError instanceof Error ? callbackError.message : String(callbackError) },
        'the healthCheck callback threw',
      );
    }
  };
}
