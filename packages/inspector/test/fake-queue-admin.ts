/** An in-memory QueueAdmin holding canned answers, for unit tests of the inspector's own logic. */
import {
  QueueNotFoundError,
  TaskNotFoundError,
  type QueueAdmin,
  type QueueStats,
  type ServerSnapshot,
  type ServerState,
  type StoreInfo,
  type StoredTask,
  type TaskState,
  type WorkerState,
} from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';

export const now = Date.UTC(2026, 10, 26, 12, 0, 0);

export function queueStats(queue: string, values: Partial<QueueStats> = {}): QueueStats {
  const stats: QueueStats = {
    queue,
    memoryUsage: 0,
    latency: 0,
    size: 0,
    groups: 0,
    pending: 0,
    active: 0,
    scheduled: 0,
    retry: 0,
    archived: 0,
    completed: 0,
    aggregating: 0,
    processedToday: 0,
    failedToday: 0,
    processedTotal: 0,
    failedTotal: 0,
    paused: false,
    timestamp: now,
    ...values,
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

export function serverSnapshot(
  values: Partial<ServerState> & { serverId: string },
  workers: Partial<WorkerState>[] = [],
  extra: Partial<Omit<ServerSnapshot, 'server' | 'workers'>> = {},
): ServerSnapshot {
  const server: ServerState = {
    host: 'worker-1',
    pid: 100,
    concurrency: 4,
    queues: { default: 1 },
    strictPriority: false,
    status: 'active',
    startedAt: now - 3_600_000,
    activeWorkerCount: workers.length,
    ...values,
  };
  return {
    server,
    workers: workers.map((worker, index) => ({
      host: server.host,
      pid: server.pid,
      serverId: server.serverId,
      taskId: `task-${index}`,
      taskType: 'email:send',
      payload: new Uint8Array(0),
      queue: 'default',
      startedAt: now - 1000,
      deadline: now + 60_000,
      ...worker,
    })),
    expiresAt: now + 8000,
    ...extra,
  };
}

export function storedTask(
  queue: string,
  state: TaskState,
  values: Partial<StoredTask> & { id: string; type?: string; errorMessage?: string },
): StoredTask {
  const message = {
    ...emptyTaskMessage(),
    id: values.id,
    queue,
    type: values.type ?? 'email:send',
    maxRetry: 25,
  };
  if (values.errorMessage) message.errorMessage = values.errorMessage;
  const task: StoredTask = { message, state };
  if (values.nextProcessAt !== undefined) task.nextProcessAt = values.nextProcessAt;
  if (values.isOrphaned !== undefined) task.isOrphaned = values.isOrphaned;
  return task;
}

export class FakeQueueAdmin implements QueueAdmin {
  stats = new Map<string, QueueStats>();
  servers: ServerSnapshot[] = [];
  tasks: StoredTask[] = [];
  store: StoreInfo | undefined = {
    time: now,
    version: 'redis 7.0.15',
    mode: 'standalone',
    evictionPolicy: 'noeviction',
    maxMemory: 0,
    usedMemory: 1_000_000,
    details: {},
  };
  calls: string[] = [];
  storeInfo?: () => Promise<StoreInfo> = () => {
    if (!this.store) return Promise.reject(new Error('no store'));
    return Promise.resolve(this.store);
  };

  addQueue(stats: QueueStats): this {
    this.stats.set(stats.queue, stats);
    return this;
  }

  #stats(queue: string): QueueStats {
    const stats = this.stats.get(queue);
    if (!stats) throw new QueueNotFoundError(queue);
    return stats;
  }

  listQueues = (): Promise<string[]> => Promise.resolve([...this.stats.keys()]);
  queueStats = (queue: string): Promise<QueueStats> => Promise.resolve().then(() => this.#stats(queue));
  dailyStats = (
    queue: string,
    days: number,
  ): Promise<{ queue: string; date: string; processed: number; failed: number }[]> =>
    Promise.resolve(
      Array.from({ length: days }, (_, index) => ({
        queue,
        date: `day-${index}`,
        processed: index,
        failed: 0,
      })),
    );
  listGroupStats = (): Promise<{ group: string; size: number }[]> =>
    Promise.resolve([
      { group: 'b', size: 1 },
      { group: 'a', size: 2 },
    ]);
  listTasks = (
    queue: string,
    state: TaskState,
    page: { page?: number; pageSize?: number; group?: string },
  ): Promise<StoredTask[]> => {
    this.calls.push(
      `listTasks ${queue} ${state} ${page.page} ${page.pageSize}${page.group ? ` ${page.group}` : ''}`,
    );
    const size = page.pageSize ?? 30;
    const start = ((page.page ?? 1) - 1) * size;
    return Promise.resolve(
      this.tasks
        .filter((task) => task.message.queue === queue && task.state === state)
        .slice(start, start + size),
    );
  };
  getTask = (queue: string, taskId: string): Promise<StoredTask> => {
    const task = this.tasks.find(
      (candidate) => candidate.message.queue === queue && candidate.message.id === taskId,
    );
    return task ? Promise.resolve(task) : Promise.reject(new TaskNotFoundError(queue, taskId));
  };
  #record = (call: string): Promise<void> => {
    this.calls.push(call);
    return Promise.resolve();
  };
  deleteTask = (queue: string, taskId: string): Promise<void> =>
    this.#record(`deleteTask ${queue} ${taskId}`);
  runTask = (queue: string, taskId: string): Promise<void> => this.#record(`runTask ${queue} ${taskId}`);
  archiveTask = (queue: string, taskId: string): Promise<void> =>
    this.#record(`archiveTask ${queue} ${taskId}`);
  deleteAllTasks = (queue: string, state: TaskState, group?: string): Promise<number> =>
    this.#record(`deleteAll ${queue} ${state}${group ? ` ${group}` : ''}`).then(() => 3);
  runAllTasks = (queue: string, state: TaskState, group?: string): Promise<number> =>
    this.#record(`runAll ${queue} ${state}${group ? ` ${group}` : ''}`).then(() => 2);
  archiveAllTasks = (queue: string, state: TaskState, group?: string): Promise<number> =>
    this.#record(`archiveAll ${queue} ${state}${group ? ` ${group}` : ''}`).then(() => 1);
  pauseQueue = (queue: string): Promise<void> => this.#record(`pause ${queue}`);
  unpauseQueue = (queue: string): Promise<void> => this.#record(`unpause ${queue}`);
  removeQueue = (queue: string, force: boolean): Promise<void> => this.#record(`remove ${queue} ${force}`);
  publishCancel = (taskId: string): Promise<void> => this.#record(`cancel ${taskId}`);
  listServers = (): Promise<ServerSnapshot[]> => Promise.resolve(this.servers);
  listSchedulerEntries = (): Promise<[]> => Promise.resolve([]);
  schedulerHistory = (): Promise<[]> => Promise.resolve([]);
}
