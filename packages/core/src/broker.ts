/**
 * The broker contract, split by role so that each component asks only for what it uses: a client needs a
 * `TaskProducer`, a server a `TaskConsumer` (plus a `GroupStore` when it aggregates groups), a scheduler
 * a `SchedulerStore`, an inspector a `QueueAdmin`. `Broker` is all of them and says which version of
 * this contract it implements (`contractVersion`). Times are Unix milliseconds and durations milliseconds
 * unless a name says otherwise. A broker for another store passes the same conformance suite
 * (`testBroker()` in `@q/broker-conformance`); `docs/writing-a-broker.md` walks through writing one.
 */
import type { QError } from './errors';
import type { StoredTask } from './task-info';
import type { TaskMessage } from './task-message';
import type { TaskState } from './task-state';

// ---------------------------------------------------------------------------------------------------
// Producing

export interface EnqueueRequest {
  /** The task; `uniqueKey` is filled in by the broker when `uniqueTtl` is set. */
  message: TaskMessage;
  /** When the task is due. In the future: the task is scheduled. Absent or past: it is pending now. */
  processAt?: number;
  /** Take a uniqueness lock on (queue, type, payload) for this long (from `processAt` when scheduled). */
  uniqueTtl?: number;
}

export interface EnqueueResult {
  /** The message as stored. */
  message: TaskMessage;
  state: TaskState;
  /** When the task is due (now for pending tasks); absent for aggregating tasks. */
  nextProcessAt?: number;
}

export type EnqueueManyResult = { ok: true; result: EnqueueResult } | { ok: false; error: QError };

export interface EnqueueManyOptions {
  /**
   * All or nothing: when one task is refused (duplicate, id conflict), none is written and every result
   * carries an error: the first refused task its own (`DuplicateTaskError`, `TaskIdConflictError`), every
   * other task a `BatchAbortedError` naming that one as `requests[N]`. Every task must be in the same queue.
   * @default false
   */
  atomic?: boolean;
}

/** What a client needs. */
export interface TaskProducer {
  /** Throws `DuplicateTaskError` or `TaskIdConflictError` when refused. */
  enqueue(request: EnqueueRequest): Promise<EnqueueResult>;
  /** One round trip per batch. Results are in the order of `requests`. */
  enqueueMany(
    requests: readonly EnqueueRequest[],
    options?: EnqueueManyOptions,
  ): Promise<EnqueueManyResult[]>;
}

// ---------------------------------------------------------------------------------------------------
// Consuming

export interface LeasedTask {
  message: TaskMessage;
  /** When the lease ends unless extended. */
  leaseExpiresAt: number;
  /**
   * Names this lease among every lease the task will ever have (absent from brokers that do not fence).
   * Pass it back with each outcome (`LeaseFence.token`): once the task was recovered and taken again, a
   * write from the worker that lost this lease is refused even though the task is leased again.
   */
  leaseToken?: string;
}

/**
 * Which lease an outcome write must still hold. Without a fence the broker only checks that the task is
 * leased at all, which a task recovered and taken again by another worker also is.
 */
export interface LeaseFence {
  /** The `leaseToken` the dequeue returned: refused unless the task's current lease is this one. */
  token?: string;
  /**
   * For the recoverer: refused unless the lease ended at or before this time (Unix ms), so that a task
   * taken again after another server recovered it is not recovered a second time.
   */
  expiredBy?: number;
}

/** A record the broker could not decode; it has already been archived with `reason` when possible. */
export interface MalformedRecord {
  queue: string;
  taskId: string;
  reason: string;
}

export interface DequeueOptions {
  /** How many tasks to take at most (the free slots). */
  count: number;
  /** Lease length for every task taken. */
  leaseDuration: number;
}

export interface DequeueResult {
  tasks: LeasedTask[];
  malformed: MalformedRecord[];
}

export interface RetryOptions {
  /** When the task becomes due again. */
  processAt: number;
  errorMessage: string;
  /** When false, the attempt does not count as a failure: `retried` and the failed counters stay. */
  isFailure: boolean;
  /** The lease the write must still hold. */
  fence?: LeaseFence;
}

export interface LeaseExtension {
  /** The new lease end for the tasks still held. */
  leaseExpiresAt: number;
  /** Ids whose lease was no longer held by this worker: the server must stop acting on them. */
  lost: string[];
}

