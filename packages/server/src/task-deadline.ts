import { type TaskMessage } from '@q/core';
import { taskDefaults } from '@q/core/internal';

export interface TaskDeadline {
  /** Unix milliseconds. */
  at: number;
  /** Which limit ends the attempt. */
  cause: 'timeout' | 'deadline';
}

/**
 * When a handler's time runs out: the earlier of start + timeout and the deadline, and 30 minutes when
 * the message has neither. The timeout counts from the start to the millisecond. Go Asynq floors the start
 * to a whole second when both are set, which can cut the timeout by up to a second; @q does not, so a
 * handler is never aborted before its timeout nor before its deadline. The deadline is whole Unix seconds
 * on the wire; @q's client rounds it up, so a deadline the user gave to the millisecond is never brought
 * forward.
 */
export function computeTaskDeadline(message: TaskMessage, now: number): TaskDeadline {
  const { timeoutSeconds, deadlineUnixSeconds } = message;
  if (timeoutSeconds <= 0 && deadlineUnixSeconds <= 0) {
    return { at: now + taskDefaults.timeoutMilliseconds, cause: 'timeout' };
  }
  const byTimeout = timeoutSeconds > 0 ? now + timeoutSeconds * 1000 : Number.POSITIVE_INFINITY;
  const byDeadline = deadlineUnixSeconds > 0 ? deadlineUnixSeconds * 1000 : Number.POSITIVE_INFINITY;
  return byTimeout <= byDeadline
    ? { at: byTimeout, cause: 'timeout' }
    : { at: byDeadline, cause: 'deadline' };
}
