/**
 * Stand-ins for real work: waiting that honours the task's abort signal (as every real handler should,
 * by passing `context.signal` to fetch, database drivers and so on), and failures on request.
 */
import { systemClock, type Clock } from '@q/core';
import { SkipRetry } from '@q/server';

/**
 * Waits `milliseconds` of `clock` time (the real time unless a test passes its manual clock), or rejects
 * with the signal's reason as soon as the task is aborted.
 */
export function simulateWork(
  milliseconds: number,
  signal: AbortSignal,
  clock: Clock = systemClock,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(toError(signal.reason));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(toError(signal.reason));
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A random duration between `minimum` and `maximum` milliseconds. */
export function between(minimum: number, maximum: number): number {
  return Math.round(minimum + Math.random() * (maximum - minimum));
}

/**
 * Fails the attempt when the producer asked for it: `flaky` fails the first two attempts (the task is
 * retried, then succeeds), `broken` can never succeed and is archived at once with `SkipRetry`.
 */
export function failIfAsked(simulate: 'ok' | 'flaky' | 'broken', retryCount: number, what: string): void {
  if (simulate === 'flaky' && retryCount < 2) {
    throw new Error(`${what}: the remote service timed out (attempt ${retryCount + 1})`);
  }
  if (simulate === 'broken') throw new SkipRetry(`${what}: the request is invalid and will never succeed`);
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
