/** `QueueAdmin` in memory: counts, listings, single and bulk actions, queues, servers and schedulers. */
import {
  QueueNotEmptyError,
  TaskNotFoundError,
  TaskStateError,
  type DailyStats,
  type GroupStats,
  type ListableState,
  type Page,
  type QueueAdmin,
  type QueueStats,
  type SchedulerEntrySnapshot,
  type ServerSnapshot,
  type StoreInfo,
  type StoredTask,
} from '@q/core';
import { assertQueueName } from '@q/core/internal';
import { compareText, utcDate } from './memory-queue';
import {
  invalid,
  assertState,
  requireGroup,
  pageRange,
  type MemoryStore,
  storedTask,
  recordSize,
} from './memory-store';

/** The reads of `QueueAdmin`; `schedulerHistory` is read by `MemorySchedulerStore` for both roles. */
export class MemoryQueueAdmin implements Omit<QueueAdmin, 'schedulerHistory'> {
  constructor(private readonly store: MemoryStore) {}

  listQueues(): Promise<string[]> {
    return this.store.run('listQueues', () => [...this.store.registered].sort(compareText));
  }

  queueStats(queue: string, now: number): Promise<QueueStats> {
    return this.store.run('queueStats', () => {
      const found = this.store.existing(queue);
      const counts = { pending: 0, active: 0, scheduled: 0, retry: 0, archived: 0, completed: 0 };
      let memoryUsage = 0;
      for (const record of found.tasks.values()) {
        memoryUsage += recordSize(record);
        if (record.state !== 'aggregating') counts[record.state] += 1;
      }
      let aggregating = 0;
      for (const ids of found.groups.values()) aggregating += ids.size;
      const oldest = found.pending[0] === undefined ? undefined : found.tasks.get(found.pending[0]);
      const today = found.daily.get(utcDate(now)) ?? { processed: 0, failed: 0 };
      return {
        queue,
        memoryUsage,
        latency: oldest?.pendingSince === undefined ? 0 : Math.max(0, now - oldest.pendingSince),
        size: Object.values(counts).reduce((sum, count) => sum + count, 0) + aggregating,
        groups: found.groups.size,
        ...counts,
        aggregating,
        processedToday: today.processed,
        failedToday: today.failed,
        processedTotal: found.processedTotal,
        failedTotal: found.failedTotal,
        paused: found.paused,
        timestamp: now,
      };
    });
  }

  dailyStats(queue: string, days: number, now: number): Promise<DailyStats[]> {
    return this.store.run('dailyStats', () => {
      if (!Number.isInteger(days) || days < 1) {
        throw invalid('days', `days must be a whole number from 1, got ${String(days)}.`);
      }
      const found = this.store.existing(queue);
      return Array.from({ length: days }, (_, index) => {
        const date = utcDate(now - index * 86_400_000);
        const counts = found.daily.get(date) ?? { processed: 0, failed: 0 };
        return { queue, date, processed: counts.processed, failed: counts.failed };
      });
    });
  }

  listGroupStats(queue: string): Promise<GroupStats[]> {
    return this.store.run('listGroupStats', () =>
      [...(this.store.queues.get(queue)?.groups ?? [])]
        .map(([group, ids]) => ({ group, size: ids.size }))
        .sort((left, right) => compareText(left.group, right.group)),
    );
  }

  listTasks(queue: string, state: ListableState, page: Page & { group?: string }): Promise<StoredTask[]> {
    return this.store.run('listTasks', () => {
      assertState(state);
      const { start, end } = pageRange(page);
      const found = this.store.existing(queue);
      const group = state === 'aggregating' ? requireGroup(page.group) : undefined;
      const now = this.store.clock.now();
      return found
        .inState(state, group)
        .slice(start, end)
        .map((record) => storedTask(record, now));
    });
  }

  getTask(queue: string, taskId: string): Promise<StoredTask> {
    return this.store.run('getTask', () => {
      const record = this.store.existing(queue).tasks.get(taskId);
      if (!record) throw new TaskNotFoundError(queue, taskId);
      return storedTask(record, this.store.clock.now());
    });
  }

  deleteTask(queue: string, taskId: string): Promise<void> {
    return this.store.run('deleteTask', () => {
      const found = this.store.existing(queue);
      const record = found.tasks.get(taskId);
      if (!record || this.store.inAggregationSet(found, taskId)) throw new TaskNotFoundError(queue, taskId);
      if (record.state === 'active') {
        throw new TaskStateError(
          `Task "${taskId}" in queue "${queue}" is running and cannot be deleted; cancel it first (publishCancel).`,
        );
      }
      found.detach(record);
      found.tasks.delete(taskId);
      this.store.releaseLock(record.message);
    });
  }

