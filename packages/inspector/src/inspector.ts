import {
  BrokerError,
  hasFlowControl,
  isTaskState,
  silentLogger,
  taskStates,
  ValidationError,
  type DailyStats,
  type FlowControl,
  type GroupStats,
  type Logger,
  type QueueAdmin,
  type StoreInfo,
  type StoredTask,
  type TaskInfo,
  type TaskState,
} from '@q/core';
import { assertKnownKeys, assertQueueName, toTaskInfo } from '@q/core/internal';
import { diagnose, type DiagnoseOptions } from './diagnose';
import type { Diagnosis } from './diagnosis';
import { toQueueInfo, type QueueInfo } from './queue-info';
import {
  hasQueueLimits,
  toFlowLimitsUpdate,
  toQueueLimitsInfo,
  type QueueLimitsInfo,
  type QueueLimitsInput,
} from './queue-limits';
import {
  toSchedulerEntryInfo,
  toSchedulerEventInfo,
  type SchedulerEntryInfo,
  type SchedulerEventInfo,
} from './scheduler-entry-info';
import { toServerInfo, type ServerInfo } from './server-info';

export interface InspectorOptions {
  /** The store to inspect: any broker with the `QueueAdmin` role, e.g. `createRedisBroker({ url })`. */
  broker: QueueAdmin;
  /** Where the inspector reports what it could not read. @default silentLogger */
  logger?: Logger;
  /** The clock, Unix milliseconds; for tests. @default Date.now */
  now?: () => number;
}

export interface ListOptions {
  /** 1-based page number. @default 1 */
  page?: number;
  /** Tasks per page. @default 30 */
  pageSize?: number;
}

export interface ListTasksOptions extends ListOptions {
  /** The group to list; required for `aggregating` tasks. */
  group?: string;
}

/** A cluster node serving a queue's hash slot (Asynq's `ClusterNode`). */
export interface ClusterNode {
  id: string;
  /** `host:port`. */
  address: string;
}

/** Which states each bulk operation accepts, as in Asynq. */
const bulkStates = {
  delete: ['pending', 'scheduled', 'retry', 'archived', 'completed', 'aggregating'],
  run: ['scheduled', 'retry', 'archived', 'aggregating'],
  archive: ['pending', 'scheduled', 'retry', 'aggregating'],
} as const satisfies Record<string, readonly TaskState[]>;

const defaultPageSize = 30;
const defaultHistoryDays = 10;
const inspectorOptionKeys = ['broker', 'logger', 'now'] as const;

/**
 * Reads and manages queues, tasks, servers and schedulers: every operation of Asynq's `Inspector`, plus
 * `diagnose()`. Works on queues written by Go Asynq and by @q alike. The inspector does not own the
 * broker: close the broker when done.
 */
