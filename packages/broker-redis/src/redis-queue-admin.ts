/** `QueueAdmin` on Redis: Asynq's inspector operations (hibiken/asynq's internal/rdb package). */
import {
  BrokerError,
  QueueNotEmptyError,
  QueueNotFoundError,
  TaskNotFoundError,
  TaskStateError,
  ValidationError,
  isTaskState,
  type DailyStats,
  type GroupStats,
  type ListableState,
  type Page,
  type QueueAdmin,
  type QueueStats,
  type SchedulerEnqueueEvent,
  type SchedulerEntrySnapshot,
  type ServerSnapshot,
  type StoredTask,
  type WorkerState,
} from '@q/core';
import {
  archiveRetentionMilliseconds,
  maxArchiveSize,
  memoryGroupSampleSize,
  memoryTaskSampleSize,
} from './asynq-constants';
import type { RedisBrokerContext } from './redis-broker-context';
import { RedisKeys, type QueueKeys } from './redis-keys';
import { replyArray, replyBytes, replyNumber, replyText, replyTuples } from './redis-reply';
import { runScript, runScriptBuffer } from './redis-scripts';
import { decodeSchedulerEnqueueEvent, decodeSchedulerEntry } from './scheduler-entry-codec';
import { decodeServerInfo, decodeWorkerInfo } from './server-state-codec';
import { decodeTaskMessage } from './task-message-codec';
import { dayMilliseconds, fromUnixNanoseconds, toUnixSeconds, toUtcDate } from './unix-time';

const defaultPageSize = 30;

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(message, [{ path, message }]);
}

/** Zero-based rank range of a 1-based page. */
function pageRange(page: Page): { start: number; stop: number } {
  const number = page.page ?? 1;
  const size = page.pageSize ?? defaultPageSize;
  if (!Number.isInteger(number) || number < 1) {
    throw invalid('page.page', `page must be a whole number from 1, got ${String(number)}.`);
  }
  if (!Number.isInteger(size) || size < 1) {
    throw invalid('page.pageSize', `pageSize must be a whole number from 1, got ${String(size)}.`);
  }
  const start = (number - 1) * size;
  return { start, stop: start + size - 1 };
}

function assertState(state: unknown): asserts state is ListableState {
  if (!isTaskState(state)) {
    throw invalid(
      'state',
      `${JSON.stringify(state)} is not a task state; use pending, active, scheduled, retry, archived, completed or aggregating.`,
    );
  }
}

function requireGroup(group: string | undefined): string {
  if (!group)
    throw invalid('group', 'Tasks in the aggregating state belong to a group; pass the group name.');
  return group;
}

export class RedisQueueAdmin implements QueueAdmin {
  constructor(private readonly context: RedisBrokerContext) {}

  private get connection() {
    return this.context.connection;
  }

  async listQueues(): Promise<string[]> {
    return (await this.connection.smembers(this.context.keys.queues)).sort();
  }

  async queueStats(queue: string, now: number): Promise<QueueStats> {
    const keys = await this.existingQueue(queue);
    const [statsReply, memoryReply] = await Promise.all([
      runScript(this.connection, {
        script: 'current-stats',
        keys: [
          keys.pending,
          keys.active,
          keys.scheduled,
          keys.retry,
          keys.archived,
          keys.completed,
          keys.processed(now),
          keys.failed(now),
          keys.processedTotal,
          keys.failedTotal,
          keys.paused,
          keys.groups,
          keys.flowParked,
        ],
        args: [keys.taskPrefix, keys.groupPrefix, keys.flowKeyPrefix],
      }),
      runScript(this.connection, {
        script: 'memory-usage',
        keys: [
          keys.active,
          keys.pending,
          keys.scheduled,
          keys.retry,
          keys.archived,
          keys.completed,
          keys.groups,
        ],
        args: [keys.taskPrefix, memoryTaskSampleSize, memoryGroupSampleSize, keys.groupPrefix],
      }),
    ]);
    const figures = new Map<string, unknown>();
    for (const [name, value] of replyTuples(statsReply, 2)) figures.set(replyText(name), value);
    const count = (name: string): number => replyNumber(figures.get(name) ?? 0);
    const oldestPendingSince = fromUnixNanoseconds(replyText(figures.get('oldest_pending_since') ?? '0'));
    const stats: QueueStats = {
      queue,
      memoryUsage: replyNumber(memoryReply),
      latency: oldestPendingSince > 0 ? Math.max(0, now - oldestPendingSince) : 0,
      size: 0,
      groups: count('group_size'),
      pending: count('pending'),
      active: count('active'),
      scheduled: count('scheduled'),
      retry: count('retry'),
      archived: count('archived'),
      completed: count('completed'),
      aggregating: count('aggregating_count'),
      processedToday: count('processed'),
      failedToday: count('failed'),
      processedTotal: count('processed_total'),
      failedTotal: count('failed_total'),
      paused: count('paused') === 1,
      timestamp: now,
    };
    stats.size =
      stats.pending +
      stats.active +
      stats.scheduled +
      stats.retry +
      stats.archived +
      stats.completed +
      stats.aggregating;
    return stats;
  }

