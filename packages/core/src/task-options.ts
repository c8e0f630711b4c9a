import type { Duration } from './duration';

/** Options for one enqueue; the same names as Asynq's options. */
export interface TaskOptions {
  /**
   * The queue to put the task in. A queue name is 1 to 256 characters, does not begin or end with
   * whitespace, and contains no '{', '}' or control character (see `queueNameRule`).
   * @default 'default'
   */
  queue?: string;
  /** How many times a failed task is retried before it is archived. @default 25 */
  maxRetry?: number;
  /**
   * How long one attempt may run. When neither `timeout` nor `deadline` is given, 30 minutes; when both
   * are, whichever ends first wins. Stored in whole seconds (as Go Asynq stores it), **rounded up** so an
   * attempt is never cut short: `'1500ms'` and `1999` are stored as 2 s, `'500ms'` as 1 s. `0` sets none
   * (a server then applies 30 minutes unless a deadline is given).
   */
  timeout?: Duration;
  /**
   * The time by which the task must be done (a `Date` or Unix milliseconds). Stored in whole Unix seconds
   * (as Go Asynq stores it), **rounded up** to the next whole second so the handler is never aborted
   * before the time you gave: `…:06.653Z` is stored, reported and enforced as `…:07.000Z`; a time on a
   * whole second is kept as it is.
   */
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
  /**
   * Keep the task as `completed` for this long after it succeeds. Whole seconds on the wire, rounded up
   * (`'1500ms'` keeps it 2 s). @default 0
   */
  retention?: Duration;
  /** Aggregate the task with others of the same group (handled by the server's group aggregator). */
  group?: string;
  /** String headers carried with the task. */
  headers?: Record<string, string>;
  /**
   * The task's flow key (a tenant, a customer, a partner): a queue's per-key flow limits hold each key on
   * its own, so one busy key cannot starve the others (see docs/flow-control.md). Carried in the
   * `q-flow-key` header. Same rule as a queue name; not with `group`.
   */
  flowKey?: string;
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
  'flowKey',
] as const satisfies readonly (keyof TaskOptions)[];

/** Asynq's defaults, shared by every producer. */
export const taskDefaults = {
  queue: 'default',
  maxRetry: 25,
  /** Used when neither timeout nor deadline is set: 30 minutes. */
  timeoutMilliseconds: 30 * 60 * 1000,
} as const;
