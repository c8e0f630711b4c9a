/**
 * Lifecycle against a real redis-server: quiet and resume, shutdown with hung handlers, shutdown and
 * processing while Redis is down. Tests that stop Redis start a redis-server of their own.
 */
import type { DequeueOptions, DequeueResult } from '@q/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../../../test/redis-server';
import { timingAllowanceMs } from '../../../test/timing-allowance';
import type { ServerBroker } from '../src/server-options';
import { createHarness, queueName } from './harness';
import { memoryLogger } from './memory-logger';
import { deferred, delay, waitFor } from './wait-for';

const ownRedisServers: RedisServerHandle[] = [];

afterEach(async () => {
  await Promise.all(ownRedisServers.splice(0).map((server) => server.stop()));
});

async function ownRedis(port?: number): Promise<RedisServerHandle> {
  const server = await startRedisServer(port === undefined ? {} : { port });
  ownRedisServers.push(server);
  return server;
}

describe('Server against Redis: lifecycle', () => {
  it('quiet: takes no new task, lets running ones finish with their leases, and resume goes on', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('quiet');
    const finished: string[] = [];
    const instance = server({ queues: { [queue]: 1 }, leaseDuration: 2000, recovererInterval: 200 });
    await instance.start(async (task) => {
      if (task.type === 'long') await delay(3000);
      finished.push(task.type);
    });
    const long = await client.enqueue('long', {}, { queue });
    await waitFor(() => instance.runningTasks().length === 1, 'the long task');
    instance.stop();
    expect(instance.state).toBe('quiet');
    const waiting = await client.enqueue('short', {}, { queue });
    expect(await instance.pendingTaskCount?.()).toBe(1);
    await waitFor(() => finished.includes('long'), 'the long task to finish while quiet', 8000);
    // The long task outlived its 2 s lease without being recovered: the lease was kept while quiet.
    await expect(broker.getTask(queue, long.id)).rejects.toThrow();
    expect((await broker.getTask(queue, waiting.id)).state).toBe('pending');
    instance.resume();
    await waitFor(() => finished.includes('short'), 'the short task after resume');
  });

  it('shutdown ends within its deadline, aborts hung handlers and requeues them at the head of pending', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('shutdown');
    const instance = server({ queues: { [queue]: 1 }, concurrency: 2, shutdownTimeout: 1000 });
    const aborted: string[] = [];
    await instance.start(async (task, context) => {
      context.signal.addEventListener('abort', () => aborted.push(task.id));
      await new Promise(() => undefined); // ignores everything
    });
    const hung = [await client.enqueue('hung', {}, { queue }), await client.enqueue('hung', {}, { queue })];
    await waitFor(() => instance.runningTasks().length === 2, 'both hung tasks');
    const waiting = await client.enqueue('waiting', {}, { queue });
    const started = Date.now();
    await instance.shutdown();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(1000 + 1000 + timingAllowanceMs); // the deadline, a second, the allowance
    expect(instance.state).toBe('closed');
    expect(aborted.sort()).toEqual(hung.map((info) => info.id).sort());
    for (const info of hung) {
      const stored = await broker.getTask(queue, info.id);
      expect(stored.state).toBe('pending');
      expect(stored.message.retried).toBe(0);
    }
    // Requeued at the head: the next dequeue takes them before the task that was waiting.
    const next = await broker.dequeue([queue], { count: 2, leaseDuration: 5000 });
    expect(next.tasks.map((task) => task.message.id).sort()).toEqual(hung.map((info) => info.id).sort());
    expect((await broker.getTask(queue, waiting.id)).state).toBe('pending');
  });

  it('shutdown ends within its deadline plus a second when Redis is unreachable', async () => {
    const redis = await ownRedis();
    const { client, server } = createHarness({ url: redis.url });
    const queue = queueName('down');
    const instance = server({ queues: { [queue]: 1 }, shutdownTimeout: 500 });
    await instance.start(() => new Promise(() => undefined));
    await client.enqueue('hung', {}, { queue });
    await waitFor(() => instance.runningTasks().length === 1, 'the hung task');
    redis.process.kill('SIGKILL');
    await waitFor(() => redis.process.exitCode !== null || redis.process.signalCode !== null, 'redis to die');
    const started = Date.now();
    await instance.shutdown();
    // The promise: the deadline (500 ms) plus a second; the allowance covers a loaded machine.
    expect(Date.now() - started).toBeLessThan(500 + 1000 + timingAllowanceMs);
    expect(instance.state).toBe('closed');
  });

  it('backs off while Redis is down, says so, and resumes by itself when it returns', async () => {
    const redis = await ownRedis();
    const harness = createHarness({ url: redis.url });
    const queue = queueName('outage');
    const logger = memoryLogger();
    const dequeues: number[] = [];
    const { broker } = harness;
    const spy = new Proxy(broker, {
      get(target, property) {
        if (property === 'dequeue') {
          return (queues: readonly string[], options: DequeueOptions): Promise<DequeueResult> => {
            dequeues.push(Date.now());
            return target.dequeue(queues, options);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as ServerBroker;
    const processed: string[] = [];
    const instance = harness.server({ broker: spy, queues: { [queue]: 1 }, logger, taskCheckInterval: 100 });
    const reachability: boolean[] = [];
    instance.on('brokerReachability', (change) => reachability.push(change.reachable));
    await instance.start((task) => void processed.push(task.type));
    await harness.client.enqueue('before', {}, { queue });
    await waitFor(() => processed.includes('before'), 'the first task');

    await redis.stop();
    await waitFor(() => !instance.brokerReachable, 'the server to notice', 15_000);
    const outageStart = Date.now();
    const callsAtStart = dequeues.length;
    await delay(2000);
    // Backoff: a few attempts per second at most, not a hot loop.
    expect(dequeues.length - callsAtStart).toBeLessThan(15);
    expect(logger.messages('error').some((message) => message.startsWith('the broker is unreachable'))).toBe(
      true,
    );

    await ownRedis(redis.port);
    const backAt = Date.now();
    await harness.client.enqueue('after', {}, { queue });
    await waitFor(() => processed.includes('after'), 'processing to resume', 10_000);
    expect(Date.now() - backAt).toBeLessThan(8000);
    await waitFor(() => instance.brokerReachable, 'reachability to be restored');
    expect(reachability).toEqual([false, true]);
    expect(logger.messages('info')).toContain('the broker is reachable again; processing resumes');
    expect(Date.now() - outageStart).toBeGreaterThan(0);
  });

  it('records signals and lifecycle changes for the signals package', async () => {
    const { client, server } = createHarness();
    const queue = queueName('signals');
    const instance = server({ queues: { [queue]: 1 } });
    const states: string[] = [];
    instance.on('state', (change) => states.push(change.to));
    const release = deferred();
    await instance.start(() => release.promise);
    await client.enqueue('x', {}, { queue });
    await waitFor(() => instance.runningTasks().length === 1, 'the task');
    instance.recordSignal('SIGTERM');
    expect(instance.lastRecordedSignal?.signal).toBe('SIGTERM');
    expect(instance.lastFetchAt).toBeGreaterThan(Date.now() - 2000);
    const [running] = instance.runningTasks();
    expect(running).toMatchObject({ type: 'x', queue, overdue: false });
    const stopping = instance.shutdown();
    release.resolve();
    await stopping;
    expect(states).toEqual(['running', 'draining', 'closed']);
  });
});
