/**
 * The floor: what the same Redis allows when a client does only the bare minimum per task, in tight
 * pipelined loops, with no queue library. A task is a hash holding its payload plus its id in a list:
 *
 * - enqueue: `HSET t:<id> msg <payload>` and `LPUSH pending <id>`;
 * - work: `LMOVE pending active` (take), `HGET t:<id> msg` (read), then `LREM active <id>` and
 *   `DEL t:<id>` (acknowledge), in three pipelined round trips per batch;
 * - pickup: a client blocked in `BLMOVE` wakes on the `LPUSH` and reads the payload.
 *
 * Throughput is measured in batches of 1000 tasks per pipeline whatever the scenario's concurrency or
 * calls in flight: the floor is what Redis allows, not what one call at a time gets. No retries, leases,
 * counters, events or notification: a real queue does more, so this bounds it.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import {
  benchPayload,
  paddedPayload,
  deferred,
  sleep,
  type BenchSystem,
  type DrainOptions,
  type DrainTiming,
  type PickupOptions,
} from './bench-system';

/** Tasks per pipeline. */
const batchSize = 1000;

function keys(queue: string) {
  return {
    pending: `floor:{${queue}}:pending`,
    active: `floor:{${queue}}:active`,
    task: (id: string) => `floor:{${queue}}:t:${id}`,
  };
}

export class RedisFloorSystem implements BenchSystem {
  private readonly connection: Redis;
  private nextId = 0;

  constructor(private readonly url: string) {
    this.connection = new Redis(url);
  }

  async enqueueEach(queue: string, count: number): Promise<void> {
    await this.enqueueBulk(queue, count);
  }

  async enqueueBulk(queue: string, count: number, payloadBytes = 0): Promise<void> {
    const queueKeys = keys(queue);
    for (let first = 0; first < count; first += batchSize) {
      const pipeline = this.connection.pipeline();
      for (let index = first; index < Math.min(count, first + batchSize); index++) {
        const id = String(this.nextId++);
        pipeline.hset(queueKeys.task(id), 'msg', JSON.stringify(paddedPayload(index, payloadBytes)));
        pipeline.lpush(queueKeys.pending, id);
      }
      await pipeline.exec();
    }
  }

  async fill(queues: readonly string[], perQueue: number, payloadBytes = 0): Promise<void> {
    for (const queue of queues) await this.enqueueBulk(queue, perQueue, payloadBytes);
  }

  async drain({ queues }: DrainOptions): Promise<DrainTiming> {
    const startedAt = performance.now();
    const queueFinishedMs: Record<string, number> = {};
    for (const queue of Object.keys(queues)) {
      const queueKeys = keys(queue);
      for (;;) {
        const take = this.connection.pipeline();
        for (let slot = 0; slot < batchSize; slot++) {
          take.lmove(queueKeys.pending, queueKeys.active, 'RIGHT', 'LEFT');
        }
        const ids = ((await take.exec()) ?? [])
          .map(([, id]) => id)
          .filter((id): id is string => typeof id === 'string');
        if (ids.length === 0) break;
        const read = this.connection.pipeline();
        for (const id of ids) read.hget(queueKeys.task(id), 'msg');
        await read.exec();
        const acknowledge = this.connection.pipeline();
        // Oldest first from the tail: each LREM finds its id at once.
        for (const id of ids) acknowledge.lrem(queueKeys.active, -1, id).del(queueKeys.task(id));
        await acknowledge.exec();
        if (ids.length < batchSize) break;
      }
      queueFinishedMs[queue] = performance.now() - startedAt;
    }
    return { durationMs: performance.now() - startedAt, queueFinishedMs };
  }

  async pickup({ samples, gapMs }: PickupOptions): Promise<number[]> {
    const queueKeys = keys('default');
    const consumer = new Redis(this.url);
    let started = deferred<number>();
    let stopping = false;
    const consuming = (async () => {
      while (!stopping) {
        const id = await consumer.blmove(queueKeys.pending, queueKeys.active, 'RIGHT', 'LEFT', 0.2);
        if (id === null) continue;
        await consumer.hget(queueKeys.task(id), 'msg');
        started.resolve(performance.now());
        await consumer.pipeline().lrem(queueKeys.active, 1, id).del(queueKeys.task(id)).exec();
      }
    })();
    await sleep(300);
    const latencies: number[] = [];
    for (let index = 0; index < samples; index++) {
      started = deferred<number>();
      const id = String(this.nextId++);
      const enqueuedAt = performance.now();
      await this.connection
        .pipeline()
        .hset(queueKeys.task(id), 'msg', JSON.stringify(benchPayload(index)))
        .lpush(queueKeys.pending, id)
        .exec();
      latencies.push((await started.promise) - enqueuedAt);
      await sleep(gapMs);
    }
    stopping = true;
    await consuming;
    await consumer.quit();
    return latencies;
  }

  async close(): Promise<void> {
    await this.connection.quit();
  }
}
