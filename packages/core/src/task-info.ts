import type { TaskMessage } from './task-message';
import type { TaskState } from './task-state';

/** A task as a broker found it: its message, its state and what the state adds. */
export interface StoredTask {
  message: TaskMessage;
  state: TaskState;
  /** Unix ms when the task is due (pending: now; scheduled and retry: their score). */
  nextProcessAt?: number;
  /** Bytes written by the handler with `writeResult`. */
  result?: Uint8Array;
  /** True for an active task whose lease has expired: its worker is presumed dead. */
  isOrphaned?: boolean;
}

/** What users see of a task. Durations are milliseconds; times are `Date`s. */
export interface TaskInfo {
  id: string;
  queue: string;
  type: string;
  /** The payload as stored (encoded by the codec). */
  payload: Uint8Array;
  headers: Record<string, string>;
  state: TaskState;
  maxRetry: number;
  retried: number;
  lastError?: string;
  lastFailedAt?: Date;
  /** Milliseconds; 0 when the task has no timeout of its own. */
  timeout: number;
  deadline?: Date;
  group?: string;
  /** When the task will be processed next, for pending, scheduled and retry tasks. */
  nextProcessAt?: Date;
  /** Milliseconds a completed task is kept. */
  retention: number;
  completedAt?: Date;
  result?: Uint8Array;
  isOrphaned: boolean;
}

const secondsToDate = (seconds: number): Date | undefined =>
  seconds > 0 ? new Date(seconds * 1000) : undefined;

export function toTaskInfo(stored: StoredTask): TaskInfo {
  const { message } = stored;
  const info: TaskInfo = {
    id: message.id,
    queue: message.queue,
    type: message.type,
    payload: message.payload,
    headers: { ...message.headers },
    state: stored.state,
    maxRetry: message.maxRetry,
    retried: message.retried,
    timeout: message.timeoutSeconds * 1000,
    retention: message.retentionSeconds * 1000,
    isOrphaned: stored.isOrphaned ?? false,
  };
  if (message.errorMessage) info.lastError = message.errorMessage;
  const lastFailedAt = secondsToDate(message.lastFailedAtUnixSeconds);
  if (lastFailedAt) info.lastFailedAt = lastFailedAt;
  const deadline = secondsToDate(message.deadlineUnixSeconds);
  if (deadline) info.deadline = deadline;
  if (message.groupKey) info.group = message.groupKey;
  if (stored.nextProcessAt !== undefined) info.nextProcessAt = new Date(stored.nextProcessAt);
  const completedAt = secondsToDate(message.completedAtUnixSeconds);
  if (completedAt) info.completedAt = completedAt;
  if (stored.result) info.result = stored.result;
  return info;
}
