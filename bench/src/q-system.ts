/** @q in the bench: `Client` to enqueue, one `Server` to process, on a broker with default options. */
import { performance } from 'node:perf_hooks';
import { createRedisBroker, type RedisBroker } from '@q/broker-redis';
import { Client, type TaskToEnqueue } from '@q/client';
import { Server } from '@q/server';
import { Redis } from 'ioredis';
import {
  benchPayload,
  paddedPayload,
  deferred,
  runWithConcurrency,
  sleep,
  taskType,
  waitUntil,
  type BenchSystem,
  type DrainOptions,
  type DrainTiming,
  type PickupOptions,
} from './bench-system';

/** Asynq's key prefix, the broker's default. */
const prefix = 'asynq';
const fillBatchSize = 1000;
const fillBatchesInFlight = 4;

export class QSystem implements BenchSystem {
  private readonly broker: RedisBroker;
  private readonly client: Client;
  /** A connection of the bench's own, to see when the worker has acknowledged everything. */
  private readonly observer: Redis;

  constructor(url: string) {
    this.broker = createRedisBroker({ url, prefix });
    this.client = new Client({ broker: this.broker });
    this.observer = new Redis(url);
  }

  async enqueueEach(queue: string, count: number, inFlight: number): Promise<void> {
    await this.broker.ping();
    await runWithConcurrency(count, inFlight, (index) =>
      this.client.enqueue(taskType, benchPayload(index), { queue }),
    );
  }

  async enqueueBulk(queue: string, count: number, batchSize: number): Promise<void> {
    await this.broker.ping();
    await this.enqueueBatches(queue, count, { batchSize, inFlight: 1 });
  }

  async fill(queues: readonly string[], perQueue: number, payloadBytes = 0): Promise<void> {
    for (const queue of queues) {
      await this.enqueueBatches(queue, perQueue, {
        batchSize: fillBatchSize,
        inFlight: fillBatchesInFlight,
        payloadBytes,
      });
    }
  }

  async drain({ queues, perQueue, concurrency, concurrencyLimit }: DrainOptions): Promise<DrainTiming> {
    await this.broker.ping();
    const names = Object.keys(queues);
    if (concurrencyLimit !== undefined) {
      for (const name of names) await this.broker.setFlowLimits(name, { concurrency: concurrencyLimit });
    }
    const total = names.length * perQueue;
    const handled = new Map(names.map((name) => [name, 0]));
    const queueFinishedMs: Record<string, number> = {};
    const allHandled = deferred();
    let count = 0;
    const server = new Server({ broker: this.broker, concurrency, queues });
    const startedAt = performance.now();
    await server.start((task) => {
      const done = (handled.get(task.queue) ?? 0) + 1;
      handled.set(task.queue, done);
      if (done === perQueue) queueFinishedMs[task.queue] = performance.now() - startedAt;
      if (++count === total) allHandled.resolve();
    });
    await allHandled.promise;
    await waitUntil(async () => {
      const active = await Promise.all(names.map((name) => this.observer.llen(`${prefix}:{${name}}:active`)));
      return active.every((length) => length === 0);
    });
    const durationMs = performance.now() - startedAt;
    await server.shutdown();
    return { durationMs, queueFinishedMs };
  }

  async pickup({ samples, gapMs, concurrency }: PickupOptions): Promise<number[]> {
    await this.broker.ping();
    let started = deferred<number>();
    const server = new Server({ broker: this.broker, concurrency, queues: { default: 1 } });
    await server.start(() => started.resolve(performance.now()));
    // Let the fetch loop find the queue empty and go to sleep waiting for work.
    await sleep(300);
    const latencies: number[] = [];
    for (let index = 0; index < samples; index++) {
      started = deferred<number>();
      const enqueuedAt = performance.now();
      await this.client.enqueue(taskType, benchPayload(index), { queue: 'default' });
      latencies.push((await started.promise) - enqueuedAt);
      await sleep(gapMs);
    }
    await server.shutdown();
    return latencies;
  }

  async close(): Promise<void> {
    await this.broker.close();
    await this.observer.quit();
  }

  private async enqueueBatches(
    queue: string,
    count: number,
    { batchSize, inFlight, payloadBytes = 0 }: { batchSize: number; inFlight: number; payloadBytes?: number },
  ): Promise<void> {
    const batches = Math.ceil(count / batchSize);
    await runWithConcurrency(batches, inFlight, async (batch) => {
      const first = batch * batchSize;
      const tasks: TaskToEnqueue[] = [];
      for (let index = first; index < Math.min(count, first + batchSize); index++) {
        tasks.push({ type: taskType, payload: paddedPayload(index, payloadBytes), options: { queue } });
      }
      const outcomes = await this.client.enqueueMany(tasks);
      const failed = outcomes.find((outcome) => !outcome.ok);
      if (failed && !failed.ok) throw failed.error;
    });
  }
}