export interface AggregationCheckOptions {
  /** The id to give a new aggregation set. */
  setId: string;
  maxSize: number;
  maxDelay: number;
  gracePeriod: number;
  now: number;
}

export interface AggregationSet {
  messages: TaskMessage[];
}

/** A server as published for inspection (Asynq's ServerInfo plus @q's lifecycle details). */
export interface ServerState {
  host: string;
  pid: number;
  serverId: string;
  concurrency: number;
  queues: Record<string, number>;
  strictPriority: boolean;
  /** Asynq's status words: `active`, `stopped` (quiet), `closed`. */
  status: string;
  startedAt: number;
  activeWorkerCount: number;
  /** @q's extension; absent for servers written by Go Asynq. */
  lifecycle?: ServerLifecycle;
}

export interface ServerLifecycle {
  /** `running`, `quiet`, `draining`, `forced`, `closed`. */
  state: string;
  /** When `state` began. */
  stateSince: number;
  /** The last signal the process received, e.g. `SIGTERM`. */
  lastSignal?: string;
  lastSignalAt?: number;
  /** The last time the fetch loop ran. */
  lastFetchAt?: number;
  /** Tasks whose handler overran its timeout and has not settled. */
  overdueTaskIds?: string[];
  /** Whether the broker is reachable from the server, as the server last saw it. */
  brokerReachable?: boolean;
  version?: string;
}

/** A task a server is running, as published for inspection (Asynq's WorkerInfo). */
export interface WorkerState {
  host: string;
  pid: number;
  serverId: string;
  taskId: string;
  taskType: string;
  payload: Uint8Array;
  queue: string;
  startedAt: number;
  /** When the handler's time runs out. */
  deadline: number;
}

/** What a server needs. */
export interface TaskConsumer {
  /**
   * Moves up to `count` tasks from pending to active, trying `queues` in the given order and skipping
   * paused ones. Malformed records are archived and reported, never thrown.
   */
  dequeue(queues: readonly string[], options: DequeueOptions): Promise<DequeueResult>;
  /**
   * Resolves `true` as soon as a producer signals new work on one of `queues`, or `false` after `timeout`
   * (producers that do not signal, such as Go Asynq, are found by the next dequeue).
   */
  waitForTasks(queues: readonly string[], timeout: number, signal?: AbortSignal): Promise<boolean>;
  // The outcome writes below throw `LeaseLostError` when the task is not leased, or not by `fence`.

  /** Success without retention, and revocation: deletes the task and counts it processed. */
  done(message: TaskMessage, fence?: LeaseFence): Promise<void>;
  /** Success with retention: keeps the task as completed until `completedAt + retention`. */
  markComplete(message: TaskMessage, completedAt: number, fence?: LeaseFence): Promise<void>;
  /** Puts an unfinished active task back at the head of pending without spending a retry. */
  requeue(message: TaskMessage, fence?: LeaseFence): Promise<void>;
  retry(message: TaskMessage, options: RetryOptions): Promise<void>;
  /** Archives the task with `errorMessage` as its last error, counting it processed and failed. */
  archive(message: TaskMessage, errorMessage: string, fence?: LeaseFence): Promise<void>;
  /**
   * Extends the leases of `taskIds`; with `leaseTokens` (task id -> token), only those still held under
   * that token. The others are reported lost.
   */
  extendLeases(
    queue: string,
    taskIds: readonly string[],
    leaseDuration: number,
    leaseTokens?: ReadonlyMap<string, string>,
  ): Promise<LeaseExtension>;
  writeResult(queue: string, taskId: string, result: Uint8Array): Promise<void>;
  /**
   * Active tasks whose lease ended before `cutoff`, and active tasks with no lease at all (left by a
   * crash), for the recoverer to retry or archive.
   */
  listLeaseExpired(queues: readonly string[], cutoff: number): Promise<TaskMessage[]>;
  /**
   * Moves due scheduled and retry tasks to pending, or back to their group when they were in one (a
   * grouped task run by hand and retried); a task scheduled with a group does not join it, as in Asynq.
   * Returns how many moved.
   */
  forward(queues: readonly string[], now: number): Promise<number>;
  /** Deletes completed tasks whose retention ended before `now`, at most `batchSize`. */
  deleteExpiredCompleted(queue: string, now: number, batchSize: number): Promise<number>;
  writeServerState(server: ServerState, workers: readonly WorkerState[], ttl: number): Promise<void>;
  clearServerState(server: Pick<ServerState, 'host' | 'pid' | 'serverId'>): Promise<void>;
  /** Calls `listener` with the id of every task whose cancellation is requested. Returns an unsubscribe. */
  subscribeCancel(listener: (taskId: string) => void): Promise<() => Promise<void>>;
}

