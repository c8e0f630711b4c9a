/**
 * Queue figures over time, kept in the browser while the dashboard is open: every refresh of the queues
 * adds a sample, so the charts grow live (the store keeps only today's and daily counters).
 */
import type { QueueSummary } from '../api-types';

export interface Sample {
  /** Unix seconds. */
  time: number;
  active: number;
  pending: number;
  scheduled: number;
  retry: number;
  archived: number;
  completed: number;
  aggregating: number;
  processedTotal: number;
  failedTotal: number;
}

const keep = 600;
const byKey = new Map<string, Sample[]>();

export const sampleStates = [
  'active',
  'pending',
  'scheduled',
  'retry',
  'archived',
  'completed',
  'aggregating',
] as const;

/** Adds one sample under `key` (a queue name, or `*` for all queues together) from the figures read. */
export function recordSample(key: string, queues: QueueSummary[]): Sample[] {
  const timestamps = queues.map((queue) => new Date(queue.timestamp).getTime());
  const time = (timestamps.length > 0 ? Math.max(...timestamps) : Date.now()) / 1000;
  const sample: Sample = {
    time,
    active: 0,
    pending: 0,
    scheduled: 0,
    retry: 0,
    archived: 0,
    completed: 0,
    aggregating: 0,
    processedTotal: 0,
    failedTotal: 0,
  };
  for (const queue of queues) {
    for (const state of sampleStates) sample[state] += queue[state];
    sample.processedTotal += queue.processedTotal;
    sample.failedTotal += queue.failedTotal;
  }
  const samples = byKey.get(key) ?? [];
  const last = samples.at(-1);
  if (!last || last.time < sample.time) samples.push(sample);
  if (samples.length > keep) samples.splice(0, samples.length - keep);
  byKey.set(key, samples);
  return samples;
}
