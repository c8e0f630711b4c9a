/**
 * BullMQ in the bench, with its defaults except `removeOnComplete: true` (@q deletes a task when it
 * succeeds unless it has a retention; BullMQ keeps every completed job unless told otherwise). BullMQ
 * has no weighted queues: one `Worker` per queue, the concurrency split by weight, all in one process.
 */
import { performance } from 'node:perf_hooks';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import {
  benchPayload,
  paddedPayload,
  deferred,
  runWithConcurrency,
  sleep,
  taskType,
  type BenchSystem,
  type DrainOptions,
  type DrainTiming,
  type PickupOptions,
} from './bench-system';

const fillBatchSize = 1000;
const fillBatchesInFlight = 4;

export class BullmqSystem implements BenchSystem {
  private readonly connection: ConnectionOptions;
  private readonly queues = new Map<string, Queue>();

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
  }

  async enqueueEach(queue: string, count: number, inFlight: number): Promise<void> {
    const target = await this.queue(queue);
    await runWithConcurrency(count, inFlight, (index) => target.add(taskType, benchPayload(index)));
  }

  async enqueueBulk(queue: string, count: number, batchSize: number): Promise<void> {
    await this.enqueueBatches(await this.queue(queue), count, { batchSize, inFlight: 1 });
  }

  async fill(queues: readonly string[], perQueue: number, payloadBytes = 0): Promise<void> {
    for (const name of queues) {
      const queue = await this.queue(name);
      await this.enqueueBatches(queue, perQueue, {
        batchSize: fillBatchSize,
        inFlight: fillBatchesInFlight,
        payloadBytes,
      });
    }
  }

  async drain({ queues, perQueue, concurrency, concurrencyLimit }: DrainOptions): Promise<DrainTiming> {
    const names = Object.keys(queues);
    if (concurrencyLimit !== undefined) {
      for (const name of names) await (await this.queue(name)).setGlobalConcurrency(concurrencyLimit);
    }
    const total = names.length * perQueue;
    const weightSum = Object.values(queues).reduce((sum, weight) => sum + weight, 0);
    const queueFinishedMs: Record<string, number> = {};
    const allCompleted = deferred();
    let completed = 0;
    let startedAt = 0;
    const errors: Error[] = [];
    const workers = names.map((name) => {
      let handled = 0;
      const worker = new Worker(
        name,
        () => {
          if (++handled === perQueue) queueFinishedMs[name] = performance.now() - startedAt;
          return Promise.resolve();
        },
        {
          connection: this.connection,
          concurrency: Math.max(1, Math.round((concurrency * (queues[name] ?? 1)) / weightSum)),
          autorun: false,
        },
      );
      worker.on('completed', () => {
        if (++completed === total) allCompleted.resolve();
      });
      worker.on('error', (error) => errors.push(error));
      return worker;
    });
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));
    startedAt = performance.now();
    const running = workers.map((worker) => worker.run());
    await allCompleted.promise;
    const durationMs = performance.now() - startedAt;
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all(running);
    const [firstError] = errors;
    if (firstError) throw firstError;
    return { durationMs, queueFinishedMs };
  }

  async pickup({ samples, gapMs, concurrency }: PickupOptions): Promise<number[]> {
    const queue = await this.queue('default');
    let started = deferred<number>();
    const worker = new Worker(
      'default',
      () => {
        started.resolve(performance.now());
        return Promise.resolve();
      },
      { connection: this.connection, concurrency, autorun: false },
    );
    await worker.waitUntilReady();
    const running = worker.run();
    await sleep(300);
    const latencies: number[] = [];
    for (let index = 0; index < samples; index++) {
      started = deferred<number>();
      const enqueuedAt = performance.now();
      await queue.add(taskType, benchPayload(index));
      latencies.push((await started.promise) - enqueuedAt);
      await sleep(gapMs);
    }
    await worker.close();
    await running;
    return latencies;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }

  private async queue(name: string): Promise<Queue> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.connection,
        defaultJobOptions: { removeOnComplete: true },
      });
      this.queues.set(name, queue);
      await queue.waitUntilReady();
    }
    return queue;
  }

  private async enqueueBatches(
    queue: Queue,
    count: number,
    { batchSize, inFlight, payloadBytes = 0 }: { batchSize: number; inFlight: number; payloadBytes?: number },
  ): Promise<void> {
    const batches = Math.ceil(count / batchSize);
    await runWithConcurrency(batches, inFlight, async (batch) => {
      const first = batch * batchSize;
      const jobs = [];
      for (let index = first; index < Math.min(count, first + batchSize); index++) {
        jobs.push({ name: taskType, data: paddedPayload(index, payloadBytes) });
      }
      await queue.addBulk(jobs);
    });
  }
}