  async dailyStats(queue: string, days: number, now: number): Promise<DailyStats[]> {
    if (!Number.isInteger(days) || days < 1) {
      throw invalid('days', `days must be a whole number from 1, got ${String(days)}.`);
    }
    const keys = await this.existingQueue(queue);
    const times = Array.from({ length: days }, (_, index) => now - index * dayMilliseconds);
    const counts = replyArray(
      await runScript(this.connection, {
        script: 'historical-stats',
        keys: times.flatMap((time) => [keys.processed(time), keys.failed(time)]),
        args: [],
      }),
    ).map(replyNumber);
    return times.map((time, index) => ({
      queue,
      date: toUtcDate(time),
      processed: counts[index * 2] ?? 0,
      failed: counts[index * 2 + 1] ?? 0,
    }));
  }

  async listGroupStats(queue: string): Promise<GroupStats[]> {
    const keys = this.context.keys.queue(queue);
    const reply = await runScript(this.connection, {
      script: 'group-stats',
      keys: [keys.groups],
      args: [keys.groupPrefix],
    });
    return replyTuples(reply, 2)
      .map(([group, size]) => ({ group: replyText(group), size: replyNumber(size) }))
      .sort((left, right) => left.group.localeCompare(right.group));
  }

  async listTasks(
    queue: string,
    state: ListableState,
    page: Page & { group?: string },
  ): Promise<StoredTask[]> {
    assertState(state);
    const range = pageRange(page);
    const keys = await this.existingQueue(queue);
    const now = this.context.now();
    if (state === 'pending' || state === 'active') {
      const reply = await runScriptBuffer(this.connection, {
        script: 'list-messages',
        keys: state === 'pending' ? [keys.pending, keys.lease, keys.flowParked] : [keys.active, keys.lease],
        args:
          state === 'pending'
            ? [-range.stop - 1, -range.start - 1, keys.taskPrefix, keys.flowKeyPrefix]
            : [-range.stop - 1, -range.start - 1, keys.taskPrefix],
      });
      const tasks: StoredTask[] = [];
      // The list's oldest task is at its right end; the script answers from left to right.
      for (const [id, msg, result, lease] of replyTuples(reply, 4).reverse()) {
        const task = this.storedTask(queue, { id, msg, result }, state);
        if (!task) continue;
        if (state === 'pending') task.nextProcessAt = now;
        else task.isOrphaned = isOrphaned(replyText(lease), now);
        tasks.push(task);
      }
      return tasks;
    }
    const source = state === 'aggregating' ? keys.group(requireGroup(page.group)) : keys[state];
    const reply = await runScriptBuffer(this.connection, {
      script: 'list-zset-entries',
      keys: [source],
      args: [range.start, range.stop, keys.taskPrefix],
    });
    const tasks: StoredTask[] = [];
    for (const [id, msg, score, result] of replyTuples(reply, 4)) {
      const task = this.storedTask(queue, { id, msg, result }, state);
      if (!task) continue;
      if (state === 'scheduled' || state === 'retry') task.nextProcessAt = replyNumber(score) * 1000;
      tasks.push(task);
    }
    return tasks;
  }

