/**
 * The broker on a three-master Redis Cluster: every script's keys share the queue's slot, batch
 * enqueues split by queue, and the conformance suite passes.
 */
import { testBroker } from '@q/broker-conformance';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisClusterHandle } from '../../../test/redis-cluster';
import { taskMessage, uniquePrefix } from '../test/redis-test-context';
import { createRedisBroker } from './create-redis-broker';

let cluster: RedisClusterHandle;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

function clusterBroker(prefix = uniquePrefix()) {
  return createRedisBroker({ cluster: { nodes: cluster.nodes }, prefix });
}

describe('Redis Cluster', () => {
  it('spreads queues over several slots and nodes', async () => {
    const reader = new Cluster(cluster.nodes);
    try {
      const slots = new Set<number>();
      for (const queue of ['a', 'b', 'c', 'd', 'e']) {
        slots.add(Number(await reader.cluster('KEYSLOT', `asynq:{${queue}}:pending`)));
      }
      expect(slots.size).toBeGreaterThan(1);
    } finally {
      reader.disconnect();
    }
  });

  it('enqueues, dequeues and finishes tasks of queues living on different nodes', async () => {
    const broker = clusterBroker();
    try {
      const queues = ['a', 'b', 'c', 'd', 'e'];
      for (const queue of queues) {
        await broker.enqueue({ message: taskMessage({ queue }) });
        await broker.enqueue({ message: taskMessage({ queue }), uniqueTtl: 60_000 });
        await broker.enqueue({ message: taskMessage({ queue }), processAt: Date.now() + 1000 });
        await broker.enqueue({ message: taskMessage({ queue, groupKey: 'g' }) });
      }
      expect((await broker.listQueues()).sort()).toEqual(queues);
      const { tasks } = await broker.dequeue(queues, { count: 100, leaseDuration: 30_000 });
      expect(tasks).toHaveLength(10);
      for (const [index, task] of tasks.entries()) {
        if (index % 3 === 0) await broker.done(task.message);
        else if (index % 3 === 1)
          await broker.retry(task.message, { processAt: Date.now(), errorMessage: 'x', isFailure: true });
        else await broker.archive(task.message, 'x');
      }
      expect(await broker.forward(queues, Date.now() + 5000)).toBe(5 + 3);
      const stats = await broker.queueStats('a', Date.now());
      expect(stats.processedToday).toBe(2);
      expect(stats.memoryUsage).toBeGreaterThan(0);
      expect((await broker.listTasks('a', 'pending', {})).length).toBeGreaterThan(0);
    } finally {
      await broker.close();
    }
  });

  it('enqueues many tasks over several queues, and an atomic batch within one', async () => {
    const broker = clusterBroker();
    try {
      const results = await broker.enqueueMany(
        ['a', 'b', 'c', 'a', 'b', 'c'].map((queue) => ({ message: taskMessage({ queue }) })),
      );
      expect(results.every((result) => result.ok)).toBe(true);
      const taken = taskMessage({ queue: 'b' });
      await broker.enqueue({ message: taken });
      const refused = await broker.enqueueMany(
        [{ message: taskMessage({ queue: 'b' }) }, { message: { ...taken } }],
        {
          atomic: true,
        },
      );
      expect(refused.map((result) => result.ok)).toEqual([false, false]);
      const written = await broker.enqueueMany(
        [
          { message: taskMessage({ queue: 'b' }) },
          { message: taskMessage({ queue: 'b' }), uniqueTtl: 60_000 },
        ],
        { atomic: true },
      );
      expect(written.map((result) => result.ok)).toEqual([true, true]);
      expect((await broker.queueStats('b', Date.now())).pending).toBe(5);
    } finally {
      await broker.close();
    }
  });

  it('reports itself partitioned, and the partition and nodes of each queue', async () => {
    const broker = clusterBroker();
    try {
      expect((await broker.storeInfo()).mode).toBe('partitioned');
      const location = await broker.queueLocation('a');
      expect(location.partition).toBeGreaterThanOrEqual(0);
      expect(location.partition).toBeLessThan(16384);
      expect(location.nodes.length).toBeGreaterThan(0);
    } finally {
      await broker.close();
    }
  });

  it('wakes waiting consumers and delivers cancellations through cluster pub/sub', async () => {
    const broker = clusterBroker();
    try {
      const waiting = broker.waitForTasks(['c'], 10_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await broker.enqueue({ message: taskMessage({ queue: 'c' }) });
      expect(await waiting).toBe(true);
      const received: string[] = [];
      const unsubscribe = await broker.subscribeCancel((taskId) => received.push(taskId));
      await broker.publishCancel('t-1');
      await expect.poll(() => received).toEqual(['t-1']);
      await unsubscribe();
    } finally {
      await broker.close();
    }
  });
});

testBroker({ name: 'redis cluster', createBroker: () => clusterBroker() });
