/**
 * The memory `Broker`: every role of the contract over plain maps in this process, on a clock of the
 * caller's choice. Each operation changes the store in one synchronous step, so operations are atomic
 * as the Redis broker's scripts are, and a write is visible as soon as its call was made.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  BatchAbortedError,
  DuplicateTaskError,
  LeaseLostError,
  QError,
  QueueNotEmptyError,
  QueueNotFoundError,
  ShutdownError,
  TaskIdConflictError,
  TaskNotFoundError,
  TaskStateError,
  ValidationError,
  assertQueueName,
  assertTaskType,
  brokerContractVersion,
  isTaskState,
  systemClock,
  type AggregationCheckOptions,
  type AggregationSet,
  type Broker,
  type Clock,
  type DailyStats,
  type DequeueOptions,
  type DequeueResult,
  type EnqueueManyOptions,
  type EnqueueManyResult,
  type EnqueueRequest,
  type EnqueueResult,
  type GroupStats,
  type LeaseExtension,
  type LeaseFence,
  type LeasedTask,
  type ListableState,
  type Page,
  type QueueStats,
  type RetryOptions,
  type SchedulerEnqueueEvent,
  type SchedulerEntrySnapshot,
  type SchedulerEntryState,
  type SchedulerIdentity,
  type ServerSnapshot,
  type ServerState,
  type StoreInfo,
  type StoredTask,
  type TaskMessage,
  type WorkerState,
} from '@q/core';
import { MemoryQueue, compareText, copyMessage, utcDate, type TaskRecord } from './memory-queue';

export interface MemoryBrokerOptions<TClock extends Clock = Clock> {
  /**
   * Where the broker reads the time and sets its timers (lease ends, retry and schedule times, unique
   * locks, the timeout of `waitForTasks`). Pass a `createManualClock()` to move time by hand in tests,
   * and give the same clock to the `Server`.
   * @default systemClock (the real time)
   */
  clock?: TClock;
}

/** The memory broker: a `Broker`, plus the clock it runs on. */
export interface MemoryBroker<TClock extends Clock = Clock> extends Broker {
  readonly name: 'memory';
  /** The clock the broker reads; pass it to a `Server` (`clock`) and a `Client` (`now: clock.now`). */
  readonly clock: TClock;
  /** The broker's clock and what it holds; the memory broker never evicts. */
  storeInfo(): Promise<StoreInfo>;
}

/** Asynq's limits, kept so that tests see what production does. */
const archiveRetention = 90 * 86_400_000;
const maxArchiveSize = 10_000;
const aggregationTimeout = 2 * 60_000;
const maxSchedulerEvents = 1000;
const defaultPageSize = 30;

interface UniqueLock {
  taskId: string;
  expiresAt: number;
}

interface PublishedServer {
  server: ServerState;
  workers: WorkerState[];
  expiresAt: number;
}

interface PublishedScheduler {
  scheduler: SchedulerIdentity;
  entries: SchedulerEntryState[];
  expiresAt: number;
}

interface PlannedEnqueue {
  record: TaskRecord;
  result: EnqueueResult;
  uniqueLockUntil: number | undefined;
}

/** Creates a broker that keeps everything in this process; nothing survives `close()` or the process. */
export function createMemoryBroker<TClock extends Clock = Clock>(
  options: MemoryBrokerOptions<TClock> = {},
): MemoryBroker<TClock> {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', 'createMemoryBroker(options): options must be an object, e.g. { clock }.');
  }
  const unknown = Object.keys(options).filter((key) => key !== 'clock');
  if (unknown.length > 0) {
    throw invalid(
      `options.${unknown[0]}`,
      `Unknown memory broker option "${unknown[0]}"; the only option is clock.`,
    );
  }
  const clock = (options.clock ?? systemClock) as TClock;
  if (
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw invalid('options.clock', 'clock must have now(), setTimeout() and clearTimeout(), as systemClock.');
  }
  return new InMemoryBroker<TClock>(clock);
}

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(message, [{ path, message }]);
}

function assertPositive(value: number, path: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw invalid(path, `${path} must be a positive number, got ${String(value)}.`);
  }
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

