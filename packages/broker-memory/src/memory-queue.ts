/**
 * One queue's records in memory: every task by id with its state, the pending order, groups and
 * aggregation sets, the paused flag and the counters. The broker keeps one per queue name.
 */
import type { TaskMessage, TaskState } from '@q/core';

export interface TaskRecord {
  message: TaskMessage;
  state: TaskState;
  /** Bytes the handler wrote with `writeResult`. */
  result?: Uint8Array;
  /** Scheduled and retry tasks: when they are due. */
  processAt?: number;
  /** Pending tasks: since when they wait (for the queue's latency). */
  pendingSince?: number;
  /** Active tasks: when the lease ends, and the token that names it. */
  leaseExpiresAt?: number;
  leaseToken?: string;
  /** Completed tasks: when their retention ends. */
  retainedUntil?: number;
  /** Archived tasks: when they were archived. */
  archivedAt?: number;
  /** Aggregating tasks: when they joined their group. */
  groupedAt?: number;
  /** Whether the task ever joined its group: only then does the forwarder return it there. */
  joinedGroup?: boolean;
}

export interface AggregationSetRecord {
  group: string;
  taskIds: string[];
  /** When the set goes back to its group unless deleted first (its aggregator is presumed dead). */
  reclaimAt: number;
}

export interface DailyCount {
  processed: number;
  failed: number;
}

export class MemoryQueue {
  readonly tasks = new Map<string, TaskRecord>();
  /** Pending ids, the next to be taken first. */
  pending: string[] = [];
  /** Active ids, in the order they were taken. */
  readonly active = new Set<string>();
  /** Group name to the ids waiting in it, in the order they joined. */
  readonly groups = new Map<string, Set<string>>();
  /** `group` + NUL + set id to the set. */
  readonly aggregationSets = new Map<string, AggregationSetRecord>();
  paused = false;
  processedTotal = 0;
  failedTotal = 0;
  /** `YYYY-MM-DD` (UTC) to that day's counts. */
  readonly daily = new Map<string, DailyCount>();

  constructor(readonly name: string) {}

  /** Records in `state`, in the order a listing shows them. */
  inState(state: TaskState, group?: string): TaskRecord[] {
    if (state === 'pending') return this.pending.map((id) => this.tasks.get(id)!);
    if (state === 'active') return [...this.active].map((id) => this.tasks.get(id)!);
    if (state === 'aggregating') {
      const ids = group === undefined ? [] : [...(this.groups.get(group) ?? [])];
      return ids.map((id) => this.tasks.get(id)!);
    }
    const records = [...this.tasks.values()].filter((record) => record.state === state);
    const score = (record: TaskRecord): number => {
      if (state === 'scheduled' || state === 'retry') return record.processAt ?? 0;
      if (state === 'archived') return record.archivedAt ?? 0;
      if (state === 'completed') return record.retainedUntil ?? 0;
      return 0;
    };
    return records.sort(
      (left, right) => score(left) - score(right) || compareText(left.message.id, right.message.id),
    );
  }

  /** Removes the task from whatever holds it by state (pending order, group); keeps its record. */
  detach(record: TaskRecord): void {
    const { id } = record.message;
    if (record.state === 'pending') {
      const index = this.pending.indexOf(id);
      if (index >= 0) this.pending.splice(index, 1);
    } else if (record.state === 'aggregating') {
      const group = this.groups.get(record.message.groupKey);
      group?.delete(id);
      if (group?.size === 0) this.groups.delete(record.message.groupKey);
    } else if (record.state === 'active') {
      this.active.delete(id);
    }
    delete record.processAt;
    delete record.pendingSince;
    delete record.leaseExpiresAt;
    delete record.leaseToken;
    delete record.retainedUntil;
    delete record.archivedAt;
    delete record.groupedAt;
  }

  addToGroup(record: TaskRecord, now: number): void {
    const name = record.message.groupKey;
    const group = this.groups.get(name) ?? new Set<string>();
    group.add(record.message.id);
    this.groups.set(name, group);
    record.state = 'aggregating';
    record.groupedAt = now;
    record.joinedGroup = true;
  }

  count(day: string, failed: boolean): void {
    const counts = this.daily.get(day) ?? { processed: 0, failed: 0 };
    counts.processed += 1;
    this.processedTotal = this.processedTotal >= Number.MAX_SAFE_INTEGER ? 1 : this.processedTotal + 1;
    if (failed) {
      counts.failed += 1;
      this.failedTotal = this.failedTotal >= Number.MAX_SAFE_INTEGER ? 1 : this.failedTotal + 1;
    }
    this.daily.set(day, counts);
  }
}

export function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

/** A copy the caller can change without changing what the broker holds. */
export function copyMessage(message: TaskMessage): TaskMessage {
  return { ...message, payload: message.payload.slice(), headers: { ...message.headers } };
}

/** `YYYY-MM-DD` of a Unix millisecond time, UTC (the day Asynq's daily counters belong to). */
export function utcDate(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}
