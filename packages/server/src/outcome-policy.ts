/**
 * What becomes of a failed attempt, as Go Asynq decides it: a revoked task is deleted; a task whose
 * retries are spent, or whose handler said `SkipRetry`, is archived; any other is retried after the
 * `retryDelay`, counting as a failure unless `isFailure` says otherwise.
 */
import type { Logger, TaskMessage } from '@q/core';
import { errorMessageOf } from './error-chain';
import type { Task } from './handler';
import { computeRetryDelay, retryAt } from './retry-delay';
import { RevokeTask } from './revoke-task';
import type { ResolvedServerOptions } from './server-options';
import { SkipRetry } from './skip-retry';

export type FailureOutcome =
  | { kind: 'revoke' }
  | { kind: 'archive'; errorMessage: string; why: string }
  | { kind: 'retry'; errorMessage: string; processAt: number; delay: number; isFailure: boolean };

export interface FailedAttempt {
  error: Error;
  task: Task;
  message: TaskMessage;
  now: number;
}

export function decideFailure(
  { error, task, message, now }: FailedAttempt,
  options: Pick<ResolvedServerOptions, 'retryDelay' | 'isFailure'>,
  logger: Logger,
): FailureOutcome {
  if (RevokeTask.is(error)) return { kind: 'revoke' };
  const errorMessage = errorMessageOf(error);
  if (SkipRetry.is(error)) return { kind: 'archive', errorMessage, why: 'retry skipped' };
  if (message.retried >= message.maxRetry) {
    return {
      kind: 'archive',
      errorMessage,
      why: `retries exhausted (${message.retried}/${message.maxRetry})`,
    };
  }
  let isFailure = true;
  try {
    isFailure = Boolean(options.isFailure(error));
  } catch (predicateError) {
    logger.error(
      {
        taskId: message.id,
        type: message.type,
        queue: message.queue,
        error: errorMessage,
        isFailureError: predicateError instanceof Error ? predicateError.message : String(predicateError),
      },
      'the isFailure option threw; counting the error as a failure',
    );
  }
  const delay = computeRetryDelay({
    retryDelay: options.retryDelay,
    retried: message.retried,
    error,
    task,
    logger,
  });
  return { kind: 'retry', errorMessage, processAt: retryAt(now, delay), delay, isFailure };
}
