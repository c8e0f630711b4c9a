/**
 * What one measurement is asked to do and what it reports. A measurement runs in a child process of its
 * own (one worker process, a fresh heap and JIT), against the bench's redis-server, for one system.
 */

/** The queue implementations compared, and the bare-Redis floor. */
export type SystemName = 'q' | 'bullmq' | 'floor';

export const systemNames: readonly SystemName[] = ['q', 'bullmq', 'floor'];

export type MeasurementRequest =
  /** Enqueue `count` tasks one call per task, keeping `inFlight` calls outstanding. */
  | { kind: 'enqueue-each'; count: number; inFlight: number }
  /** Enqueue `count` tasks in calls of `batchSize` (`enqueueMany`, `addBulk`), one call at a time. */
  | { kind: 'enqueue-bulk'; count: number; batchSize: number }
  /**
   * Fill each queue with `perQueue` pending no-op tasks, then time one worker process with `concurrency`
   * slots from start until every task is finished. `queues` maps queue names to weights.
   */
  | {
      kind: 'drain';
      queues: Record<string, number>;
      perQueue: number;
      concurrency: number;
      /** A queue concurrency limit held in Redis (flow control); absent: none. */
      concurrencyLimit?: number;
    }
  /** On an idle worker, enqueue one task at a time and time enqueue call to handler start. */
  | { kind: 'pickup'; samples: number; gapMs: number; concurrency: number }
  /** Redis memory used by `count` pending tasks with payloads of about `payloadBytes` (0: the small one). */
  | { kind: 'memory'; count: number; payloadBytes: number };

export type MeasurementKind = MeasurementRequest['kind'];

/** What Redis did during the timed part of a measurement (INFO cpu and commandstats, SLOWLOG). */
export interface RedisActivity {
  /** CPU time of the redis-server process (user + system) per task, in microseconds. */
  cpuUsecPerTask: number;
  /** Commands per task, every command together (a script and each command it runs count apart). */
  callsPerTask: number;
  /**
   * Per command, per task: calls and microseconds inside it (a script's time includes its commands').
   * Only the bench's own commands (INFO, CONFIG, SLOWLOG, MEMORY, FLUSHALL) are left out.
   */
  commands: Record<string, { callsPerTask: number; usecPerTask: number }>;
  /** The slowest entries of SLOWLOG (commands slower than 1 ms), slowest first. */
  slowlog: { usec: number; command: string }[];
}

export interface MeasurementResult {
  /** The figures, by metric name (see scenarios.ts for names and units). */
  metrics: Record<string, number>;
  /** Extra detail kept in the JSON only (per-queue finish times, sample counts). */
  details?: Record<string, unknown>;
  redis?: RedisActivity;
}
