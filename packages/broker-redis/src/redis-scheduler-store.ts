/** `SchedulerStore` on Redis: a scheduler's published entries and each entry's enqueue history. */
import type { SchedulerEnqueueEvent, SchedulerEntryState, SchedulerIdentity, SchedulerStore } from '@q/core';
import { maxSchedulerEvents } from './asynq-constants';
import type { RedisBrokerContext } from './redis-broker-context';
import { runScript } from './redis-scripts';
import { encodeSchedulerEnqueueEvent, encodeSchedulerEntry } from './scheduler-entry-codec';
import { toUnixSeconds, toWholeSeconds } from './unix-time';

/** The writes of `SchedulerStore`; `schedulerHistory` is read by `RedisQueueAdmin` with the other reads. */
export class RedisSchedulerStore implements Omit<SchedulerStore, 'schedulerHistory'> {
  constructor(private readonly context: RedisBrokerContext) {}

  async writeSchedulerEntries(
    scheduler: SchedulerIdentity,
    entries: readonly SchedulerEntryState[],
    ttl: number,
  ): Promise<void> {
    const { keys, connection } = this.context;
    const entriesKey = keys.schedulerEntries(toIdentity(scheduler));
    await Promise.all([
      connection.zadd(keys.schedulers, toUnixSeconds(this.context.now() + ttl), entriesKey),
      runScript(connection, {
        script: 'write-scheduler-entries',
        keys: [entriesKey],
        args: [toWholeSeconds(ttl), ...entries.map(encodeSchedulerEntry)],
      }),
    ]);
  }

  async clearSchedulerEntries(scheduler: SchedulerIdentity): Promise<void> {
    const { keys, connection } = this.context;
    const entriesKey = keys.schedulerEntries(toIdentity(scheduler));
    // Two keys in different cluster slots: two commands, as in Asynq.
    await Promise.all([connection.zrem(keys.schedulers, entriesKey), connection.del(entriesKey)]);
  }

  async recordSchedulerEnqueue(entryId: string, event: SchedulerEnqueueEvent): Promise<void> {
    await runScript(this.context.connection, {
      script: 'record-scheduler-enqueue-event',
      keys: [this.context.keys.schedulerHistory(entryId)],
      args: [toUnixSeconds(event.enqueuedAt), encodeSchedulerEnqueueEvent(event), maxSchedulerEvents],
    });
  }
}

function toIdentity(scheduler: SchedulerIdentity) {
  return { host: scheduler.host, pid: scheduler.pid, id: scheduler.schedulerId };
}