/**
 * What a server needs besides a `TaskConsumer` when it aggregates groups (its `groupAggregator` option):
 * grouped tasks wait in their group until the group is full, old or quiet enough, then move together into
 * an aggregation set that the server reads, turns into one task and deletes.
 */
export interface GroupStore {
  /** The names of the queue's groups that hold aggregating tasks, sorted. */
  listGroups(queue: string): Promise<string[]>;
  /**
   * Moves the group's tasks into a new aggregation set named `options.setId` when the group holds
   * `maxSize` tasks, its oldest task waited `maxDelay`, or its newest task is older than `gracePeriod`.
   * Returns the set's id when one was created, else undefined.
   */
  aggregationCheck(
    queue: string,
    group: string,
    options: AggregationCheckOptions,
  ): Promise<string | undefined>;
  readAggregationSet(queue: string, group: string, setId: string): Promise<AggregationSet>;
  /** Deletes the set and its tasks, once the aggregated task was enqueued. */
  deleteAggregationSet(queue: string, group: string, setId: string): Promise<void>;
  /** Returns to their group the tasks of sets not deleted within two minutes (their aggregator died). */
  reclaimStaleAggregationSets(queue: string, now: number): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Scheduling

export interface SchedulerEntryState {
  id: string;
  spec: string;
  taskType: string;
  payload: Uint8Array;
  /** Asynq's option strings, e.g. `Queue("low")`, `MaxRetry(3)`, `Timeout(1m0s)`. */
  enqueueOptions: string[];
  nextEnqueueAt: number;
  /** 0 when never enqueued. */
  previousEnqueueAt: number;
}

export interface SchedulerIdentity {
  host: string;
  pid: number;
  schedulerId: string;
}

export interface SchedulerEnqueueEvent {
  taskId: string;
  enqueuedAt: number;
}

/** What a scheduler needs besides a `TaskProducer`. */
export interface SchedulerStore {
  writeSchedulerEntries(
    scheduler: SchedulerIdentity,
    entries: readonly SchedulerEntryState[],
    ttl: number,
  ): Promise<void>;
  clearSchedulerEntries(scheduler: SchedulerIdentity): Promise<void>;
  recordSchedulerEnqueue(entryId: string, event: SchedulerEnqueueEvent): Promise<void>;
  /** The entry's enqueue events, newest first: a scheduler reads them to skip ticks another copy did. */
  schedulerHistory(entryId: string, page: Page): Promise<SchedulerEnqueueEvent[]>;
}

// ---------------------------------------------------------------------------------------------------
// Inspecting and administering

export interface QueueStats {
  queue: string;
  /** Bytes used by the queue's keys (sampled for large queues). */
  memoryUsage: number;
  /** Milliseconds the oldest pending task has waited; 0 when none. */
  latency: number;
  /** Tasks in every state, aggregating included. */
  size: number;
  /** Groups holding aggregating tasks. */
  groups: number;
  pending: number;
  active: number;
  scheduled: number;
  retry: number;
  archived: number;
  completed: number;
  aggregating: number;
  /** Tasks processed today (UTC), failures included, as Asynq counts them. */
  processedToday: number;
  failedToday: number;
  processedTotal: number;
  failedTotal: number;
  paused: boolean;
  /** When these figures were read. */
  timestamp: number;
}

export interface DailyStats {
  queue: string;
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  processed: number;
  failed: number;
}

export interface GroupStats {
  group: string;
  size: number;
}

export interface Page {
  /** 1-based. @default 1 */
  page?: number;
  /** @default 30 */
  pageSize?: number;
}

export interface ServerSnapshot {
  server: ServerState;
  workers: WorkerState[];
  /** When the server's published state expires unless refreshed. */
  expiresAt: number;
  /**
   * Milliseconds the store itself still keeps the server's published state, by the store's own clock,
   * read at `listServers` time. Optional. `expiresAt` comes from the server's clock and this from the
   * store's, so together with `StoreInfo.time` they reveal a server whose clock is off.
   */
  remainingTtl?: number;
}

export interface SchedulerEntrySnapshot extends SchedulerEntryState {
  scheduler: SchedulerIdentity;
}

/** Facts about the store itself, for diagnosis and `q stats`. */
export interface StoreInfo {
  /** The store's clock, Unix milliseconds. */
  time: number;
  /** Product and version, as the store reports them. */
  version: string;
  /**
   * How the store is deployed: one node (`standalone`), data split over several nodes (`partitioned`),
   * a primary with replicas and automatic failover (`replicated`), or inside this process (`in-process`).
   */
  mode: 'standalone' | 'partitioned' | 'replicated' | 'in-process';
  /**
   * What the store does when it is full (`noeviction` refuses writes; other policies drop data); absent
   * when the store does not say. Any policy but `noeviction` can silently drop tasks.
   */
  evictionPolicy?: string;
  /** The memory limit in bytes; 0 when unlimited. */
  maxMemory?: number;
  /** Bytes in use. */
  usedMemory?: number;
  /** The store's own report, field by field, for display. */
  details: Record<string, string>;
}

/** Where a queue lives in a store whose data is split over partitions served by several nodes. */
export interface QueueLocation {
  /** The number of the partition that holds every record of the queue, as the store numbers them. */
  partition: number;
  /** The nodes serving that partition, primary first; empty when the store is not partitioned. */
  nodes: { id: string; address: string }[];
}

/** States whose tasks can be listed and acted on in bulk. */
export type ListableState = TaskState;

/** What an inspector needs. */
export interface QueueAdmin {
  listQueues(): Promise<string[]>;
  queueStats(queue: string, now: number): Promise<QueueStats>;
  dailyStats(queue: string, days: number, now: number): Promise<DailyStats[]>;
  listGroupStats(queue: string): Promise<GroupStats[]>;
  listTasks(queue: string, state: ListableState, page: Page & { group?: string }): Promise<StoredTask[]>;
  /** Throws `TaskNotFoundError` (or `QueueNotFoundError`). */
  getTask(queue: string, taskId: string): Promise<StoredTask>;
  deleteTask(queue: string, taskId: string): Promise<void>;
  /** Moves a scheduled, retry, archived or aggregating task to pending. */
  runTask(queue: string, taskId: string): Promise<void>;
  archiveTask(queue: string, taskId: string): Promise<void>;
  deleteAllTasks(queue: string, state: ListableState, group?: string): Promise<number>;
  runAllTasks(queue: string, state: ListableState, group?: string): Promise<number>;
  archiveAllTasks(queue: string, state: ListableState, group?: string): Promise<number>;
  pauseQueue(queue: string): Promise<void>;
  unpauseQueue(queue: string): Promise<void>;
  /** Throws `QueueNotEmptyError` unless empty, or `force` and no active task. */
  removeQueue(queue: string, force: boolean): Promise<void>;
  publishCancel(taskId: string): Promise<void>;
  listServers(): Promise<ServerSnapshot[]>;
  listSchedulerEntries(): Promise<SchedulerEntrySnapshot[]>;
  schedulerHistory(entryId: string, page: Page): Promise<SchedulerEnqueueEvent[]>;
  /** Optional: facts about the store (clock, version, eviction policy). Inspectors work without it. */
  storeInfo?(): Promise<StoreInfo>;
  /** Optional: the partition that holds the queue and the nodes that serve it. */
  queueLocation?(queue: string): Promise<QueueLocation>;
}

// ---------------------------------------------------------------------------------------------------

/**
 * The version of this contract. It changes when a method is added, removed or changes meaning; a broker
 * declares the version it implements (`Broker.contractVersion`) and `testBroker()` checks it.
 */
export const brokerContractVersion = 1;

/** Every role, plus the broker's own life. */
export interface Broker extends TaskProducer, TaskConsumer, GroupStore, SchedulerStore, QueueAdmin {
  /** The version of the contract this broker implements: `brokerContractVersion` when it was built. */
  readonly contractVersion: typeof brokerContractVersion;
  /** A short name for logs, e.g. `memory`. */
  readonly name: string;
  /** Reachability, for health checks: resolves when the store answers, throws when it does not. */
  ping(): Promise<void>;
  /** Closes what the broker opened; connections passed in by the user stay open. */
  close(): Promise<void>;
}
