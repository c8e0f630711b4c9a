import { taskDefaults, type TaskMessage } from '@q/core';

export interface TaskDeadline {
  /** Unix milliseconds. */
  at: number;
  /** Which limit ends the attempt. */
  cause: 'timeout' | 'deadline';
}

/**
 * When a handler's time runs out, as Go Asynq computes it: the earlier of start + timeout and the
 * deadline (whole seconds when both are set), and 30 minutes when the message has neither.
 */
export function computeTaskDeadline(message: TaskMessage, now: number): TaskDeadline {
  const { timeoutSeconds, deadlineUnixSeconds } = message;
  if (timeoutSeconds <= 0 && deadlineUnixSeconds <= 0) {
    return { at: now + taskDefaults.timeoutMilliseconds, cause: 'timeout' };
  }
  if (timeoutSeconds > 0 && deadlineUnixSeconds > 0) {
    const byTimeout = Math.floor(now / 1000) + timeoutSeconds;
    return byTimeout <= deadlineUnixSeconds
      ? { at: byTimeout * 1000, cause: 'timeout' }
      : { at: deadlineUnixSeconds * 1000, cause: 'deadline' };
  }
  if (timeoutSeconds > 0) return { at: now + timeoutSeconds * 1000, cause: 'timeout' };
  return { at: deadlineUnixSeconds * 1000, cause: 'deadline' };
}
