import { errorChainHas } from './error-chain';

const revokeTaskMarker = Symbol.for('@q/revoke-task');

/**
 * Throw this (or an error whose `cause` chain holds it) from a handler to drop the task: it is deleted
 * without a retry and without being archived, and counted as processed, like Go Asynq's `RevokeTask`.
 */
export class RevokeTask extends Error {
  readonly [revokeTaskMarker] = true;

  constructor(message = 'revoke task', options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RevokeTask';
  }

  /** True when `error`, or an error in its `cause` chain, is a `RevokeTask` from any copy of this package. */
  static is(error: unknown): boolean {
    return errorChainHas(error, revokeTaskMarker);
  }
}
