/**
 * The `reason` of a handler's abort signal: why the attempt had to stop. Timeouts, deadlines and
 * cancellations fail the attempt (it is retried or archived); a lost lease or a shutdown does not record
 * anything for it (the recoverer, or the requeue at shutdown, takes care of the task).
 */
export type TaskAbortReason = 'timeout' | 'deadline' | 'cancel' | 'lease-lost' | 'shutdown';

const messages: Record<TaskAbortReason, string> = {
  // The "context …" prefixes are the words Go Asynq stores, so Go tooling reads our records the same way.
  timeout: 'context deadline exceeded: the task ran longer than its timeout',
  deadline: 'context deadline exceeded: the task passed its deadline',
  cancel: 'context canceled: the task was cancelled',
  'lease-lost':
    'the lease on the task was lost (it expired or another server recovered the task); this attempt was stopped and its result will be discarded',
  shutdown:
    'the server shut down before the task finished; the task was put back at the head of its queue without spending a retry',
};

export class TaskAbortedError extends Error {
  constructor(
    readonly reason: TaskAbortReason,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(
      options?.detail ? `${messages[reason]} (${options.detail})` : messages[reason],
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'TaskAbortedError';
  }
}
