import type { SchedulerEnqueueEvent, SchedulerEntrySnapshot } from '@q/core';

/** A periodic task registered by a live scheduler (Asynq's `SchedulerEntry`). */
export interface SchedulerEntryInfo {
  id: string;
  /** The cron spec, e.g. `*\/5 * * * *` or `@every 30s`. */
  spec: string;
  taskType: string;
  payload: Uint8Array;
  /** Asynq's option strings, e.g. `Queue("low")`, `MaxRetry(3)`. */
  options: string[];
  nextEnqueueAt: Date;
  /** Absent when the entry has never enqueued. */
  previousEnqueueAt?: Date;
  scheduler: { host: string; pid: number; schedulerId: string };
}

/** One enqueue done by a scheduler entry. */
export interface SchedulerEventInfo {
  taskId: string;
  enqueuedAt: Date;
}

export function toSchedulerEntryInfo(entry: SchedulerEntrySnapshot): SchedulerEntryInfo {
  const info: SchedulerEntryInfo = {
    id: entry.id,
    spec: entry.spec,
    taskType: entry.taskType,
    payload: entry.payload,
    options: [...entry.enqueueOptions],
    nextEnqueueAt: new Date(entry.nextEnqueueAt),
    scheduler: { ...entry.scheduler },
  };
  // Go writes its zero time (year 1) for "never"; anything before 1970 means the same.
  if (entry.previousEnqueueAt > 0) info.previousEnqueueAt = new Date(entry.previousEnqueueAt);
  return info;
}

export function toSchedulerEventInfo(event: SchedulerEnqueueEvent): SchedulerEventInfo {
  return { taskId: event.taskId, enqueuedAt: new Date(event.enqueuedAt) };
}