function pageRange(page: Page): { start: number; end: number } {
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

function assertMessage(message: TaskMessage): void {
  if (typeof message !== 'object' || message === null) {
    throw invalid('message', 'The enqueue request needs a message (a TaskMessage).');
  }
  assertQueueName(message.queue, 'message.queue');
  assertTaskType(message.type, 'message.type');
  if (typeof message.id !== 'string' || message.id.trim() === '') {
    throw invalid('message.id', `message.id must be a non-empty string, got ${JSON.stringify(message.id)}.`);
  }
  if (!(message.payload instanceof Uint8Array)) {
    throw invalid('message.payload', 'message.payload must be a Uint8Array; encode the payload first.');
  }
}

const toUnixSeconds = (time: number): number => Math.floor(time / 1000);

class InMemoryBroker<TClock extends Clock> implements MemoryBroker<TClock> {
  readonly contractVersion = brokerContractVersion;
  readonly name = 'memory' as const;
  private readonly queues = new Map<string, MemoryQueue>();
  /** Queue names as `listQueues` reports them: registered by the first enqueue, dropped by `removeQueue`. */
  private readonly registered = new Set<string>();
  private readonly uniqueLocks = new Map<string, UniqueLock>();
  private readonly servers = new Map<string, PublishedServer>();
  private readonly schedulers = new Map<string, PublishedScheduler>();
  private readonly schedulerEvents = new Map<string, SchedulerEnqueueEvent[]>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly cancelListeners = new Set<(taskId: string) => void>();
  private closed = false;

  constructor(readonly clock: TClock) {}

  ping(): Promise<void> {
    return this.run('ping', () => undefined);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.waiters.values()) for (const wake of [...waiting]) wake();
    this.cancelListeners.clear();
    return Promise.resolve();
  }

  // Producing ----------------------------------------------------------------------------------------

  enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    return this.run('enqueue', () => {
      const now = this.clock.now();
      const plan = this.plan(request, now);
      const refusal = this.refusal(plan, now);
      if (refusal) throw refusal;
      this.write(plan, now);
      return plan.result;
    });
  }

  enqueueMany(
    requests: readonly EnqueueRequest[],
    options: EnqueueManyOptions = {},
  ): Promise<EnqueueManyResult[]> {
    return this.run('enqueueMany', () => {
      const given: unknown = requests;
      if (!Array.isArray(given)) {
        throw invalid('requests', 'enqueueMany takes an array of enqueue requests.');
      }
      const now = this.clock.now();
      if (options.atomic === true) return this.enqueueAtomically(requests, now);
      return requests.map((request): EnqueueManyResult => {
        try {
          const plan = this.plan(request, now);
          const refusal = this.refusal(plan, now);
          if (refusal) return { ok: false, error: refusal };
          this.write(plan, now);
          return { ok: true, result: plan.result };
        } catch (error) {
          if (QError.is(error)) return { ok: false, error };
          throw error;
        }
      });
    });
  }

  private enqueueAtomically(requests: readonly EnqueueRequest[], now: number): EnqueueManyResult[] {
    const plans = requests.map((request, index) => {
      try {
        return this.plan(request, now);
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new ValidationError(`requests[${index}]: ${error.message}`, error.issues, { cause: error });
        }
        throw error;
      }
    });
    const queues = new Set(plans.map((plan) => plan.record.message.queue));
    if (queues.size > 1) {
      throw invalid(
        'requests',
        `An atomic enqueueMany must target one queue, got ${[...queues].map((queue) => `"${queue}"`).join(', ')}; split the batch by queue or drop "atomic".`,
      );
    }
    // Check the whole batch as if it were written in order (ids and locks it takes itself count too).
    const takenIds = new Set<string>();
    const takenLocks = new Set<string>();
    const refusals = plans.map((plan) => {
      const { message } = plan.record;
      const refusal =
        this.refusal(plan, now) ??
        (takenIds.has(message.id)
          ? new TaskIdConflictError(message.queue, message.id)
          : message.uniqueKey && takenLocks.has(message.uniqueKey)
            ? new DuplicateTaskError(message.queue, message.type)
            : undefined);
      takenIds.add(message.id);
      if (message.uniqueKey) takenLocks.add(message.uniqueKey);
      return refusal;
    });
    const firstRefused = refusals.findIndex((refusal) => refusal !== undefined);
    if (firstRefused < 0) {
      for (const plan of plans) this.write(plan, now);
      return plans.map((plan) => ({ ok: true, result: plan.result }));
    }
    return refusals.map((refusal): EnqueueManyResult => ({
      ok: false,
      error: refusal ?? new BatchAbortedError(firstRefused, 'requests', { cause: refusals[firstRefused] }),
    }));
  }

  /** Validates a request and decides where it goes; changes nothing. */
  private plan(request: EnqueueRequest, now: number): PlannedEnqueue {
    if (typeof request !== 'object' || request === null) {
      throw invalid('request', 'An enqueue request must be an object with a message.');
    }
    const { processAt, uniqueTtl } = request;
    assertMessage(request.message);
    if (processAt !== undefined && !Number.isFinite(processAt)) {
      throw invalid('processAt', `processAt must be Unix milliseconds, got ${String(processAt)}.`);
    }
    if (uniqueTtl !== undefined && (!Number.isFinite(uniqueTtl) || uniqueTtl < 1000)) {
      throw invalid(
        'uniqueTtl',
        `uniqueTtl must be at least 1000 milliseconds (Asynq's minimum), got ${String(uniqueTtl)}.`,
      );
    }
    const scheduled = processAt !== undefined && processAt > now;
    const message = copyMessage(request.message);
    message.uniqueKey =
      uniqueTtl === undefined
        ? ''
        : `${message.queue}:unique:${message.type}:${createHash('md5').update(message.payload).digest('hex')}`;
    const record: TaskRecord = {
      message,
      state: scheduled ? 'scheduled' : message.groupKey ? 'aggregating' : 'pending',
    };
    const result: EnqueueResult = { message: copyMessage(message), state: record.state };
    if (record.state === 'pending') result.nextProcessAt = now;
    if (scheduled) {
      record.processAt = processAt;
      result.nextProcessAt = processAt;
    }
    // A scheduled task's lock covers its wait too, as in Asynq.
    const uniqueLockUntil =
      uniqueTtl === undefined ? undefined : (scheduled ? processAt : now) + Math.ceil(uniqueTtl);
    return { record, result, uniqueLockUntil };
  }

  private refusal(plan: PlannedEnqueue, now: number): QError | undefined {
    const { message } = plan.record;
    if (this.queues.get(message.queue)?.tasks.has(message.id)) {
      return new TaskIdConflictError(message.queue, message.id);
    }
    if (message.uniqueKey) {
      const lock = this.uniqueLocks.get(message.uniqueKey);
      if (lock && lock.expiresAt > now) return new DuplicateTaskError(message.queue, message.type);
    }
    return undefined;
  }

  private write(plan: PlannedEnqueue, now: number): void {
    const { record } = plan;
    const { message } = record;
    const queue = this.queue(message.queue);
    this.registered.add(message.queue);
    if (plan.uniqueLockUntil !== undefined) {
      this.uniqueLocks.set(message.uniqueKey, { taskId: message.id, expiresAt: plan.uniqueLockUntil });
    }
    queue.tasks.set(message.id, record);
    if (record.state === 'aggregating') {
      queue.addToGroup(record, now);
    } else if (record.state === 'pending') {
      record.pendingSince = now;
      queue.pending.push(message.id);
      this.wake(queue.name);
    }
  }

  // Consuming ----------------------------------------------------------------------------------------

  dequeue(queues: readonly string[], options: DequeueOptions): Promise<DequeueResult> {
    return this.run('dequeue', () => {
      assertPositive(options.leaseDuration, 'leaseDuration');
      if (!Number.isFinite(options.count) || options.count < 0) {
        throw invalid('count', `count must be a number of tasks, got ${String(options.count)}.`);
      }
      const wanted = Math.floor(options.count);
      const leaseExpiresAt = this.clock.now() + options.leaseDuration;
      const tasks: LeasedTask[] = [];
      for (const name of queues) {
        const queue = this.queues.get(name);
        if (!queue || queue.paused) continue;
        while (tasks.length < wanted && queue.pending.length > 0) {
          const record = queue.tasks.get(queue.pending[0]!)!;
          queue.detach(record);
          record.state = 'active';
          record.leaseExpiresAt = leaseExpiresAt;
          record.leaseToken = randomUUID();
          queue.active.add(record.message.id);
          tasks.push({
            message: copyMessage(record.message),
            leaseExpiresAt,
            leaseToken: record.leaseToken,
          });
        }
        if (tasks.length >= wanted) break;
      }
      return { tasks, malformed: [] };
    });
  }

  waitForTasks(queues: readonly string[], timeout: number, signal?: AbortSignal): Promise<boolean> {
    if (this.closed || signal?.aborted || queues.length === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (): void => finish(true);
      const onAbort = (): void => finish(false);
      const timer = this.clock.setTimeout(() => finish(false), Math.max(0, timeout));
      const finish = (woken: boolean): void => {
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        for (const name of queues) this.waiters.get(name)?.delete(wake);
        resolve(woken && !this.closed);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      for (const name of queues) {
        const waiting = this.waiters.get(name) ?? new Set();
        waiting.add(wake);
        this.waiters.set(name, waiting);
      }
    });
  }

  done(message: TaskMessage, fence?: LeaseFence): Promise<void> {
    return this.run('done', () => {
      const { queue, record } = this.leased(message, fence);
      queue.detach(record);
      queue.tasks.delete(record.message.id);
      queue.count(utcDate(this.clock.now()), false);
      this.releaseLock(record.message);
    });
  }

  markComplete(message: TaskMessage, completedAt: number, fence?: LeaseFence): Promise<void> {
    return this.run('markComplete', () => {
      const { queue, record } = this.leased(message, fence);
      queue.detach(record);
      const completedAtUnixSeconds = toUnixSeconds(completedAt);
      record.message = { ...copyMessage(message), completedAtUnixSeconds };
      record.state = 'completed';
      record.retainedUntil = (completedAtUnixSeconds + message.retentionSeconds) * 1000;
      queue.count(utcDate(this.clock.now()), false);
      this.releaseLock(record.message);
    });
  }

  requeue(message: TaskMessage, fence?: LeaseFence): Promise<void> {
    return this.run('requeue', () => {
      const { queue, record } = this.leased(message, fence);
      queue.detach(record);
      record.state = 'pending';
      record.pendingSince = this.clock.now();
      queue.pending.unshift(record.message.id);
      this.wake(queue.name);
    });
  }

  retry(message: TaskMessage, options: RetryOptions): Promise<void> {
    return this.run('retry', () => {
      const { queue, record } = this.leased(message, options.fence);
      const now = this.clock.now();
      queue.detach(record);
      record.message = {
        ...copyMessage(message),
        retried: options.isFailure ? message.retried + 1 : message.retried,
        errorMessage: options.errorMessage,
        lastFailedAtUnixSeconds: toUnixSeconds(now),
      };
      record.state = 'retry';
      record.processAt = options.processAt;
      if (options.isFailure) queue.count(utcDate(now), true);
    });
  }

  archive(message: TaskMessage, errorMessage: string, fence?: LeaseFence): Promise<void> {
    return this.run('archive', () => {
      const { queue, record } = this.leased(message, fence);
      const now = this.clock.now();
      queue.detach(record);
      record.message = {
        ...copyMessage(message),
        errorMessage,
        lastFailedAtUnixSeconds: toUnixSeconds(now),
      };
      this.moveToArchive(queue, record, now);
      queue.count(utcDate(now), true);
    });
  }

  extendLeases(
    queue: string,
    taskIds: readonly string[],
    leaseDuration: number,
    leaseTokens?: ReadonlyMap<string, string>,
  ): Promise<LeaseExtension> {
    return this.run('extendLeases', () => {
      assertPositive(leaseDuration, 'leaseDuration');
      const leaseExpiresAt = this.clock.now() + leaseDuration;
      const tasks = this.queues.get(queue)?.tasks;
      const lost: string[] = [];
      for (const id of taskIds) {
        const record = tasks?.get(id);
        const token = leaseTokens?.get(id);
        if (record?.state !== 'active' || (token && token !== record.leaseToken)) {
          lost.push(id);
        } else {
          record.leaseExpiresAt = leaseExpiresAt;
        }
      }
      return { leaseExpiresAt, lost };
    });
  }

  writeResult(queue: string, taskId: string, result: Uint8Array): Promise<void> {
    return this.run('writeResult', () => {
      const record = this.queues.get(queue)?.tasks.get(taskId);
      if (!record) throw new TaskNotFoundError(queue, taskId);
      record.result = result.slice();
    });
  }

  listLeaseExpired(queues: readonly string[], cutoff: number): Promise<TaskMessage[]> {
    return this.run('listLeaseExpired', () =>
      queues.flatMap((name) =>
        (this.queues.get(name)?.inState('active') ?? [])
          .filter((record) => (record.leaseExpiresAt ?? -Infinity) <= cutoff)
          .map((record) => copyMessage(record.message)),
      ),
    );
  }

  forward(queues: readonly string[], now: number): Promise<number> {
    return this.run('forward', () => {
      let moved = 0;
      for (const name of queues) {
        const queue = this.queues.get(name);
        if (!queue) continue;
        const due = [...queue.inState('scheduled'), ...queue.inState('retry')].filter(
          (record) => (record.processAt ?? 0) <= now,
        );
        let pushed = 0;
        for (const record of due) {
          queue.detach(record);
          if (record.joinedGroup === true && record.message.groupKey) {
            queue.addToGroup(record, now);
          } else {
            record.state = 'pending';
            record.pendingSince = now;
            queue.pending.push(record.message.id);
            pushed += 1;
          }
        }
        moved += due.length;
        if (pushed > 0) this.wake(name);
      }
      return moved;
    });
  }

  deleteExpiredCompleted(queue: string, now: number, batchSize: number): Promise<number> {
    return this.run('deleteExpiredCompleted', () => {
      assertPositive(batchSize, 'batchSize');
      const found = this.queues.get(queue);
      if (!found) return 0;
      const expired = found
        .inState('completed')
        .filter((record) => (record.retainedUntil ?? 0) <= now)
        .slice(0, Math.floor(batchSize));
      for (const record of expired) found.tasks.delete(record.message.id);
      return expired.length;
    });
  }

  // Groups -------------------------------------------------------------------------------------------

  listGroups(queue: string): Promise<string[]> {
    return this.run('listGroups', () => [...(this.queues.get(queue)?.groups.keys() ?? [])].sort(compareText));
  }

  aggregationCheck(
    queue: string,
    group: string,
    options: AggregationCheckOptions,
  ): Promise<string | undefined> {
    return this.run('aggregationCheck', () => {
      if (!options.setId) {
        throw invalid('options.setId', 'aggregationCheck needs a setId for the new aggregation set.');
      }
      const found = this.queues.get(queue);
      const ids = found?.groups.get(group);
      if (!found || !ids || ids.size === 0) return undefined;
      const members = [...ids].map((id) => found.tasks.get(id)!);
      const maxSize = Math.max(0, Math.floor(options.maxSize));
      const { now } = options;
      const oldest = Math.min(...members.map((record) => record.groupedAt ?? 0));
      const newest = Math.max(...members.map((record) => record.groupedAt ?? 0));
      const ready =
        (maxSize > 0 && members.length >= maxSize) ||
        (options.maxDelay > 0 && oldest <= now - options.maxDelay) ||
        newest <= now - options.gracePeriod;
      if (!ready) return undefined;
      const taken = maxSize > 0 ? members.slice(0, maxSize) : members;
      for (const record of taken) ids.delete(record.message.id);
      if (ids.size === 0) found.groups.delete(group);
      found.aggregationSets.set(setKey(group, options.setId), {
        group,
        taskIds: taken.map((record) => record.message.id),
        reclaimAt: now + aggregationTimeout,
      });
      return options.setId;
    });
  }

  readAggregationSet(queue: string, group: string, setId: string): Promise<AggregationSet> {
    return this.run('readAggregationSet', () => {
      const found = this.queues.get(queue);
      const set = found?.aggregationSets.get(setKey(group, setId));
      const messages = (set?.taskIds ?? []).flatMap((id) => {
        const record = found!.tasks.get(id);
        return record ? [copyMessage(record.message)] : [];
      });
      return { messages };
    });
  }

  deleteAggregationSet(queue: string, group: string, setId: string): Promise<void> {
    return this.run('deleteAggregationSet', () => {
      const found = this.queues.get(queue);
      const key = setKey(group, setId);
      const set = found?.aggregationSets.get(key);
      if (!found || !set) return;
      for (const id of set.taskIds) found.tasks.delete(id);
      found.aggregationSets.delete(key);
    });
  }

  reclaimStaleAggregationSets(queue: string, now: number): Promise<void> {
    return this.run('reclaimStaleAggregationSets', () => {
      const found = this.queues.get(queue);
      if (!found) return;
      for (const [key, set] of found.aggregationSets) {
        if (set.reclaimAt > now) continue;
        found.aggregationSets.delete(key);
        for (const id of set.taskIds) {
          const record = found.tasks.get(id);
          if (!record) continue;
          const groupedAt = record.groupedAt ?? now;
          found.addToGroup(record, groupedAt);
        }
      }
    });
  }

  // Servers ------------------------------------------------------------------------------------------

  writeServerState(server: ServerState, workers: readonly WorkerState[], ttl: number): Promise<void> {
    return this.run('writeServerState', () => {
      assertPositive(ttl, 'ttl');
      this.servers.set(serverKey(server), {
        server: structuredClone(server),
        workers: workers.map((worker) => structuredClone(worker)),
        expiresAt: this.clock.now() + ttl,
      });
    });
  }

  clearServerState(server: Pick<ServerState, 'host' | 'pid' | 'serverId'>): Promise<void> {
    return this.run('clearServerState', () => {
      this.servers.delete(serverKey(server));
    });
  }

  subscribeCancel(listener: (taskId: string) => void): Promise<() => Promise<void>> {
    return this.run('subscribeCancel', () => {
      this.cancelListeners.add(listener);
      return () => {
        this.cancelListeners.delete(listener);
        return Promise.resolve();
      };
    });
  }

  // Scheduling ---------------------------------------------------------------------------------------

  writeSchedulerEntries(
    scheduler: SchedulerIdentity,
    entries: readonly SchedulerEntryState[],
    ttl: number,
  ): Promise<void> {
    return this.run('writeSchedulerEntries', () => {
      assertPositive(ttl, 'ttl');
      this.schedulers.set(schedulerKey(scheduler), {
        scheduler: { ...scheduler },
        entries: entries.map((entry) => structuredClone(entry)),
        expiresAt: this.clock.now() + ttl,
      });
    });
  }

  clearSchedulerEntries(scheduler: SchedulerIdentity): Promise<void> {
    return this.run('clearSchedulerEntries', () => {
      this.schedulers.delete(schedulerKey(scheduler));
    });
  }

  recordSchedulerEnqueue(entryId: string, event: SchedulerEnqueueEvent): Promise<void> {
    return this.run('recordSchedulerEnqueue', () => {
      const events = this.schedulerEvents.get(entryId) ?? [];
      events.push({ ...event });
      events.sort((left, right) => right.enqueuedAt - left.enqueuedAt);
      events.length = Math.min(events.length, maxSchedulerEvents);
      this.schedulerEvents.set(entryId, events);
    });
  }

  schedulerHistory(entryId: string, page: Page): Promise<SchedulerEnqueueEvent[]> {
    return this.run('schedulerHistory', () => {
      const { start, end } = pageRange(page);
      return (this.schedulerEvents.get(entryId) ?? []).slice(start, end).map((event) => ({ ...event }));
    });
  }

  // Inspecting and administering -----------------------------------------------------------------------

  listQueues(): Promise<string[]> {
    return this.run('listQueues', () => [...this.registered].sort(compareText));
  }

  queueStats(queue: string, now: number): Promise<QueueStats> {
    return this.run('queueStats', () => {
      const found = this.existing(queue);
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
    return this.run('dailyStats', () => {
      if (!Number.isInteger(days) || days < 1) {
        throw invalid('days', `days must be a whole number from 1, got ${String(days)}.`);
      }
      const found = this.existing(queue);
      return Array.from({ length: days }, (_, index) => {
        const date = utcDate(now - index * 86_400_000);
        const counts = found.daily.get(date) ?? { processed: 0, failed: 0 };
        return { queue, date, processed: counts.processed, failed: counts.failed };
      });
    });
  }

  listGroupStats(queue: string): Promise<GroupStats[]> {
    return this.run('listGroupStats', () =>
      [...(this.queues.get(queue)?.groups ?? [])]
        .map(([group, ids]) => ({ group, size: ids.size }))
        .sort((left, right) => compareText(left.group, right.group)),
    );
  }

  listTasks(queue: string, state: ListableState, page: Page & { group?: string }): Promise<StoredTask[]> {
    return this.run('listTasks', () => {
      assertState(state);
      const { start, end } = pageRange(page);
      const found = this.existing(queue);
      const group = state === 'aggregating' ? requireGroup(page.group) : undefined;
      const now = this.clock.now();
      return found
        .inState(state, group)
        .slice(start, end)
        .map((record) => storedTask(record, now));
    });
  }

  getTask(queue: string, taskId: string): Promise<StoredTask> {
    return this.run('getTask', () => {
      const record = this.existing(queue).tasks.get(taskId);
      if (!record) throw new TaskNotFoundError(queue, taskId);
      return storedTask(record, this.clock.now());
    });
  }

  deleteTask(queue: string, taskId: string): Promise<void> {
    return this.run('deleteTask', () => {
      const found = this.existing(queue);
      const record = found.tasks.get(taskId);
      if (!record || this.inAggregationSet(found, taskId)) throw new TaskNotFoundError(queue, taskId);
      if (record.state === 'active') {
        throw new TaskStateError(
          `Task "${taskId}" in queue "${queue}" is running and cannot be deleted; cancel it first (publishCancel).`,
        );
      }
      found.detach(record);
      found.tasks.delete(taskId);
      this.releaseLock(record.message);
    });
  }

  runTask(queue: string, taskId: string): Promise<void> {
    return this.run('runTask', () => {
      const found = this.existing(queue);
      const record = found.tasks.get(taskId);
      if (!record || this.inAggregationSet(found, taskId)) throw new TaskNotFoundError(queue, taskId);
      if (record.state === 'active') {
        throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already running.`);
      }
      if (record.state === 'pending') {
        throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already pending.`);
      }
      this.makePending(found, record);
      this.wake(queue);
    });
  }

  archiveTask(queue: string, taskId: string): Promise<void> {
    return this.run('archiveTask', () => {
      const found = this.existing(queue);
      const record = found.tasks.get(taskId);
      if (!record || this.inAggregationSet(found, taskId)) throw new TaskNotFoundError(queue, taskId);
      if (record.state === 'archived') {
        throw new TaskStateError(`Task "${taskId}" in queue "${queue}" is already archived.`);
      }
      if (record.state === 'active') {
        throw new TaskStateError(
          `Task "${taskId}" in queue "${queue}" is running and cannot be archived; cancel it first (publishCancel).`,
        );
      }
      found.detach(record);
      this.moveToArchive(found, record, this.clock.now());
    });
  }

  deleteAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.run('deleteAllTasks', () => {
      assertState(state);
      const found = this.existing(queue);
      if (state === 'active') {
        throw new TaskStateError('Running tasks cannot be deleted; cancel them first (publishCancel).');
      }
      const records = found.inState(state, state === 'aggregating' ? requireGroup(group) : undefined);
      for (const record of records) {
        found.detach(record);
        found.tasks.delete(record.message.id);
        this.releaseLock(record.message);
      }
      return records.length;
    });
  }

  runAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.run('runAllTasks', () => {
      assertState(state);
      const found = this.existing(queue);
      if (state === 'pending' || state === 'active') {
        throw new TaskStateError(
          `Tasks in the ${state} state cannot be run; they are already waiting or running.`,
        );
      }
      const records = found.inState(state, state === 'aggregating' ? requireGroup(group) : undefined);
      for (const record of records) this.makePending(found, record);
      if (records.length > 0) this.wake(queue);
      return records.length;
    });
  }

  archiveAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.run('archiveAllTasks', () => {
      assertState(state);
      const found = this.existing(queue);
      if (state === 'active' || state === 'archived' || state === 'completed') {
        throw new TaskStateError(
          `Tasks in the ${state} state cannot be archived; archive pending, scheduled, retry or aggregating tasks.`,
        );
      }
      const records = found.inState(state, state === 'aggregating' ? requireGroup(group) : undefined);
      const now = this.clock.now();
      for (const record of records) {
        found.detach(record);
        this.moveToArchive(found, record, now);
      }
      return records.length;
    });
  }

  /** Idempotent: pausing a paused queue changes nothing. */
  pauseQueue(queue: string): Promise<void> {
    return this.run('pauseQueue', () => {
      assertQueueName(queue);
      this.queue(queue).paused = true;
    });
  }

  /** Idempotent, like `pauseQueue`. */
  unpauseQueue(queue: string): Promise<void> {
    return this.run('unpauseQueue', () => {
      assertQueueName(queue);
      this.queue(queue).paused = false;
      this.wake(queue);
    });
  }

  removeQueue(queue: string, force: boolean): Promise<void> {
    return this.run('removeQueue', () => {
      const found = this.existing(queue);
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
      this.registered.delete(queue);
    });
  }

  publishCancel(taskId: string): Promise<void> {
    return this.run('publishCancel', () => {
      // Delivered after the call returns, as a pub/sub message would be.
      const listeners = [...this.cancelListeners];
      queueMicrotask(() => {
        for (const listener of listeners) listener(taskId);
      });
    });
  }

  listServers(): Promise<ServerSnapshot[]> {
    return this.run('listServers', () => {
      const now = this.clock.now();
      const snapshots: ServerSnapshot[] = [];
      for (const [key, published] of this.servers) {
        if (published.expiresAt <= now) {
          this.servers.delete(key);
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
    return this.run('listSchedulerEntries', () => {
      const now = this.clock.now();
      const snapshots: SchedulerEntrySnapshot[] = [];
      for (const [key, published] of this.schedulers) {
        if (published.expiresAt <= now) {
          this.schedulers.delete(key);
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
    return this.run('storeInfo', () => {
      let tasks = 0;
      let usedMemory = 0;
      for (const queue of this.queues.values()) {
        tasks += queue.tasks.size;
        for (const record of queue.tasks.values()) usedMemory += recordSize(record);
      }
      return {
        time: this.clock.now(),
        version: 'memory 1',
        mode: 'memory',
        evictionPolicy: 'noeviction',
        maxMemory: 0,
        usedMemory,
        details: {
          queues: String(this.registered.size),
          tasks: String(tasks),
          servers: String(this.servers.size),
        },
      };
    });
  }

  // ---------------------------------------------------------------------------------------------------

  /** Runs one operation as a single synchronous step, refusing it once the broker is closed. */
  private run<Result>(operation: string, step: () => Result): Promise<Result> {
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

  private queue(name: string): MemoryQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new MemoryQueue(name);
      this.queues.set(name, queue);
    }
    return queue;
  }

  private existing(name: string): MemoryQueue {
    const queue = this.registered.has(name) ? this.queues.get(name) : undefined;
    if (!queue) throw new QueueNotFoundError(name);
    return queue;
  }

  /** The task's record when it is leased under `fence`; throws `LeaseLostError` otherwise. */
  private leased(
    message: TaskMessage,
    fence: LeaseFence | undefined,
  ): { queue: MemoryQueue; record: TaskRecord } {
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

  private makePending(queue: MemoryQueue, record: TaskRecord): void {
    queue.detach(record);
    record.state = 'pending';
    record.pendingSince = this.clock.now();
    queue.pending.push(record.message.id);
  }

  /** Archives a detached record and trims the archive as Asynq does (90 days, 10,000 tasks). */
  private moveToArchive(queue: MemoryQueue, record: TaskRecord, now: number): void {
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

  private inAggregationSet(queue: MemoryQueue, taskId: string): boolean {
    for (const set of queue.aggregationSets.values()) if (set.taskIds.includes(taskId)) return true;
    return false;
  }

  private releaseLock(message: TaskMessage): void {
    if (message.uniqueKey && this.uniqueLocks.get(message.uniqueKey)?.taskId === message.id) {
      this.uniqueLocks.delete(message.uniqueKey);
    }
  }

  private wake(queue: string): void {
    for (const wake of [...(this.waiters.get(queue) ?? [])]) wake();
  }
}

function storedTask(record: TaskRecord, now: number): StoredTask {
  const task: StoredTask = { message: copyMessage(record.message), state: record.state };
  if (record.state === 'pending') task.nextProcessAt = now;
  if (record.processAt !== undefined) task.nextProcessAt = record.processAt;
  if (record.state === 'active') task.isOrphaned = (record.leaseExpiresAt ?? -Infinity) <= now;
  if (record.result && record.result.length > 0) task.result = record.result.slice();
  return task;
}

/** A rough size in bytes of what a record holds, for `memoryUsage`. */
function recordSize(record: TaskRecord): number {
  const { message } = record;
  let size = 128 + message.id.length + message.type.length + message.payload.length;
  size += message.errorMessage.length + (record.result?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers)) size += name.length + value.length;
  return size;
}

function setKey(group: string, setId: string): string {
  return `${group}\u0000${setId}`;
}

function serverKey(server: Pick<ServerState, 'host' | 'pid' | 'serverId'>): string {
  return `${server.host}:${server.pid}:${server.serverId}`;
}

function schedulerKey(scheduler: SchedulerIdentity): string {
  return `${scheduler.host}:${scheduler.pid}:${scheduler.schedulerId}`;
}
