import type { QueueStats } from '@q/core';

/**
 * A queue at one instant (Asynq's `QueueInfo`): task counts per state, latency, memory, today's and
 * lifetime counters, paused. Durations are milliseconds.
 */
export interface QueueInfo {
  queue: string;
  /** Approximate bytes used by the queue's keys (sampled, as Asynq does). */
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
  /** When the figures were read. */
  timestamp: Date;
}

export function toQueueInfo(stats: QueueStats): QueueInfo {
  return { ...stats, timestamp: new Date(stats.timestamp) };
}