  runTask(queue: string, taskId: string): Promise<void> {
    return this.store.run('runTask', () => {
      const found = this.store.existing(queue);
      const record = found.tasks.get(taskId);
      if (!record || this.store.inAggregationSet(found, taskId)) throw new TaskNotFoundError(queue, taskId);
      if (record.state === 'active') {
        throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already running.`);
      }
      if (record.state === 'pending') {
        throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already pending.`);
      }
      this.store.makePending(found, record);
      this.store.wake(queue);
    });
  }

  archiveTask(queue: string, taskId: string): Promise<void> {
    return this.store.run('archiveTask', () => {
      const found = this.store.existing(queue);
      const record = found.tasks.get(taskId);
      if (!record || this.store.inAggregationSet(found, taskId)) throw new TaskNotFoundError(queue, taskId);
      if (record.state === 'archived') {
        throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already archived.`);
      }
      if (record.state === 'active') {
        throw new TaskStateError(
          `Task "${taskId}" in queue "${queue}" is running and cannot be archived; cancel it first (publishCancel).`,
        );
      }
      found.detach(record);
      this.store.moveToArchive(found, record, this.store.clock.now());
    });
  }

  deleteAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.store.run('deleteAllTasks', () => {
      assertState(state);
      const found = this.store.existing(queue);
      if (state === 'active') {
        throw new TaskStateError('Running tasks cannot be deleted; cancel them first (publishCancel).');
      }
      const records = found.inState(state, state === 'aggregating' ? requireGroup(group) : undefined);
      for (const record of records) {
        found.detach(record);
        found.tasks.delete(record.message.id);
        this.store.releaseLock(record.message);
      }
      return records.length;
    });
  }

  runAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.store.run('runAllTasks', () => {
      assertState(state);
      const found = this.store.existing(queue);
      if (state === 'pending' || state === 'active') {
        throw new TaskStateError(
          `Tasks in the ${state} state cannot be run; they are already waiting or running.`,
        );
      }
      const records = found.inState(state, state === 'aggregating' ? requireGroup(group) : undefined);
      for (const record of records) this.store.makePending(found, record);
      if (records.length > 0) this.store.wake(queue);
      return records.length;
    });
  }

  archiveAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.store.run('archiveAllTasks', () => {
      assertState(state);
      const found = this.store.existing(queue);
      if (state === 'active' || state === 'archived' || state === 'completed') {
        throw new TaskStateError(
          `Tasks in the ${state} state cannot be archived; archive pending, scheduled, retry or aggregating tasks.`,
        );
      }
      const records = found.inState(state, state === 'aggregating' ? requireGroup(group) : undefined);
      const now = this.store.clock.now();
      for (const record of records) {
        found.detach(record);
        this.store.moveToArchive(found, record, now);
      }
      return records.length;
    });
  }

  /** Idempotent: pausing a paused queue changes nothing. */
  pauseQueue(queue: string): Promise<void> {
    return this.store.run('pauseQueue', () => {
      assertQueueName(queue);
      this.store.queue(queue).paused = true;
    });
  }

  /** Idempotent, like `pauseQueue`. */
  unpauseQueue(queue: string): Promise<void> {
    return this.store.run('unpauseQueue', () => {
      assertQueueName(queue);
      this.store.queue(queue).paused = false;
      this.store.wake(queue);
    });
  }

  removeQueue(queue: string, force: boolean): Promise<void> {
    return this.store.run('removeQueue', () => {
      const found = this.store.existing(queue);
      const held = (['pending', 'active', 'scheduled', 'retry', 'archived'] as const).map(
        (state) => found.inState(state).length,
      );
      if (force ? found.active.size > 0 : held.some((count) => count > 0)) {
        throw new QueueNotEmptyError(queue);
      }
      // As Asynq does, completed and grouped tasks and the counters outlive the queue's name.
      for (const state of ['pending', 'scheduled', 'retry', 'archived'] as const) {
        for (const record of found.inState(state)) {
          found.detach(record);
          found.tasks.delete(record.message.id);
        }
      }
      this.store.registered.delete(queue);
    });
  }

  publishCancel(taskId: string): Promise<void> {
    return this.store.run('publishCancel', () => {
      // Delivered after the call returns, as a pub/sub message would be.
      const listeners = [...this.store.cancelListeners];
      queueMicrotask(() => {
        for (const listener of listeners) listener(taskId);
      });
    });
  }

  listServers(): Promise<ServerSnapshot[]> {
    return this.store.run('listServers', () => {
      const now = this.store.clock.now();
      const snapshots: ServerSnapshot[] = [];
      for (const [key, published] of this.store.servers) {
        if (published.expiresAt <= now) {
          this.store.servers.delete(key);
          continue;
        }
        snapshots.push({
          server: structuredClone(published.server),
          workers: published.workers
            .map((worker) => structuredClone(worker))
            .sort((left, right) => left.startedAt - right.startedAt),
          expiresAt: published.expiresAt,
          remainingTtl: published.expiresAt - now,
        });
      }
      return snapshots;
    });
  }

  listSchedulerEntries(): Promise<SchedulerEntrySnapshot[]> {
    return this.store.run('listSchedulerEntries', () => {
      const now = this.store.clock.now();
      const snapshots: SchedulerEntrySnapshot[] = [];
      for (const [key, published] of this.store.schedulers) {
        if (published.expiresAt <= now) {
          this.store.schedulers.delete(key);
          continue;
        }
        for (const entry of published.entries) {
          snapshots.push({ ...structuredClone(entry), scheduler: { ...published.scheduler } });
        }
      }
      return snapshots;
    });
  }

  /** The broker's clock and what it holds; never full, so nothing is ever evicted. */
  storeInfo(): Promise<StoreInfo> {
    return this.store.run('storeInfo', () => {
      let tasks = 0;
      let usedMemory = 0;
      for (const queue of this.store.queues.values()) {
        tasks += queue.tasks.size;
        for (const record of queue.tasks.values()) usedMemory += recordSize(record);
      }
      return {
        time: this.store.clock.now(),
        version: 'memory 1',
        mode: 'in-process',
        evictionPolicy: 'noeviction',
        maxMemory: 0,
        usedMemory,
        details: {
          queues: String(this.store.registered.size),
          tasks: String(tasks),
          servers: String(this.store.servers.size),
        },
      };
    });
  }
}
