/**
 * A scheduler's broker in memory, for the tests of timing decisions on fake time: the tasks it was given,
 * each entry's enqueue history, and every set of entries published.
 */
import {
  TaskIdConflictError,
  type EnqueueRequest,
  type SchedulerEnqueueEvent,
  type SchedulerEntryState,
  type TaskMessage,
} from '@q/core';
import type { SchedulerBroker } from '../src/scheduler';

export function memoryBroker() {
  const tasks = new Map<string, TaskMessage>();
  const history = new Map<string, SchedulerEnqueueEvent[]>();
  const published: SchedulerEntryState[][] = [];
  const broker: SchedulerBroker = {
    enqueue(request: EnqueueRequest) {
      const { message } = request;
      if (tasks.has(message.id)) return Promise.reject(new TaskIdConflictError(message.queue, message.id));
      tasks.set(message.id, message);
      return Promise.resolve({ message, state: 'pending', nextProcessAt: Date.now() });
    },
    enqueueMany: () => Promise.reject(new Error('not used')),
    writeSchedulerEntries: (_scheduler, entries) => {
      published.push([...entries]);
      return Promise.resolve();
    },
    clearSchedulerEntries: () => Promise.resolve(),
    recordSchedulerEnqueue: (entryId, event) => {
      history.set(entryId, [event, ...(history.get(entryId) ?? [])]);
      return Promise.resolve();
    },
    schedulerHistory: (entryId) => Promise.resolve(history.get(entryId) ?? []),
  };
  return { broker, tasks, history, published };
}
