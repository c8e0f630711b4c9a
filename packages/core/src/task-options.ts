import type { Duration } from './duration';

/** Options for one enqueue; the same names as Asynq's options. */
export interface TaskOptions {
  /** @default 'default' */
  queue?: string;
  /** How many times a failed task is retried before it is archived. @default 25 */
  maxRetry?: number;
  /**
   * How long one attempt may run. When neither `timeout` nor `deadline` is given, 30 minutes; when both
   * are, whichever ends first wins. Whole seconds on the wire.
   */
  timeout?: Duration;
  /** The time by which the task must be done (a `Date` or Unix milliseconds). */
  deadline?: Date | number;
  /** Process no earlier than this (a `Date` or Unix milliseconds). Overrides `processIn`. */
  processAt?: Date | number;
  /** Process after this delay. */
  processIn?: Duration;
  /**
   * Reject a duplicate (same queue, type and payload) while a lock of this length is held. The lock is
   * released when the task succeeds. A scheduled task's lock lasts until its process time plus this.
   */
  unique?: Duration;
  /** Your id for the task; enqueueing a second task with the same id in the queue fails. */
  taskId?: string;
  /** Keep the task as `completed` for this long after it succeeds. @default 0 */
  retention?: Duration;
  /** Aggregate the task with others of the same group (handled by the server's group aggregator). */
  group?: string;
  /** String headers carried with the task. */
  headers?: Record<string, string>;
}

export const taskOptionKeys = [
  'queue',
  'maxRetry',
  'timeout',
  'deadline',
  'processAt',
  'processIn',
  'unique',
  'taskId',
  'retention',
  'group',
  'headers',
] as const satisfies readonly (keyof TaskOptions)[];

/** Asynq's defaults, shared by every producer. */
export const taskDefaults = {
  queue: 'default',
  maxRetry: 25,
  /** Used when neither timeout nor deadline is set: 30 minutes. */
  timeoutMilliseconds: 30 * 60 * 1000,
} as const;
