/**
 * What every role of the memory broker shares: the queues, uniqueness locks, published servers and
 * schedulers, the waiters for new work and the cancel listeners, and the steps the roles have in common
 * (the lease fence, archiving, waking servers). Each role file (`memory-task-producer.ts`, …) works on it.
 */
import {
  LeaseLostError,
  QueueNotFoundError,
  ShutdownError,
  ValidationError,
  isTaskState,
  type Clock,
  type LeaseFence,
  type ListableState,
  type Page,
  type SchedulerEnqueueEvent,
  type SchedulerEntryState,
  type SchedulerIdentity,
  type ServerState,
  type StoredTask,
  type TaskMessage,
  type WorkerState,
} from '@q/core';
import { MemoryQueue, copyMessage, type TaskRecord } from './memory-queue';

/** Asynq's limits, kept so that tests see what production does. */
export const archiveRetention = 90 * 86_400_000;
export const maxArchiveSize = 10_000;
export const aggregationTimeout = 2 * 60_000;
export const maxSchedulerEvents = 1000;
export const defaultPageSize = 30;

export interface UniqueLock {
  taskId: string;
  expiresAt: number;
}

export interface PublishedServer {
  server: ServerState;
  workers: WorkerState[];
  expiresAt: number;
}

export interface PublishedScheduler {
  scheduler: SchedulerIdentity;
  entries: SchedulerEntryState[];
  expiresAt: number;
}

export function invalid(path: string, message: string): ValidationError {
  return new ValidationError(message, [{ path, message }]);
}

export function assertPositive(value: number, path: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw invalid(path, `${path} must be a positive number, got ${String(value)}.`);
  }
}

export function assertState(state: unknown): asserts state is ListableState {
  if (!isTaskState(state)) {
    throw invalid(
      'state',
      `${JSON.stringify(state)} is not a task state; use pending, active, scheduled, retry, archived, completed or aggregating.`,
    );
  }
}

export function requireGroup(group: string | undefined): string {
  if (!group)
    throw invalid('group', 'Tasks in the aggregating state belong to a group; pass the group name.');
  return group;
}

export function pageRange(page: Page): { start: number; end: number } {
  const number = page.page ?? 1;
  const size = page.pageSize ?? defaultPageSize;
  if (!Number.isInteger(number) || number < 1) {
    throw invalid('page.page', `page must be a whole number from 1, got ${String(number)}.`);
  }
  if (!Number.isInteger(size) || size < 1) {
    throw invalid('page.pageSize', `pageSize must be a whole number from 1, got ${String(size)}.`);
  }
  return { start: (number - 1) * size, end: number * size };
}

export const toUnixSeconds = (time: number): number => Math.floor(time / 1000);

export class MemoryStore {
  readonly queues = new Map<string, MemoryQueue>();
  /** Queue names as `listQueues` reports them: registered by the first enqueue, dropped by `removeQueue`. */
  readonly registered = new Set<string>();
  readonly uniqueLocks = new Map<string, UniqueLock>();
  readonly servers = new Map<string, PublishedServer>();
  readonly schedulers = new Map<string, PublishedScheduler>();
  readonly schedulerEvents = new Map<string, SchedulerEnqueueEvent[]>();
  readonly waiters = new Map<string, Set<() => void>>();
  readonly cancelListeners = new Set<(taskId: string) => void>();
  closed = false;

  constructor(readonly clock: Clock) {}

  /** Refuses every later call, ends the waits for new work and drops the cancel listeners. */
  close(): void {
    this.closed = true;
    for (const waiting of this.waiters.values()) for (const wake of [...waiting]) wake();
    this.cancelListeners.clear();
  }

  /** Runs one operation as a single synchronous step, refusing it once the broker is closed. */
  run<Result>(operation: string, step: () => Result): Promise<Result> {
    if (this.closed) {
      return Promise.reject(
        new ShutdownError(`The memory broker is closed; ${operation} was refused. Create a new broker.`),
      );
    }
    try {
      return Promise.resolve(step());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  queue(name: string): MemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new MemoryQueue(name);
      this.queues.set(name, queue);
    }
    return queue;
  }

  existing(name: string): MemoryQueue {
    const queue = this.registered.has(name) ? this.queues.get(name) : undefined;
    if (!queue) throw new QueueNotFoundError(name);
    return queue;
  }

  /** The task's record when it is leased under `fence`; throws `LeaseLostError` otherwise. */
  leased(message: TaskMessage, fence: LeaseFence | undefined): { queue: MemoryQueue; record: TaskRecord } {
    const queue = this.queues.get(message.queue);
    const record = queue?.tasks.get(message.id);
    if (
      !queue ||
      record?.state !== 'active' ||
      (fence?.token && fence.token !== record.leaseToken) ||
      (fence?.expiredBy !== undefined && (record.leaseExpiresAt ?? -Infinity) > fence.expiredBy)
    ) {
      throw new LeaseLostError(message.queue, message.id);
    }
    return { queue, record };
  }

  makePending(queue: MemoryQueue, record: TaskRecord): void {
    queue.detach(record);
    record.state = 'pending';
    record.pendingSince = this.clock.now();
    queue.pending.push(record.message.id);
  }

  /** Archives a detached record and trims the archive as Asynq does (90 days, 10,000 tasks). */
  moveToArchive(queue: MemoryQueue, record: TaskRecord, now: number): void {
    record.state = 'archived';
    record.archivedAt = now;
    const archived = queue.inState('archived');
    const excess = archived.length - (maxArchiveSize - 1);
    archived.forEach((candidate, index) => {
      if (index < excess || (candidate.archivedAt ?? 0) <= now - archiveRetention) {
        queue.tasks.delete(candidate.message.id);
      }
    });
  }

  inAggregationSet(queue: MemoryQueue, taskId: string): boolean {
    for (const set of queue.aggregationSets.values()) if (set.taskIds.includes(taskId)) return true;
    return false;
  }

  releaseLock(message: TaskMessage): void {
    if (message.uniqueKey && this.uniqueLocks.get(message.uniqueKey)?.taskId === message.id) {
      this.uniqueLocks.delete(message.uniqueKey);
    }
  }

  wake(queue: string): void {
    for (const wake of [...(this.waiters.get(queue) ?? [])]) wake();
  }
}

export function storedTask(record: TaskRecord, now: number): StoredTask {
  const task: StoredTask = { message: copyMessage(record.message), state: record.state };
  if (record.state === 'pending') task.nextProcessAt = now;
  if (record.processAt !== undefined) task.nextProcessAt = record.processAt;
  if (record.state === 'active') task.isOrphaned = (record.leaseExpiresAt ?? -Infinity) <= now;
  if (record.result && record.result.length > 0) task.result = record.result.slice();
  return task;
}

/** A rough size in bytes of what a record holds, for `memoryUsage`. */
export function recordSize(record: TaskRecord): number {
  const { message } = record;
  let size = 128 + message.id.length + message.type.length + message.payload.length;
  size += message.errorMessage.length + (record.result?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers)) size += name.length + value.length;
  return size;
}

export function setKey(group: string, setId: string): string {
  return `${group}\u0000${setId}`;
}

export function serverKey(server: Pick<ServerState, 'host' | 'pid' | 'serverId'>): string {
  return `${server.host}:${server.pid}:${server.serverId}`;
}

export function schedulerKey(scheduler: SchedulerIdentity): string {
  return `${scheduler.host}:${scheduler.pid}:${scheduler.schedulerId}`;
}
