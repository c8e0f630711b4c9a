/** `SchedulerStore` in memory: published scheduler entries and each entry's enqueue history. */
import {
  type Page,
  type SchedulerEnqueueEvent,
  type SchedulerEntryState,
  type SchedulerIdentity,
  type SchedulerStore,
} from '@q/core';

import {
  maxSchedulerEvents,
  assertPositive,
  pageRange,
  type MemoryStore,
  schedulerKey,
} from './memory-store';

export class MemorySchedulerStore implements SchedulerStore {
  constructor(private readonly store: MemoryStore) {}

  writeSchedulerEntries(
    scheduler: SchedulerIdentity,
    entries: readonly SchedulerEntryState[],
    ttl: number,
  ): Promise<void> {
    return this.store.run('writeSchedulerEntries', () => {
      assertPositive(ttl, 'ttl');
      this.store.schedulers.set(schedulerKey(scheduler), {
        scheduler: { ...scheduler },
        entries: entries.map((entry) => structuredClone(entry)),
        expiresAt: this.store.clock.now() + ttl,
      });
    });
  }

  clearSchedulerEntries(scheduler: SchedulerIdentity): Promise<void> {
    return this.store.run('clearSchedulerEntries', () => {
      this.store.schedulers.delete(schedulerKey(scheduler));
    });
  }

  recordSchedulerEnqueue(entryId: string, event: SchedulerEnqueueEvent): Promise<void> {
    return this.store.run('recordSchedulerEnqueue', () => {
      const events = this.store.schedulerEvents.get(entryId) ?? [];
      events.push({ ...event });
      events.sort((left, right) => right.enqueuedAt - left.enqueuedAt);
      events.length = Math.min(events.length, maxSchedulerEvents);
      this.store.schedulerEvents.set(entryId, events);
    });
  }

  schedulerHistory(entryId: string, page: Page): Promise<SchedulerEnqueueEvent[]> {
    return this.store.run('schedulerHistory', () => {
      const { start, end } = pageRange(page);
      return (this.store.schedulerEvents.get(entryId) ?? []).slice(start, end).map((event) => ({ ...event }));
    });
  }
}
