/**
 * Typed errors with stable codes. `instanceof` works across duplicated copies of this package
 * (two versions in one `node_modules`), because the check compares the `code`, not the prototype.
 */

const errorMarker = Symbol.for('@q/error');

export type QErrorCode =
  | 'Q_VALIDATION'
  | 'Q_DUPLICATE_TASK'
  | 'Q_BATCH_ABORTED'
  | 'Q_TASK_ID_CONFLICT'
  | 'Q_QUEUE_NOT_FOUND'
  | 'Q_QUEUE_NOT_EMPTY'
  | 'Q_TASK_NOT_FOUND'
  | 'Q_TASK_STATE'
  | 'Q_LEASE_LOST'
  | 'Q_MALFORMED_TASK'
  | 'Q_BROKER'
  | 'Q_BROKER_UNAVAILABLE'
  | 'Q_BROKER_OUT_OF_MEMORY'
  | 'Q_PAYLOAD_ENCODING'
  | 'Q_SHUTDOWN';

export interface QErrorOptions {
  cause?: unknown;
}

/** The base of every error @q throws on purpose. Check with `QError.is(error)` or `instanceof`. */
export class QError extends Error {
  readonly code: QErrorCode;
  readonly [errorMarker] = true;

  constructor(code: QErrorCode, message: string, options?: QErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /** True for any @q error, whichever copy of `@q/core` created it. */
  static is(error: unknown): error is QError {
    return (
      typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[errorMarker] === true
    );
  }

  static override [Symbol.hasInstance](instance: unknown): boolean {
    if (!QError.is(instance)) return false;
    // `this` is the class on the right of `instanceof`; QError itself matches every code.
    const expected = (this as unknown as { errorCode?: QErrorCode }).errorCode;
    return expected === undefined || instance.code === expected;
  }
}

/** One problem found while validating input. */
export interface ValidationIssue {
  /** Where the problem is, e.g. `options.timeout` or `payload.to`. */
  path: string;
  message: string;
}

/** Input was rejected before anything reached the broker. The message says what to change. */
export class ValidationError extends QError {
  static readonly errorCode = 'Q_VALIDATION' as const;
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[] = [], options?: QErrorOptions) {
    super('Q_VALIDATION', message, options);
    this.issues = issues;
  }
}

/** A task with the same uniqueness key is still held (`unique` option). */
export class DuplicateTaskError extends QError {
  static readonly errorCode = 'Q_DUPLICATE_TASK' as const;
  constructor(
    readonly queue: string,
    readonly taskType: string,
    options?: QErrorOptions,
  ) {
    super(
      'Q_DUPLICATE_TASK',
      `A task of type "${taskType}" with the same payload is already held in queue "${queue}" by its uniqueness lock; wait for the lock to expire or enqueue without "unique".`,
      options,
    );
  }
}

/** A task with the given id already exists in the queue, in any state. */
export class TaskIdConflictError extends QError {
  static readonly errorCode = 'Q_TASK_ID_CONFLICT' as const;
  constructor(
    readonly queue: string,
    readonly taskId: string,
    options?: QErrorOptions,
  ) {
    super(
      'Q_TASK_ID_CONFLICT',
      `Task id "${taskId}" is already used in queue "${queue}"; choose another taskId or delete the existing task first.`,
      options,
    );
  }
}

/**
 * A task of an atomic `enqueueMany` that was not written because another task of the same batch was
 * invalid or refused: nothing of the batch was written. `index` is the position of that other task in the
 * array the caller passed (`tasks` for `Client.enqueueMany`, `requests` for a broker's), and `cause` is
 * its own error. The task that aborted the batch gets its own error (`ValidationError`,
 * `DuplicateTaskError`, `TaskIdConflictError`, ...), not this one.
 */
export class BatchAbortedError extends QError {
  static readonly errorCode = 'Q_BATCH_ABORTED' as const;
  /** The task that aborted the batch, as the caller names it, e.g. `tasks[2]`. */
  readonly abortedBy: string;

