import { randomInt } from 'node:crypto';
import { type Logger, toMilliseconds } from '@q/core';
import type { Task } from './handler';

/**
 * Go Asynq's default retry delay (Sidekiq's formula): `retried⁴ + 15 + random(0..29) × (retried + 1)`
 * seconds, where `retried` is the number of retries already spent. Returns milliseconds.
 */
export function defaultRetryDelay(retried: number): number {
  const seconds = retried ** 4 + 15 + randomInt(30) * (retried + 1);
  return seconds * 1000;
}

export interface RetryDelayRequest {
  retryDelay: (retried: number, error: Error, task: Task) => unknown;
  retried: number;
  error: Error;
  task: Task;
  logger: Logger;
}

/** Asks the configured function; falls back to the default (and says so) when it throws or returns nonsense. */
export function computeRetryDelay({ retryDelay, retried, error, task, logger }: RetryDelayRequest): number {
  try {
    return toMilliseconds(retryDelay(retried, error, task) as number, 'retryDelay');
  } catch (delayError) {
    logger.error(
      { taskId: task.id, error: delayError instanceof Error ? delayError.message : String(delayError) },
      "the retryDelay option threw or returned an invalid duration; using Asynq's default delay",
    );
    return defaultRetryDelay(retried);
  }
}

/**
 * When a retry is due. Redis keeps retry times in whole seconds, truncated, so the time is rounded up
 * to the next second: a retry never comes before its delay has passed.
 */
export function retryAt(now: number, delay: number): number {
  return Math.ceil((now + delay) / 1000) * 1000;
}
