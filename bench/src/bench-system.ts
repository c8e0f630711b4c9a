/**
 * The operations every compared system implements, so that a scenario is written once and run against
 * @q, BullMQ and the bare-Redis floor alike.
 */

export interface DrainOptions {
  /** Queue names and their weights. */
  queues: Record<string, number>;
  /** Tasks per queue, already pending when the worker starts. */
  perQueue: number;
  concurrency: number;
  /**
   * A queue concurrency limit held in Redis for every worker (@q `setFlowLimits`, BullMQ
   * `setGlobalConcurrency`); absent: no limit.
   */
  concurrencyLimit?: number;
}

export interface DrainTiming {
  /** From worker start until every task was finished (acknowledged in Redis). */
  durationMs: number;
  /** Per queue: milliseconds from worker start until its last task's handler ran. */
  queueFinishedMs: Record<string, number>;
}

export interface PickupOptions {
  samples: number;
  /** Pause after each task so that the worker is idle again when the next one is enqueued. */
  gapMs: number;
  concurrency: number;
}

export interface BenchSystem {
  /** Enqueues `count` tasks to `queue` one call per task with `inFlight` calls outstanding. */
  enqueueEach(queue: string, count: number, inFlight: number): Promise<void>;
  /** Enqueues `count` tasks to `queue` in batches of `batchSize`, one batch at a time. */
  enqueueBulk(queue: string, count: number, batchSize: number): Promise<void>;
  /** Prepares pending tasks as fast as it can, with payloads of about `payloadBytes` (0: the small one). */
  fill(queues: readonly string[], perQueue: number, payloadBytes?: number): Promise<void>;
  /** Starts one worker on the filled queues and times it until everything is finished. */
  drain(options: DrainOptions): Promise<DrainTiming>;
  /** Milliseconds from the enqueue call until the handler started, one per sample. */
  pickup(options: PickupOptions): Promise<number[]>;
  close(): Promise<void>;
}

/** The task type every system enqueues. */
export const taskType = 'bench:noop';

/** The task's payload: small and realistic (about 60 bytes of JSON), the same for every system. */
export function benchPayload(index: number): { userId: number; email: string; plan: string } {
  return { userId: index, email: `user-${index}@example.com`, plan: 'pro' };
}

/** A payload padded with a `note` to about `bytes` bytes of JSON (the small one when `bytes` is 0). */
export function paddedPayload(index: number, bytes: number): Record<string, unknown> {
  const payload = benchPayload(index);
  const missing = bytes - JSON.stringify(payload).length - ',"note":""'.length;
  return missing > 0 ? { ...payload, note: 'x'.repeat(missing) } : payload;
}

/** Resolves once `predicate()` is true, checking every `intervalMs`. */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, intervalMs = 1): Promise<void> {
  while (!(await predicate())) await sleep(intervalMs);
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Runs `task(index)` for every index below `count`, with at most `inFlight` running at once. */
export async function runWithConcurrency(
  count: number,
  inFlight: number,
  task: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

/** A promise with its resolve function, for "the last task finished". */
export function deferred<Value = void>(): { promise: Promise<Value>; resolve: (value: Value) => void } {
  let resolve: (value: Value) => void = () => undefined;
  const promise = new Promise<Value>((settle) => (resolve = settle));
  return { promise, resolve };
}
