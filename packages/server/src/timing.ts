/**
 * Small timing helpers every background loop shares: a sleep that ends early on abort, a timeout that
 * bounds a broker call, and a timer that survives delays longer than `setTimeout`'s 24.8-day limit.
 */
import { BrokerUnavailableError } from '@q/core';

/** Resolves after `milliseconds`, or at once when `signal` aborts. Never rejects. */
export function sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
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
export function withTimeout<T>(promise: Promise<T>, milliseconds: number, operation: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new BrokerUnavailableError(
          `The broker did not answer ${operation} within ${milliseconds} ms; check that it is reachable.`,
        ),
      );
    }, milliseconds);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

const maximumTimerDelay = 2_147_483_647;

/** `setTimeout` for any delay; returns a function that cancels it. */
export function setLongTimeout(callback: () => void, milliseconds: number): () => void {
  let timer: NodeJS.Timeout;
  const schedule = (remaining: number): void => {
    if (remaining > maximumTimerDelay) {
      timer = setTimeout(() => schedule(remaining - maximumTimerDelay), maximumTimerDelay);
    } else {
      timer = setTimeout(callback, Math.max(0, remaining));
    }
  };
  schedule(milliseconds);
  return () => clearTimeout(timer);
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
  promise: Promise<T>,
  milliseconds: number,
  signal?: AbortSignal,
): Promise<Settlement<T>> {
  if (signal?.aborted) return Promise.resolve({ status: 'aborted' });
  return new Promise((resolve) => {
    const finish = (settlement: Settlement<T>): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(settlement);
    };
    const onAbort = (): void => finish({ status: 'aborted' });
    const timer = setTimeout(() => finish({ status: 'timeout' }), Math.max(0, milliseconds));
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => finish({ status: 'fulfilled', value }),
      (reason: unknown) => finish({ status: 'rejected', reason }),
    );
  });
}