export class Inspector {
  readonly #broker: QueueAdmin;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(options: InspectorOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('new Inspector(options): options must be an object such as { broker }.');
    }
    assertKnownKeys(options, inspectorOptionKeys, 'inspector option');
    const broker = options.broker as QueueAdmin | undefined;
    if (!broker || typeof broker.listQueues !== 'function' || typeof broker.queueStats !== 'function') {
      throw new ValidationError(
        'new Inspector({ broker }): broker is required and must be able to administer queues; pass createRedisBroker({ url }).',
        [{ path: 'broker', message: 'missing or not a QueueAdmin' }],
      );
    }
    this.#broker = broker;
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  // -------------------------------------------------------------------------------------------------
  // Queues

  /** Every queue name ever enqueued to, sorted. */
  async queues(): Promise<string[]> {
    const names = await this.#broker.listQueues();
    return [...names].sort();
  }

  /**
   * Task counts per state, latency, memory, counters and the paused flag of one queue, and its flow
   * limits when it has any.
   */
  async getQueueInfo(queue: string): Promise<QueueInfo> {
    assertQueueName(queue);
    const broker = this.#broker;
    const [stats, flow] = await Promise.all([
      broker.queueStats(queue, this.#now()),
      hasFlowControl(broker) ? broker.flowState(queue) : undefined,
    ]);
    const info = toQueueInfo(stats);
    if (flow) {
      const limits = toQueueLimitsInfo(flow);
      if (hasQueueLimits(limits)) info.limits = limits;
    }
    return info;
  }

  /**
   * Sets the queue's flow limits, obeyed by every @q server (not by Go Asynq servers) from their next
   * dequeue: `concurrency` tasks running at once, `rate` tasks started per period (`'50/s'`). A limit
   * left out is kept, `null` removes it. Throws `ValidationError` for bad limits, `BrokerError` when the
   * broker has no flow control.
   */
  async setQueueLimits(queue: string, limits: QueueLimitsInput): Promise<QueueLimitsInfo> {
    assertQueueName(queue);
    const update = toFlowLimitsUpdate(limits);
    const broker = this.#flowControl();
    await broker.setFlowLimits(queue, update);
    return toQueueLimitsInfo(await broker.flowState(queue));
  }

  /** Removes every flow limit of the queue, and a pause a handler asked for. */
  async clearQueueLimits(queue: string): Promise<void> {
    assertQueueName(queue);
    await this.#flowControl().clearFlowLimits(queue);
  }

  /** The queue's flow limits and usage (all limits absent when it has none). */
  async getQueueLimits(queue: string): Promise<QueueLimitsInfo> {
    assertQueueName(queue);
    return toQueueLimitsInfo(await this.#flowControl().flowState(queue));
  }

  /** Processed and failed counts per day (UTC), today first. */
  async history(queue: string, days: number = defaultHistoryDays): Promise<DailyStats[]> {
    assertQueueName(queue);
    if (!Number.isSafeInteger(days) || days < 1) {
      throw new ValidationError(
        `history(queue, days): days must be a positive integer, got ${String(days)}.`,
        [{ path: 'days', message: 'not a positive integer' }],
      );
    }
    return this.#broker.dailyStats(queue, days, this.#now());
  }

  /** The groups of a queue that hold aggregating tasks, with their sizes. */
  async groups(queue: string): Promise<GroupStats[]> {
    assertQueueName(queue);
    const groups = await this.#broker.listGroupStats(queue);
    return [...groups].sort((a, b) => a.group.localeCompare(b.group));
  }

  /** Stops servers from taking the queue's pending tasks until `unpauseQueue`. */
  async pauseQueue(queue: string): Promise<void> {
    assertQueueName(queue);
    await this.#broker.pauseQueue(queue);
  }

  async unpauseQueue(queue: string): Promise<void> {
    assertQueueName(queue);
    await this.#broker.unpauseQueue(queue);
  }

  /**
   * Removes the queue. Without `force` it must hold no pending, active, scheduled, retry or archived task
   * (`QueueNotEmptyError`); with `force` its tasks are deleted, but a queue with active tasks is never
   * removed.
   */
  async deleteQueue(queue: string, force = false): Promise<void> {
    assertQueueName(queue);
    await this.#broker.removeQueue(queue, force);
  }

  // -------------------------------------------------------------------------------------------------
  // Tasks

  /** Throws `TaskNotFoundError` or `QueueNotFoundError`. */
  async getTaskInfo(queue: string, taskId: string): Promise<TaskInfo> {
    assertQueueName(queue);
    assertTaskId(taskId);
    return this.#toTaskInfo(await this.#broker.getTask(queue, taskId));
  }

  /**
   * One page of the queue's tasks in `state`: pending and active oldest first, scheduled and retry by
   * due time, archived and completed by time. Aggregating tasks need `group`.
   */
  async listTasks(queue: string, state: TaskState, options: ListTasksOptions = {}): Promise<TaskInfo[]> {
    assertQueueName(queue);
    assertState(state, taskStates, 'list');
    assertKnownKeys(options, ['page', 'pageSize', 'group'], 'list option');
    const page = readPage(options);
    const group = state === 'aggregating' ? requireGroup(options.group, 'list') : undefined;
    const tasks = await this.#broker.listTasks(queue, state, group === undefined ? page : { ...page, group });
    return tasks.map((task) => this.#toTaskInfo(task));
  }

  listPendingTasks(queue: string, options?: ListOptions): Promise<TaskInfo[]> {
    return this.listTasks(queue, 'pending', options);
  }

  /** Active tasks; `isOrphaned` marks those whose lease expired (their worker is presumed dead). */
  listActiveTasks(queue: string, options?: ListOptions): Promise<TaskInfo[]> {
    return this.listTasks(queue, 'active', options);
  }

  listScheduledTasks(queue: string, options?: ListOptions): Promise<TaskInfo[]> {
    return this.listTasks(queue, 'scheduled', options);
  }

  listRetryTasks(queue: string, options?: ListOptions): Promise<TaskInfo[]> {
    return this.listTasks(queue, 'retry', options);
  }

  listArchivedTasks(queue: string, options?: ListOptions): Promise<TaskInfo[]> {
    return this.listTasks(queue, 'archived', options);
  }

  listCompletedTasks(queue: string, options?: ListOptions): Promise<TaskInfo[]> {
    return this.listTasks(queue, 'completed', options);
  }

  listAggregatingTasks(queue: string, group: string, options: ListOptions = {}): Promise<TaskInfo[]> {
    return this.listTasks(queue, 'aggregating', { ...options, group });
  }

  /** Deletes a task in any state but active (cancel it first). Releases its uniqueness lock. */
  async deleteTask(queue: string, taskId: string): Promise<void> {
    assertQueueName(queue);
    assertTaskId(taskId);
    await this.#broker.deleteTask(queue, taskId);
  }

  /** Makes a scheduled, retry, archived, completed or aggregating task pending now. */
  async runTask(queue: string, taskId: string): Promise<void> {
    assertQueueName(queue);
    assertTaskId(taskId);
    await this.#broker.runTask(queue, taskId);
  }

  /** Archives a pending, scheduled, retry, completed or aggregating task. */
  async archiveTask(queue: string, taskId: string): Promise<void> {
    assertQueueName(queue);
    assertTaskId(taskId);
    await this.#broker.archiveTask(queue, taskId);
  }

  /**
   * Asks the server running the task to abort its handler; the task then fails and retries as usual.
   * Resolves once the request is published, whether or not a server runs that task.
   */
  async cancelProcessing(taskId: string): Promise<void> {
    assertTaskId(taskId);
    await this.#broker.publishCancel(taskId);
  }

  /**
   * Deletes every task of the queue in `state` (pending, scheduled, retry, archived, completed, or
   * aggregating with `group`). Returns how many.
   */
  async deleteAllTasks(queue: string, state: TaskState, options: { group?: string } = {}): Promise<number> {
    return this.#bulk('delete', queue, state, options.group);
  }

  /** Makes every scheduled, retry, archived or aggregating (with `group`) task pending. Returns how many. */
  async runAllTasks(queue: string, state: TaskState, options: { group?: string } = {}): Promise<number> {
    return this.#bulk('run', queue, state, options.group);
  }

  /** Archives every pending, scheduled, retry or aggregating (with `group`) task. Returns how many. */
  async archiveAllTasks(queue: string, state: TaskState, options: { group?: string } = {}): Promise<number> {
    return this.#bulk('archive', queue, state, options.group);
  }

  deleteAllPendingTasks(queue: string): Promise<number> {
    return this.deleteAllTasks(queue, 'pending');
  }

  deleteAllScheduledTasks(queue: string): Promise<number> {
    return this.deleteAllTasks(queue, 'scheduled');
  }

  deleteAllRetryTasks(queue: string): Promise<number> {
    return this.deleteAllTasks(queue, 'retry');
  }

  deleteAllArchivedTasks(queue: string): Promise<number> {
    return this.deleteAllTasks(queue, 'archived');
  }

  deleteAllCompletedTasks(queue: string): Promise<number> {
    return this.deleteAllTasks(queue, 'completed');
  }

  deleteAllAggregatingTasks(queue: string, group: string): Promise<number> {
    return this.deleteAllTasks(queue, 'aggregating', { group });
  }

  runAllScheduledTasks(queue: string): Promise<number> {
    return this.runAllTasks(queue, 'scheduled');
  }

  runAllRetryTasks(queue: string): Promise<number> {
    return this.runAllTasks(queue, 'retry');
  }

  runAllArchivedTasks(queue: string): Promise<number> {
    return this.runAllTasks(queue, 'archived');
  }

  runAllAggregatingTasks(queue: string, group: string): Promise<number> {
    return this.runAllTasks(queue, 'aggregating', { group });
  }

  archiveAllPendingTasks(queue: string): Promise<number> {
    return this.archiveAllTasks(queue, 'pending');
  }

  archiveAllScheduledTasks(queue: string): Promise<number> {
    return this.archiveAllTasks(queue, 'scheduled');
  }

  archiveAllRetryTasks(queue: string): Promise<number> {
    return this.archiveAllTasks(queue, 'retry');
  }

  archiveAllAggregatingTasks(queue: string, group: string): Promise<number> {
    return this.archiveAllTasks(queue, 'aggregating', { group });
  }

  // -------------------------------------------------------------------------------------------------
  // Servers, schedulers, store

  /** Live servers, by host and pid, each with the tasks it is running and (for @q) its lifecycle. */
  async servers(): Promise<ServerInfo[]> {
    const snapshots = await this.#broker.listServers();
    return snapshots
      .map(toServerInfo)
      .sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid || a.serverId.localeCompare(b.serverId));
  }

  /** The entries of every live scheduler, by spec. */
  async schedulerEntries(): Promise<SchedulerEntryInfo[]> {
    const entries = await this.#broker.listSchedulerEntries();
    return entries
      .map(toSchedulerEntryInfo)
      .sort((a, b) => a.spec.localeCompare(b.spec) || a.id.localeCompare(b.id));
  }

  /** The enqueues a scheduler entry made, newest first. */
  async listSchedulerEnqueueEvents(
    entryId: string,
    options: ListOptions = {},
  ): Promise<SchedulerEventInfo[]> {
    if (typeof entryId !== 'string' || entryId.trim() === '') {
      throw new ValidationError('entryId must be a scheduler entry id; list them with schedulerEntries().', [
        { path: 'entryId', message: 'blank' },
      ]);
    }
    assertKnownKeys(options, ['page', 'pageSize'], 'list option');
    const events = await this.#broker.schedulerHistory(entryId, readPage(options));
    return events.map(toSchedulerEventInfo);
  }

  /** The Redis Cluster hash slot holding the queue's keys. */
  async clusterKeySlot(queue: string): Promise<number> {
    return (await this.#queueLocation(queue)).partition;
  }

  /** The Redis Cluster nodes serving the queue's hash slot; empty outside a cluster. */
  async clusterNodes(queue: string): Promise<ClusterNode[]> {
    return (await this.#queueLocation(queue)).nodes.map((node) => ({ ...node }));
  }

  /**
   * Facts about the store: its clock, version, mode and eviction policy. Throws a `BrokerError` when the
   * broker cannot tell.
   */
  async storeInfo(): Promise<StoreInfo> {
    const broker = this.#broker;
    if (typeof broker.storeInfo !== 'function') {
      throw new BrokerError(
        'This broker does not report store facts (QueueAdmin.storeInfo is not implemented).',
      );
    }
    return broker.storeInfo();
  }

  // -------------------------------------------------------------------------------------------------
  // Diagnosis

  /**
   * Why aren't my tasks running? Looks at the queue (or every queue), the live servers and the store,
   * and returns findings, each with its evidence and what to do. Never throws for a problem it finds;
   * throws only when the store cannot be read at all.
   */
  async diagnose(queue?: string, options: DiagnoseOptions = {}): Promise<Diagnosis> {
    if (queue !== undefined) assertQueueName(queue);
    return diagnose({ broker: this.#broker, logger: this.#logger, now: this.#now, queue, options });
  }

  // -------------------------------------------------------------------------------------------------

  async #bulk(
    operation: keyof typeof bulkStates,
    queue: string,
    state: TaskState,
    group: string | undefined,
  ): Promise<number> {
    assertQueueName(queue);
    assertState(state, bulkStates[operation], `${operation} all`);
    if (state === 'aggregating') {
      const name = requireGroup(group, `${operation} all`);
      if (operation === 'delete') return this.#broker.deleteAllTasks(queue, state, name);
      if (operation === 'run') return this.#broker.runAllTasks(queue, state, name);
      return this.#broker.archiveAllTasks(queue, state, name);
    }
    if (operation === 'delete') return this.#broker.deleteAllTasks(queue, state);
    if (operation === 'run') return this.#broker.runAllTasks(queue, state);
    return this.#broker.archiveAllTasks(queue, state);
  }

  #flowControl(): QueueAdmin & FlowControl {
    const broker = this.#broker;
    if (!hasFlowControl(broker)) {
      throw new BrokerError(
        'This broker has no flow control (queue limits); use the Redis broker (createRedisBroker) for limits.',
      );
    }
    return broker;
  }

  async #queueLocation(queue: string): Promise<{ partition: number; nodes: ClusterNode[] }> {
    assertQueueName(queue);
    const broker = this.#broker;
    if (typeof broker.queueLocation !== 'function') {
      throw new BrokerError(
        'This broker does not report cluster slots (QueueAdmin.queueLocation is not implemented).',
      );
    }
    return broker.queueLocation(queue);
  }

  #toTaskInfo(task: StoredTask): TaskInfo {
    // As in Asynq: a pending task is due "now" (at inspection time), scheduled and retry tasks at their
    // score, and the other states have no next process time.
    if (task.state === 'pending')
      return toTaskInfo({ ...task, nextProcessAt: task.nextProcessAt ?? this.#now() });
    if (task.state === 'scheduled' || task.state === 'retry') return toTaskInfo(task);
    const { nextProcessAt: _notDue, ...rest } = task;
    return toTaskInfo(rest);
  }
}

function assertTaskId(taskId: unknown): asserts taskId is string {
  if (typeof taskId !== 'string' || taskId.trim() === '') {
    throw new ValidationError(`taskId must be a non-empty string, got ${JSON.stringify(taskId)}.`, [
      { path: 'taskId', message: 'blank' },
    ]);
  }
}

function assertState(
  state: unknown,
  allowed: readonly TaskState[],
  operation: string,
): asserts state is TaskState {
  if (!isTaskState(state) || !allowed.includes(state)) {
    throw new ValidationError(
      `Cannot ${operation} tasks in state ${JSON.stringify(state)}; use one of ${allowed.join(', ')}.`,
      [{ path: 'state', message: 'state not allowed here' }],
    );
  }
}

function requireGroup(group: unknown, operation: string): string {
  if (typeof group !== 'string' || group.trim() === '') {
    throw new ValidationError(
      `To ${operation} aggregating tasks, name their group (options.group); list groups with groups(queue).`,
      [{ path: 'group', message: 'required for aggregating tasks' }],
    );
  }
  return group;
}

function readPage(options: ListOptions): { page: number; pageSize: number } {
  const page = options.page ?? 1;
  const pageSize = options.pageSize ?? defaultPageSize;
  if (!Number.isSafeInteger(page) || page < 1) {
    throw new ValidationError(`page must be a positive integer (pages start at 1), got ${String(page)}.`, [
      { path: 'page', message: 'not a positive integer' },
    ]);
  }
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new ValidationError(`pageSize must be a positive integer, got ${String(pageSize)}.`, [
      { path: 'pageSize', message: 'not a positive integer' },
    ]);
  }
  return { page, pageSize };
}
