/**
 * What a handler receives and what it is: the task, its context, and the function or object that
 * processes it. `ServeMux` is a `Handler`; a plain function works too.
 */

/** A task as a handler sees it. */
export interface Task<Payload = unknown> {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
  /** The payload decoded by the server's codec (JSON by default); validated when registered with `defineTask`. */
  readonly payload: Payload;
  /** The payload exactly as stored. */
  readonly payloadBytes: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /** Retries spent before this attempt. */
  readonly retried: number;
  /** Retries allowed before the task is archived. */
  readonly maxRetry: number;
}

/**
 * Everything about the current attempt that is not the task itself. The server's context is a class
 * instance whose `signal`, `deadline` and `writeResult` are made when first used: pass it on as it is;
 * spreading it (`{ ...context }`) copies only the plain fields.
 */
export interface TaskContext {
  /**
   * Aborts when the attempt must stop: its timeout or deadline passed, the task was cancelled, its lease
   * was lost, or the server is shutting down and its deadline passed. `signal.reason` says which. A
   * handler that ignores it keeps its concurrency slot until it settles, and is reported as overdue.
   */
  readonly signal: AbortSignal;
  readonly taskId: string;
  /** Retries spent before this attempt (Asynq's `GetRetryCount`). */
  readonly retryCount: number;
  /** Retries allowed (Asynq's `GetMaxRetry`). */
  readonly maxRetry: number;
  readonly queue: string;
  /** When this attempt's time runs out. */
  readonly deadline: Date;
  /** Stores bytes as the task's result (kept with the task when it has a retention). */
  writeResult(result: Uint8Array): Promise<void>;
}

/** A handler as a function. Throwing or rejecting fails the attempt; anything else is success. */
export type HandlerFunction<Payload = unknown> = (task: Task<Payload>, context: TaskContext) => unknown;

/** A handler as an object, such as a `ServeMux`. */
export interface Handler {
  processTask(task: Task, context: TaskContext): Promise<void>;
}

/**
 * Wraps every handler of a `ServeMux`. Call `next()` to run the rest of the chain; the first middleware
 * registered is the outermost.
 */
export type Middleware = (task: Task, context: TaskContext, next: () => Promise<void>) => unknown;
