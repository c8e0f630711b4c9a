import type { RetryDelayFunction } from '@q/server';

/**
 * Retries a few seconds apart (2 s, 4 s, 8 s, …), so that the demo shows them; Asynq's default waits
 * much longer. `retried` is the number of retries already spent.
 */
export const retryDelay: RetryDelayFunction = (retried) => 2000 * 2 ** retried;
