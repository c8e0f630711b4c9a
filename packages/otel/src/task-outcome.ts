/**
 * What became of a handler run, told from what the handler did, as the server decides it (a middleware
 * runs before the server writes the outcome, so it decides the same way from the same facts).
 */
import { RevokeTask, SkipRetry, TaskAbortedError, type Task } from '@q/server';

/**
 * - `done`: the handler succeeded.
 * - `retry`: it failed and will run again.
 * - `archived`: it failed with its retries spent.
 * - `skip-retry`: it threw `SkipRetry` (or its payload failed the definition's schema): archived at once.
 * - `revoked`: it threw `RevokeTask`: deleted.
 * - `requeued`: the server shut down before it finished; put back in pending without spending a retry.
 * - `lease-lost`: the server lost the task's lease; the recoverer runs it again.
 */
export type TaskOutcome =
  'done' | 'retry' | 'archived' | 'skip-retry' | 'revoked' | 'requeued' | 'lease-lost';

export interface AttemptResult {
  outcome: TaskOutcome;
  /** Why it failed; absent for `done`. */
  error?: unknown;
}

/**
 * `thrown` is what the handler threw (`undefined` when it returned). An attempt whose signal aborted
 * first is decided by the abort: the server records a timeout or cancellation even when the handler
 * returns later.
 */
export function decideAttempt(
  task: Task,
  signal: AbortSignal,
  thrown: unknown,
  threw: boolean,
): AttemptResult {
  let failure: unknown = thrown;
  if (signal.aborted && signal.reason instanceof TaskAbortedError) {
    const reason = signal.reason;
    if (reason.reason === 'shutdown') return { outcome: 'requeued', error: reason };
    if (reason.reason === 'lease-lost') return { outcome: 'lease-lost', error: reason };
    failure = reason;
  } else if (!threw) {
    return { outcome: 'done' };
  }
  if (RevokeTask.is(failure)) return { outcome: 'revoked', error: failure };
  if (SkipRetry.is(failure)) return { outcome: 'skip-retry', error: failure };
  if (task.retried >= task.maxRetry) return { outcome: 'archived', error: failure };
  return { outcome: 'retry', error: failure };
}
