import type { QueueStats } from '@q/core';
import type { QueueLimitsInfo } from './queue-limits';

/**
 * A queue at one instant (Asynq's `QueueInfo`): the broker's `QueueStats` (task counts per state,
 * latency, memory, today's and lifetime counters, paused; durations in milliseconds), read at `timestamp`.
 */
export interface QueueInfo extends Omit<QueueStats, 'timestamp'> {
  /** When the figures were read. */
  timestamp: Date;
  /**
   * The queue's flow limits (concurrency, rate) and usage, when it has any and the broker has flow
   * control. Go Asynq servers do not obey them.
   */
  limits?: QueueLimitsInfo;
}

export function toQueueInfo(stats: QueueStats): QueueInfo {
  return { ...stats, timestamp: new Date(stats.timestamp) };
}
