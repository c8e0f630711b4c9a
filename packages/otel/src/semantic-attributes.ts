/**
 * The attribute and metric names @q/otel writes. The `messaging.*`, `error.type` and metric names are
 * OpenTelemetry's messaging semantic conventions (checked against `@opentelemetry/semantic-conventions`
 * in the tests); `messaging.asynq.*` and `q.*` are @q's own, in the namespace the conventions give a
 * messaging system for what is particular to it.
 */

/** `messaging.system`: Asynq's protocol is what producers and consumers share, whatever the language. */
export const messagingSystem = 'asynq';

export const attributes = {
  messagingSystem: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destinationName: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  bodySize: 'messaging.message.body.size',
  batchMessageCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  /** The task type (`email:send`). */
  taskType: 'messaging.asynq.task.type',
  /** 1 for the first run of a task, 2 for its first retry, and so on. */
  taskAttempt: 'messaging.asynq.task.attempt',
  /** Retries the task may spend. */
  taskMaxRetry: 'messaging.asynq.task.max_retry',
  /** What became of the attempt: `TaskOutcome`. */
  taskOutcome: 'messaging.asynq.task.outcome',
  /** The task's state once enqueued: pending, scheduled or aggregating. */
  taskState: 'messaging.asynq.task.state',
  /** The aggregation group. */
  group: 'messaging.asynq.group',
  /** A queue's task state, on `q.queue.size`. */
  queueState: 'messaging.asynq.queue.state',
} as const;

export const metrics = {
  /** Enqueued tasks (one per task, a batch counts each of its tasks). */
  sentMessages: 'messaging.client.sent.messages',
  /** How long an enqueue (or a batch) took, seconds. */
  operationDuration: 'messaging.client.operation.duration',
  /** Handler runs. */
  consumedMessages: 'messaging.client.consumed.messages',
  /** How long a handler ran, seconds. */
  processDuration: 'messaging.process.duration',
  /** Handler runs that failed (retry, archived, skip-retry, requeued, lease-lost). */
  failedTasks: 'q.tasks.failed',
  /** Seconds the oldest pending task of a queue has waited, read from the store. */
  queueLatency: 'q.queue.latency',
  /** Tasks in a queue, by state, read from the store. */
  queueSize: 'q.queue.size',
  /** Tasks a queue processed, failures included, since it was created (every server, Go ones too). */
  queueProcessed: 'q.queue.processed',
  /** Tasks of a queue that failed since it was created (every server, Go ones too). */
  queueFailed: 'q.queue.failed',
  /** 1 when a queue is paused. */
  queuePaused: 'q.queue.paused',
} as const;

/** `error.type` for an error: its class name, `_OTHER` when it is not an `Error`. */
export function errorTypeOf(error: unknown): string {
  return error instanceof Error && error.name ? error.name : '_OTHER';
}
