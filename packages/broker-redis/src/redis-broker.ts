/**
 * The Redis `Broker`: the four roles (producer, consumer, scheduler store, queue admin) over one
 * connection, each call's failures mapped to @q's typed errors.
 */
import { closeConnection } from './close-connection';
import {
  ShutdownError,
  brokerContractVersion,
  type AggregationCheckOptions,
  type AggregationSet,
  type Broker,
  type DailyStats,
  type DequeueOptions,
  type EnqueueManyOptions,
  type EnqueueManyResult,
  type EnqueueRequest,
  type EnqueueResult,
  type FlowControl,
  type FlowDequeueResult,
  type FlowLimitsUpdate,
  type FlowState,
  type GroupStats,
  type LeaseExtension,
  type LeaseFence,
  type ListableState,
  type Page,
  type QueueLocation,
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
import { inspect } from 'node:util';
import type { RedisBrokerContext } from './redis-broker-context';
import { toBrokerError } from './redis-errors';
import { RedisFlowControl } from './redis-flow-control';
import { RedisQueueAdmin } from './redis-queue-admin';
import { RedisSchedulerStore } from './redis-scheduler-store';
import { readQueueLocation, readStoreInfo } from './redis-store-info';
import type { RedisConnection } from './redis-scripts';
import { RedisTaskConsumer } from './redis-task-consumer';
import { RedisTaskProducer } from './redis-task-producer';

export class RedisBroker implements Broker, FlowControl {
  readonly name = 'redis';
  readonly contractVersion = brokerContractVersion;
  private readonly producer: RedisTaskProducer;
  private readonly consumer: RedisTaskConsumer;
  private readonly schedulerStore: RedisSchedulerStore;
  private readonly admin: RedisQueueAdmin;
  private readonly flow: RedisFlowControl;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly context: RedisBrokerContext,
    private readonly ownsConnection: boolean,
  ) {
    this.producer = new RedisTaskProducer(context);
    this.consumer = new RedisTaskConsumer(context);
    this.schedulerStore = new RedisSchedulerStore(context);
    this.admin = new RedisQueueAdmin(context);
    this.flow = new RedisFlowControl(context);
  }

  /** The key prefix (`asynq` unless configured). */
  get prefix(): string {
    return this.context.keys.prefix;
  }

  /** The ioredis connection, for what the broker does not cover (INFO, CLUSTER INFO). Do not close it. */
  get connection(): RedisConnection {
    return this.context.connection;
  }

  /** What `console.log(broker)` and `util.inspect` show: never the connection, whose options hold the password. */
  [inspect.custom](): string {
    return `RedisBroker { prefix: '${this.prefix}' }`;
  }

  async ping(): Promise<void> {
    await this.guard('ping', () => this.context.connection.ping());
  }

  close(): Promise<void> {
    this.closing ??= this.closeConnections();
    return this.closing;
  }

  // Producing

  enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    return this.guard('enqueue', () => this.producer.enqueue(request));
  }

  enqueueMany(
    requests: readonly EnqueueRequest[],
    options?: EnqueueManyOptions,
  ): Promise<EnqueueManyResult[]> {
    return this.guard('enqueueMany', () => this.producer.enqueueMany(requests, options));
  }

  // Consuming

  dequeue(queues: readonly string[], options: DequeueOptions): Promise<FlowDequeueResult> {
    return this.guard('dequeue', () => this.consumer.dequeue(queues, options));
  }

  waitForTasks(queues: readonly string[], timeout: number, signal?: AbortSignal): Promise<boolean> {
    return this.guard('waitForTasks', () => this.consumer.waitForTasks(queues, timeout, signal));
  }

  done(message: TaskMessage, fence?: LeaseFence): Promise<void> {
    return this.guard('done', () => this.consumer.done(message, fence));
  }

  markComplete(message: TaskMessage, completedAt: number, fence?: LeaseFence): Promise<void> {
    return this.guard('markComplete', () => this.consumer.markComplete(message, completedAt, fence));
  }

  requeue(message: TaskMessage, fence?: LeaseFence): Promise<void> {
    return this.guard('requeue', () => this.consumer.requeue(message, fence));
  }

  retry(message: TaskMessage, options: RetryOptions): Promise<void> {
    return this.guard('retry', () => this.consumer.retry(message, options));
  }

  archive(message: TaskMessage, errorMessage: string, fence?: LeaseFence): Promise<void> {
    return this.guard('archive', () => this.consumer.archive(message, errorMessage, fence));
  }

  extendLeases(
    queue: string,
    taskIds: readonly string[],
    leaseDuration: number,
    leaseTokens?: ReadonlyMap<string, string>,
  ): Promise<LeaseExtension> {
    return this.guard('extendLeases', () =>
      this.consumer.extendLeases(queue, taskIds, leaseDuration, leaseTokens),
    );
  }

  writeResult(queue: string, taskId: string, result: Uint8Array): Promise<void> {
    return this.guard('writeResult', () => this.consumer.writeResult(queue, taskId, result));
  }

  listLeaseExpired(queues: readonly string[], cutoff: number): Promise<TaskMessage[]> {
    return this.guard('listLeaseExpired', () => this.consumer.listLeaseExpired(queues, cutoff));
  }

  forward(queues: readonly string[], now: number): Promise<number> {
    return this.guard('forward', () => this.consumer.forward(queues, now));
  }

  deleteExpiredCompleted(queue: string, now: number, batchSize: number): Promise<number> {
    return this.guard('deleteExpiredCompleted', () =>
      this.consumer.deleteExpiredCompleted(queue, now, batchSize),
    );
  }

  listGroups(queue: string): Promise<string[]> {
    return this.guard('listGroups', () => this.consumer.listGroups(queue));
  }

  aggregationCheck(
    queue: string,
    group: string,
    options: AggregationCheckOptions,
  ): Promise<string | undefined> {
    return this.guard('aggregationCheck', () => this.consumer.aggregationCheck(queue, group, options));
  }

  readAggregationSet(queue: string, group: string, setId: string): Promise<AggregationSet> {
    return this.guard('readAggregationSet', () => this.consumer.readAggregationSet(queue, group, setId));
  }

  deleteAggregationSet(queue: string, group: string, setId: string): Promise<void> {
    return this.guard('deleteAggregationSet', () => this.consumer.deleteAggregationSet(queue, group, setId));
  }

  reclaimStaleAggregationSets(queue: string, now: number): Promise<void> {
    return this.guard('reclaimStaleAggregationSets', () =>
      this.consumer.reclaimStaleAggregationSets(queue, now),
    );
  }

  writeServerState(server: ServerState, workers: readonly WorkerState[], ttl: number): Promise<void> {
    return this.guard('writeServerState', () => this.consumer.writeServerState(server, workers, ttl));
  }

  clearServerState(server: Pick<ServerState, 'host' | 'pid' | 'serverId'>): Promise<void> {
    return this.guard('clearServerState', () => this.consumer.clearServerState(server));
  }

  subscribeCancel(listener: (taskId: string) => void): Promise<() => Promise<void>> {
    return this.guard('subscribeCancel', () => this.consumer.subscribeCancel(listener));
  }

  // Scheduling

  writeSchedulerEntries(
    scheduler: SchedulerIdentity,
    entries: readonly SchedulerEntryState[],
    ttl: number,
  ): Promise<void> {
    return this.guard('writeSchedulerEntries', () =>
      this.schedulerStore.writeSchedulerEntries(scheduler, entries, ttl),
    );
  }

  clearSchedulerEntries(scheduler: SchedulerIdentity): Promise<void> {
    return this.guard('clearSchedulerEntries', () => this.schedulerStore.clearSchedulerEntries(scheduler));
  }

  recordSchedulerEnqueue(entryId: string, event: SchedulerEnqueueEvent): Promise<void> {
    return this.guard('recordSchedulerEnqueue', () =>
      this.schedulerStore.recordSchedulerEnqueue(entryId, event),
    );
  }

  // Inspecting and administering

  listQueues(): Promise<string[]> {
    return this.guard('listQueues', () => this.admin.listQueues());
  }

  queueStats(queue: string, now: number): Promise<QueueStats> {
    return this.guard('queueStats', () => this.admin.queueStats(queue, now));
  }

  dailyStats(queue: string, days: number, now: number): Promise<DailyStats[]> {
    return this.guard('dailyStats', () => this.admin.dailyStats(queue, days, now));
  }

  listGroupStats(queue: string): Promise<GroupStats[]> {
    return this.guard('listGroupStats', () => this.admin.listGroupStats(queue));
  }

  listTasks(queue: string, state: ListableState, page: Page & { group?: string }): Promise<StoredTask[]> {
    return this.guard('listTasks', () => this.admin.listTasks(queue, state, page));
  }

  getTask(queue: string, taskId: string): Promise<StoredTask> {
    return this.guard('getTask', () => this.admin.getTask(queue, taskId));
  }

  deleteTask(queue: string, taskId: string): Promise<void> {
    return this.guard('deleteTask', () => this.admin.deleteTask(queue, taskId));
  }

  runTask(queue: string, taskId: string): Promise<void> {
    return this.guard('runTask', () => this.admin.runTask(queue, taskId));
  }

  archiveTask(queue: string, taskId: string): Promise<void> {
    return this.guard('archiveTask', () => this.admin.archiveTask(queue, taskId));
  }

  deleteAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.guard('deleteAllTasks', () => this.admin.deleteAllTasks(queue, state, group));
  }

  runAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.guard('runAllTasks', () => this.admin.runAllTasks(queue, state, group));
  }

  archiveAllTasks(queue: string, state: ListableState, group?: string): Promise<number> {
    return this.guard('archiveAllTasks', () => this.admin.archiveAllTasks(queue, state, group));
  }

  pauseQueue(queue: string): Promise<void> {
    return this.guard('pauseQueue', () => this.admin.pauseQueue(queue));
  }

  unpauseQueue(queue: string): Promise<void> {
    return this.guard('unpauseQueue', () => this.admin.unpauseQueue(queue));
  }

  removeQueue(queue: string, force: boolean): Promise<void> {
    return this.guard('removeQueue', () => this.admin.removeQueue(queue, force));
  }

  publishCancel(taskId: string): Promise<void> {
    return this.guard('publishCancel', () => this.admin.publishCancel(taskId));
  }

  listServers(): Promise<ServerSnapshot[]> {
    return this.guard('listServers', () => this.admin.listServers());
  }

  listSchedulerEntries(): Promise<SchedulerEntrySnapshot[]> {
    return this.guard('listSchedulerEntries', () => this.admin.listSchedulerEntries());
  }

  schedulerHistory(entryId: string, page: Page): Promise<SchedulerEnqueueEvent[]> {
    return this.guard('schedulerHistory', () => this.admin.schedulerHistory(entryId, page));
  }

  /** The Redis clock, version, mode and eviction policy (see redis-store-info.ts). */
  storeInfo(): Promise<StoreInfo> {
    return this.guard('storeInfo', () => readStoreInfo(this.context.connection));
  }

  /** The queue's partition is the Redis Cluster hash slot of its keys; the nodes serve it (none outside a cluster). */
  queueLocation(queue: string): Promise<QueueLocation> {
    return this.guard('queueLocation', () =>
      readQueueLocation(this.context.connection, this.context.keys.queue(queue).pending),
    );
  }

  // Flow control (@q extension)

  setFlowLimits(queue: string, limits: FlowLimitsUpdate): Promise<void> {
    return this.guard('setFlowLimits', () => this.flow.setFlowLimits(queue, limits));
  }

  clearFlowLimits(queue: string): Promise<void> {
    return this.guard('clearFlowLimits', () => this.flow.clearFlowLimits(queue));
  }

  flowState(queue: string): Promise<FlowState> {
    return this.guard('flowState', () => this.flow.flowState(queue));
  }

  pauseFlow(queue: string, duration: number, flowKey?: string): Promise<void> {
    return this.guard('pauseFlow', () => this.flow.pauseFlow(queue, duration, flowKey));
  }

  announceFlowSlot(queue: string): Promise<void> {
    return this.guard('announceFlowSlot', () => this.flow.announceFlowSlot(queue));
  }

  private async guard<Result>(operation: string, run: () => Promise<Result>): Promise<Result> {
    if (this.closing) {
      throw new ShutdownError(`The Redis broker is closed; ${operation} was refused. Create a new broker.`);
    }
    try {
      return await run();
    } catch (error) {
      throw toBrokerError(error, operation);
    }
  }

  private async closeConnections(): Promise<void> {
    await this.consumer.releaseHandedOver();
    await this.context.subscriber.close();
    if (!this.ownsConnection) return;
    await closeConnection(this.context.connection);
  }
}