  async getTask(queue: string, taskId: string): Promise<StoredTask> {
    const keys = await this.existingQueue(queue);
    const now = this.context.now();
    const reply = await runScriptBuffer(this.connection, {
      script: 'get-task-info',
      keys: [keys.task(taskId), keys.lease],
      args: [taskId, keys.queuePrefix],
    });
    if (reply === null || reply === undefined) throw new TaskNotFoundError(queue, taskId);
    const [msg, stateReply, score, result, lease] = replyArray(reply);
    const state = replyText(stateReply);
    if (!isTaskState(state)) {
      throw new BrokerError(`Task "${taskId}" in queue "${queue}" has the unknown state "${state}".`);
    }
    const task = this.storedTask(queue, { id: taskId, msg, result }, state);
    if (!task) {
      throw new BrokerError(
        `Task "${taskId}" in queue "${queue}" has an unreadable record; delete it or archive it to keep its bytes.`,
      );
    }
    if (state === 'pending') task.nextProcessAt = now;
    if (state === 'scheduled' || state === 'retry') task.nextProcessAt = replyNumber(score) * 1000;
    if (state === 'active') task.isOrphaned = isOrphaned(replyText(lease), now);
    return task;
  }

  async deleteTask(queue: string, taskId: string): Promise<void> {
    const keys = await this.existingQueue(queue);
    const code = replyNumber(
      await runScript(this.connection, {
        script: 'delete-task',
        keys: [keys.task(taskId), keys.groups],
        args: [taskId, keys.queuePrefix, keys.groupPrefix],
      }),
    );
    if (code === 0) throw new TaskNotFoundError(queue, taskId);
    if (code === -1) {
      throw new TaskStateError(
        `Task "${taskId}" in queue "${queue}" is running and cannot be deleted; cancel it first (publishCancel).`,
      );
    }
  }

