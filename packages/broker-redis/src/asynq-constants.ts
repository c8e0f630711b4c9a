/** Asynq's fixed limits and periods (hibiken/asynq's internal/rdb package), which the layout depends on. */
import { dayMilliseconds } from './unix-time';

/** How long daily counters live after their first increment. */
export const statsTtlMilliseconds = 90 * dayMilliseconds;
/** The archive keeps at most this many tasks minus one (trimmed by rank -10000). */
export const maxArchiveSize = 10_000;
/** Archived tasks older than this are trimmed. */
export const archiveRetentionMilliseconds = 90 * dayMilliseconds;
/** Counters wrap to 1 at this value instead of overflowing INCR. */
export const maxInt64 = '9223372036854775807';
/** An aggregation set not deleted within this is returned to its group. */
export const aggregationTimeoutMilliseconds = 2 * 60 * 1000;
/** Ids the forwarder moves per script call. */
export const forwardBatchSize = 100;
/** Events kept per scheduler entry. */
export const maxSchedulerEvents = 1000;
/** Task records sampled per key for memory usage. */
export const memoryTaskSampleSize = 20;
/** Groups sampled for memory usage. */
export const memoryGroupSampleSize = 5;