  constructor(
    /** The index, in the caller's array, of the task that aborted the batch. */
    readonly index: number,
    /** The name of the caller's array, e.g. `tasks` or `requests`. */
    arrayName: string,
    options?: QErrorOptions,
  ) {
    const abortedBy = `${arrayName}[${index}]`;
    const reason = options?.cause instanceof Error ? ` (${options.cause.message.replace(/\.$/, '')})` : '';
    super(
      'Q_BATCH_ABORTED',
      `Not enqueued: the atomic batch was aborted by ${abortedBy}${reason}; nothing of the batch was written. Fix or remove ${abortedBy} and enqueue the batch again.`,
      options,
    );
    this.abortedBy = abortedBy;
  }
}

export class QueueNotFoundError extends QError {
  static readonly errorCode = 'Q_QUEUE_NOT_FOUND' as const;
  constructor(
    readonly queue: string,
    options?: QErrorOptions,
  ) {
    super(
      'Q_QUEUE_NOT_FOUND',
      `Queue "${queue}" does not exist; check the name (queues are created by the first enqueue).`,
      options,
    );
  }
}

export class QueueNotEmptyError extends QError {
  static readonly errorCode = 'Q_QUEUE_NOT_EMPTY' as const;
  constructor(
    readonly queue: string,
    options?: QErrorOptions,
  ) {
    super(
      'Q_QUEUE_NOT_EMPTY',
      `Queue "${queue}" still holds tasks; delete them first or remove it with force (active tasks always block removal).`,
      options,
    );
  }
}

export class TaskNotFoundError extends QError {
  static readonly errorCode = 'Q_TASK_NOT_FOUND' as const;
  constructor(
    readonly queue: string,
    readonly taskId: string,
    options?: QErrorOptions,
  ) {
    super('Q_TASK_NOT_FOUND', `Task "${taskId}" was not found in queue "${queue}".`, options);
  }
}

/** The operation is not allowed in the task's current state (e.g. running an active task). */
export class TaskStateError extends QError {
  static readonly errorCode = 'Q_TASK_STATE' as const;
  constructor(message: string, options?: QErrorOptions) {
    super('Q_TASK_STATE', message, options);
  }
}

/**
 * The worker no longer owns the task: its lease expired and the task was recovered elsewhere.
 * A late completion, retry or archive is refused so that the task is not acted on twice.
 */
export class LeaseLostError extends QError {
  static readonly errorCode = 'Q_LEASE_LOST' as const;
  constructor(
    readonly queue: string,
    readonly taskId: string,
    options?: QErrorOptions,
  ) {
    super(
      'Q_LEASE_LOST',
      `The lease on task "${taskId}" in queue "${queue}" was lost (it expired or the task was recovered); this result was discarded.`,
      options,
    );
  }
}

/** A record in the broker could not be decoded. The task is archived with this message as the reason. */
export class MalformedTaskError extends QError {
  static readonly errorCode = 'Q_MALFORMED_TASK' as const;
  constructor(message: string, options?: QErrorOptions) {
    super('Q_MALFORMED_TASK', message, options);
  }
}

/** The payload could not be encoded or decoded by the codec. */
export class PayloadEncodingError extends QError {
  static readonly errorCode = 'Q_PAYLOAD_ENCODING' as const;
  constructor(message: string, options?: QErrorOptions) {
    super('Q_PAYLOAD_ENCODING', message, options);
  }
}

/** The broker failed an operation. Nothing was silently dropped: the caller must retry or give up. */
export class BrokerError extends QError {
  static readonly errorCode = 'Q_BROKER' as const;
  constructor(message: string, options?: QErrorOptions) {
    super('Q_BROKER', message, options);
  }
}

/** The broker cannot be reached (connection refused, closed, or timed out). */
export class BrokerUnavailableError extends QError {
  static readonly errorCode = 'Q_BROKER_UNAVAILABLE' as const;
  constructor(message: string, options?: QErrorOptions) {
    super('Q_BROKER_UNAVAILABLE', message, options);
  }
}

/** The broker refused a write because it is out of memory. */
export class BrokerOutOfMemoryError extends QError {
  static readonly errorCode = 'Q_BROKER_OUT_OF_MEMORY' as const;
  constructor(message: string, options?: QErrorOptions) {
    super('Q_BROKER_OUT_OF_MEMORY', message, options);
  }
}

/** The operation was refused because the component is shutting down or closed. */
export class ShutdownError extends QError {
  static readonly errorCode = 'Q_SHUTDOWN' as const;
  constructor(message: string, options?: QErrorOptions) {
    super('Q_SHUTDOWN', message, options);
  }
}
