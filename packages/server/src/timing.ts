/**
 * Small timing helpers every background loop shares, on the server's clock: a sleep that ends early on
 * abort, a timeout that bounds a broker call, and a bounded wait for a promise.
 */
import { BrokerUnavailableError, type Clock } from '@q/core';

/** Resolves after `milliseconds` of `clock` time, or at once when `signal` aborts. Never rejects. */
export function sleep(clock: Clock, milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Rejects with a `BrokerUnavailableError` when `promise` has not settled within `milliseconds`, so that
 * no broker call can hang a loop or a shutdown. The call itself may still complete later.
 */
export function withTimeout<T>(
  clock: Clock,
  promise: Promise<T>,
  milliseconds: number,
  operation: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      reject(
        new BrokerUnavailableError(
          `The broker did not answer ${operation} within ${milliseconds} ms; check that it is reachable.`,
        ),
      );
    }, milliseconds);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Resolves after `milliseconds` of `clock` time; `cancel` stops the timer (the promise then never settles). */
export function delay(clock: Clock, milliseconds: number): { done: Promise<void>; cancel: () => void } {
  let timer: unknown;
  const done = new Promise<void>((resolve) => {
    timer = clock.setTimeout(resolve, milliseconds);
  });
  return { done, cancel: () => clock.clearTimeout(timer) };
}

/** Resolves with the promise's value, or with `undefined` as soon as `signal` aborts. */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export type Settlement<T> =
  | { status: 'fulfilled'; value: T }
  | { status: 'rejected'; reason: unknown }
  | { status: 'timeout' }
  | { status: 'aborted' };

/**
 * How `promise` settles within `milliseconds`, or that it did not (`timeout`), or that `signal` aborted
 * first. Unlike `withTimeout`, the caller can go on waiting for the same promise: a broker call queued
 * while the broker is unreachable still runs when it returns, so it must not be issued twice.
 */
export function settleWithin<T>(
  clock: Clock,
  promise: Promise<T>,
  milliseconds: number,
  signal?: AbortSignal,
): Promise<Settlement<T>> {
  if (signal?.aborted) return Promise.resolve({ status: 'aborted' });
  return new Promise((resolve) => {
    const finish = (settlement: Settlement<T>): void => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(settlement);
    };
    const onAbort = (): void => finish({ status: 'aborted' });
    const timer = clock.setTimeout(() => finish({ status: 'timeout' }), Math.max(0, milliseconds));
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => finish({ status: 'fulfilled', value }),
      (reason: unknown) => finish({ status: 'rejected', reason }),
    );
  });
}