  async runTask(queue: string, taskId: string): Promise<void> {
    const keys = await this.existingQueue(queue);
    const code = replyNumber(
      await runScript(this.connection, {
        script: 'run-task',
        keys: [keys.task(taskId), keys.pending, keys.groups],
        args: [taskId, keys.queuePrefix, keys.groupPrefix, keys.notify, keys.queue],
      }),
    );
    if (code === 0) throw new TaskNotFoundError(queue, taskId);
    if (code === -1) throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already running.`);
    if (code === -2) throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already pending.`);
  }

  async archiveTask(queue: string, taskId: string): Promise<void> {
    const keys = await this.existingQueue(queue);
    const now = this.context.now();
    const code = replyNumber(
      await runScript(this.connection, {
        script: 'archive-task',
        keys: [keys.task(taskId), keys.archived, keys.groups],
        args: [
          taskId,
          toUnixSeconds(now),
          toUnixSeconds(now - archiveRetentionMilliseconds),
          maxArchiveSize,
          keys.queuePrefix,
          keys.groupPrefix,
          keys.taskPrefix,
        ],
      }),
    );
    if (code === 0) throw new TaskNotFoundError(queue, taskId);
    if (code === -1) throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already archived.`);
    if (code === -2) {
      throw new TaskStateError(
        `Task "${taskId}" in queue "${queue}" is running and cannot be archived; cancel it first (publishCancel).`,
      );
    }
  }

  async deleteAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    assertState(state);
    const keys = await this.existingQueue(queue);
    if (state === 'active') {
      throw new TaskStateError('Running tasks cannot be deleted; cancel them first (publishCancel).');
    }
    let reply: unknown;
    if (state === 'pending') {
      reply = await runScript(this.connection, {
        script: 'delete-all-pending',
        keys: [keys.pending, keys.flowParked],
        args: [keys.taskPrefix, keys.flowKeyPrefix],
      });
    } else if (state === 'aggregating') {
      const name = requireGroup(group);
      reply = await runScript(this.connection, {
        script: 'delete-all-aggregating',
        keys: [keys.group(name), keys.groups],
        args: [keys.taskPrefix, name],
      });
    } else {
      reply = await runScript(this.connection, {
        script: 'delete-all',
        keys: [keys[state]],
        args: [keys.taskPrefix],
      });
    }
    return replyNumber(reply);
  }

  async runAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    assertState(state);
    const keys = await this.existingQueue(queue);
    if (state === 'pending' || state === 'active') {
      throw new TaskStateError(
        `Tasks in the ${state} state cannot be run; they are already waiting or running.`,
      );
    }
    if (state === 'aggregating') {
      const name = requireGroup(group);
      return replyNumber(
        await runScript(this.connection, {
          script: 'run-all-aggregating',
          keys: [keys.group(name), keys.pending, keys.groups],
          args: [keys.taskPrefix, name, keys.notify, keys.queue],
        }),
      );
    }
    return replyNumber(
      await runScript(this.connection, {
        script: 'run-all',
        keys: [keys[state], keys.pending],
        args: [keys.taskPrefix, keys.notify, keys.queue],
      }),
    );
  }

  async archiveAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    assertState(state);
    const keys = await this.existingQueue(queue);
    if (state === 'active' || state === 'archived' || state === 'completed') {
      throw new TaskStateError(
        `Tasks in the ${state} state cannot be archived; archive pending, scheduled, retry or aggregating tasks.`,
      );
    }
    const now = this.context.now();
    const trim = [toUnixSeconds(now), toUnixSeconds(now - archiveRetentionMilliseconds), maxArchiveSize];
    if (state === 'pending') {
      return replyNumber(
        await runScript(this.connection, {
          script: 'archive-all-pending',
          keys: [keys.pending, keys.archived, keys.flowParked],
          args: [...trim, keys.taskPrefix, keys.flowKeyPrefix],
        }),
      );
    }
    const name = state === 'aggregating' ? requireGroup(group) : '';
    return replyNumber(
      await runScript(this.connection, {
        script: 'archive-all',
        keys: [state === 'aggregating' ? keys.group(name) : keys[state], keys.archived, keys.groups],
        args: [...trim, keys.taskPrefix, name],
      }),
    );
  }

  /** Idempotent: pausing a paused queue changes nothing (Go's Asynq reports an error instead). */
  async pauseQueue(queue: string): Promise<void> {
    const keys = this.context.keys.queue(queue);
    await runScript(this.connection, {
      script: 'pause',
      keys: [keys.paused],
      args: [toUnixSeconds(this.context.now())],
    });
  }

  /** Idempotent, like `pauseQueue`. */
  async unpauseQueue(queue: string): Promise<void> {
    const keys = this.context.keys.queue(queue);
    await runScript(this.connection, {
      script: 'unpause',
      keys: [keys.paused],
      args: [keys.notify, keys.queue],
    });
  }

  async removeQueue(queue: string, force: boolean): Promise<void> {
    const keys = await this.existingQueue(queue);
    const code = replyNumber(
      await runScript(this.connection, {
        script: 'remove-queue',
        keys: [
          keys.pending,
          keys.active,
          keys.scheduled,
          keys.retry,
          keys.archived,
          keys.lease,
          keys.flowParked,
        ],
        args: [keys.taskPrefix, force ? 1 : 0, keys.flowKeyPrefix],
      }),
    );
    if (code !== 1) throw new QueueNotEmptyError(queue);
    await this.connection.srem(this.context.keys.queues, queue);
    this.context.queueRegistry.forget(queue);
  }

  async publishCancel(taskId: string): Promise<void> {
    await this.connection.publish(this.context.keys.cancel, taskId);
  }

  async listServers(): Promise<ServerSnapshot[]> {
    const { keys } = this.context;
    const [serverKeys, workerKeys] = await Promise.all([
      this.liveKeys(keys.servers),
      this.liveKeys(keys.workers),
    ]);
    const workersByServer = new Map<string, WorkerState[]>();
    await Promise.all(
      workerKeys.map(async ({ key }) => {
        const values = await this.connection.hvalsBuffer(key);
        for (const value of values) {
          const worker = this.decodeOrLog(() => decodeWorkerInfo(value), key);
          if (!worker) continue;
          const list = workersByServer.get(worker.serverId) ?? [];
          list.push(worker);
          workersByServer.set(worker.serverId, list);
        }
      }),
    );
    const snapshots = await Promise.all(
      serverKeys.map(async ({ key, expiresAt }): Promise<ServerSnapshot | undefined> => {
        // The key's TTL by the Redis clock, beside expiresAt by the server's: the inspector compares them.
        const [bytes, remainingTtl] = await Promise.all([
          this.connection.getBuffer(key),
          this.connection.pttl(key),
        ]);
        if (!bytes) return undefined;
        const server = this.decodeOrLog(() => decodeServerInfo(bytes), key);
        if (!server) return undefined;
        const workers = (workersByServer.get(server.serverId) ?? []).sort(
          (left, right) => left.startedAt - right.startedAt,
        );
        return { server, workers, expiresAt, ...(remainingTtl > 0 ? { remainingTtl } : {}) };
      }),
    );
    return snapshots.filter((snapshot): snapshot is ServerSnapshot => snapshot !== undefined);
  }

  async listSchedulerEntries(): Promise<SchedulerEntrySnapshot[]> {
    const schedulerKeys = await this.liveKeys(this.context.keys.schedulers);
    const perScheduler = await Promise.all(
      schedulerKeys.map(async ({ key }) => {
        const identity = RedisKeys.parseIdentity(key);
        const scheduler = { host: identity.host, pid: identity.pid, schedulerId: identity.id };
        // Entries are LPUSHed: the list holds them newest registration first.
        const values = (await this.connection.lrangeBuffer(key, 0, -1)).reverse();
        return values.flatMap((value) => {
          const entry = this.decodeOrLog(() => decodeSchedulerEntry(value), key);
          return entry ? [{ ...entry, scheduler }] : [];
        });
      }),
    );
    return perScheduler.flat();
  }

  async schedulerHistory(entryId: string, page: Page): Promise<SchedulerEnqueueEvent[]> {
    const range = pageRange(page);
    const members = await this.connection.zrevrangeBuffer(
      this.context.keys.schedulerHistory(entryId),
      range.start,
      range.stop,
    );
    return members.flatMap((member) => {
      const event = this.decodeOrLog(() => decodeSchedulerEnqueueEvent(member), entryId);
      return event ? [event] : [];
    });
  }

  private async existingQueue(queue: string): Promise<QueueKeys> {
    if ((await this.connection.sismember(this.context.keys.queues, queue)) !== 1) {
      throw new QueueNotFoundError(queue);
    }
    return this.context.keys.queue(queue);
  }

  /** Members of P:servers, P:workers or P:schedulers that have not expired (expired ones are pruned). */
  private async liveKeys(registry: string): Promise<{ key: string; expiresAt: number }[]> {
    const reply = await runScript(this.connection, {
      script: 'list-server-keys',
      keys: [registry],
      args: [toUnixSeconds(this.context.now())],
    });
    return replyTuples(reply, 2).map(([key, score]) => ({
      key: replyText(key),
      expiresAt: replyNumber(score) * 1000,
    }));
  }

  private storedTask(
    queue: string,
    record: { id: unknown; msg: unknown; result: unknown },
    state: ListableState,
  ): StoredTask | undefined {
    const bytes = replyBytes(record.msg);
    const taskId = replyText(record.id);
    const message = bytes
      ? this.decodeOrLog(() => decodeTaskMessage(bytes), `${queue}/${taskId}`)
      : undefined;
    if (!message) return undefined;
    const task: StoredTask = { message, state };
    const result = replyBytes(record.result);
    if (result && result.length > 0) task.result = new Uint8Array(result);
    return task;
  }

  private decodeOrLog<Value>(decode: () => Value, where: string): Value | undefined {
    try {
      return decode();
    } catch (error) {
      this.context.logger.warn(
        { record: where, error: (error as Error).message },
        'Skipped an unreadable record',
      );
      return undefined;
    }
  }
}

/** An active task is orphaned when its lease has ended or it has none (its worker is presumed dead). */
function isOrphaned(leaseSeconds: string, now: number): boolean {
  if (leaseSeconds === '') return true;
  return Number(leaseSeconds) * 1000 <= now;
}
