import { errorChainHas } from './error-chain';

const skipRetryMarker = Symbol.for('@q/skip-retry');

/**
 * Throw this (or an error whose `cause` chain holds it) from a handler to archive the task at once
 * instead of retrying it, like Go Asynq's `SkipRetry`. Use it when another attempt cannot succeed, such
 * as a payload that will never be valid.
 */
export class SkipRetry extends Error {
  readonly [skipRetryMarker] = true;

  constructor(message = 'skip retry for the task', options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SkipRetry';
  }

  /** True when `error`, or an error in its `cause` chain, is a `SkipRetry` from any copy of this package. */
  static is(error: unknown): boolean {
    return errorChainHas(error, skipRetryMarker);
  }
}
