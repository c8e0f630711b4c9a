/**
 * The memory broker (which passes the conformance suite) as a scheduler's broker, for the tests of timing
 * decisions on fake time, with a record of the tasks it took and every set of entries published. Its clock
 * is the system clock, which vitest's fake timers move.
 */
import { createMemoryBroker } from '@q/broker-memory';
import type { SchedulerEntryState, TaskMessage } from '@q/core';
import type { SchedulerBroker } from '../src/scheduler';

export function memoryBroker() {
  const inner = createMemoryBroker();
  const tasks = new Map<string, TaskMessage>();
  const published: SchedulerEntryState[][] = [];
  const broker: SchedulerBroker = {
    async enqueue(request) {
      const result = await inner.enqueue(request);
      tasks.set(result.message.id, result.message);
      return result;
    },
    enqueueMany: (requests, options) => inner.enqueueMany(requests, options),
    writeSchedulerEntries: (scheduler, entries, ttl) => {
      published.push([...entries]);
      return inner.writeSchedulerEntries(scheduler, entries, ttl);
    },
    clearSchedulerEntries: (scheduler) => inner.clearSchedulerEntries(scheduler),
    recordSchedulerEnqueue: (entryId, event) => inner.recordSchedulerEnqueue(entryId, event),
    schedulerHistory: (entryId, page) => inner.schedulerHistory(entryId, page),
  };
  return { broker, tasks, published };
}
