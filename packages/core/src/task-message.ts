/**
 * The task record every broker stores, field for field the message Go's Asynq keeps (`TaskMessage`).
 * Times and durations carry their unit in their name because the wire format mixes seconds and
 * nanoseconds; convert at the edges.
 */
export interface TaskMessage {
  id: string;
  type: string;
  payload: Uint8Array;
  queue: string;
  /** Maximum number of retries (Asynq's `retry`). */
  maxRetry: number;
  /** Retries spent so far. */
  retried: number;
  /** The last failure's message, empty when none. */
  errorMessage: string;
  /** 0 when unset. */
  timeoutSeconds: number;
  /** Unix seconds; 0 when unset. */
  deadlineUnixSeconds: number;
  /** The broker's uniqueness lock key, empty when the task is not unique. */
  uniqueKey: string;
  /** Unix seconds; 0 when it never failed. */
  lastFailedAtUnixSeconds: number;
  /** How long a completed task is kept; 0 deletes it on success. */
  retentionSeconds: number;
  /** Unix seconds; 0 until completed. */
  completedAtUnixSeconds: number;
  /** The aggregation group name, empty when none. */
  groupKey: string;
  headers: Record<string, string>;
}

/** A message with every field at its zero value, for building one field by field. */
export function emptyTaskMessage(): TaskMessage {
  return {
    id: '',
    type: '',
    payload: new Uint8Array(0),
    queue: '',
    maxRetry: 0,
    retried: 0,
    errorMessage: '',
    timeoutSeconds: 0,
    deadlineUnixSeconds: 0,
    uniqueKey: '',
    lastFailedAtUnixSeconds: 0,
    retentionSeconds: 0,
    completedAtUnixSeconds: 0,
    groupKey: '',
    headers: {},
  };
}
