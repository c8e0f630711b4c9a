/** `GroupStore` in memory: groups, aggregation sets, and sets reclaimed when their aggregator died. */
import { type AggregationCheckOptions, type AggregationSet, type GroupStore } from '@q/core';
import { compareText, copyMessage } from './memory-queue';
import { aggregationTimeout, invalid, type MemoryStore, setKey } from './memory-store';

export class MemoryGroupStore implements GroupStore {
  constructor(private readonly store: MemoryStore) {}

  listGroups(queue: string): Promise<string[]> {
    return this.store.run('listGroups', () =>
      [...(this.store.queues.get(queue)?.groups.keys() ?? [])].sort(compareText),
    );
  }

  aggregationCheck(
    queue: string,
    group: string,
    options: AggregationCheckOptions,
  ): Promise<string | undefined> {
    return this.store.run('aggregationCheck', () => {
      if (!options.setId) {
        throw invalid('options.setId', 'aggregationCheck needs a setId for the new aggregation set.');
      }
      const found = this.store.queues.get(queue);
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
    return this.store.run('readAggregationSet', () => {
      const found = this.store.queues.get(queue);
      const set = found?.aggregationSets.get(setKey(group, setId));
      const messages = (set?.taskIds ?? []).flatMap((id) => {
        const record = found!.tasks.get(id);
        return record ? [copyMessage(record.message)] : [];
      });
      return { messages };
    });
  }

  deleteAggregationSet(queue: string, group: string, setId: string): Promise<void> {
    return this.store.run('deleteAggregationSet', () => {
      const found = this.store.queues.get(queue);
      const key = setKey(group, setId);
      const set = found?.aggregationSets.get(key);
      if (!found || !set) return;
      for (const id of set.taskIds) found.tasks.delete(id);
      found.aggregationSets.delete(key);
    });
  }

  reclaimStaleAggregationSets(queue: string, now: number): Promise<void> {
    return this.store.run('reclaimStaleAggregationSets', () => {
      const found = this.store.queues.get(queue);
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
}
