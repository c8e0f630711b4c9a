/**
 * The server's background work against the real Redis broker: heartbeat, leases, recoverer, forwarder,
 * janitor, group aggregation, health check, pickup without polling, batched dequeues, malformed records.
 */
import type { DequeueOptions, DequeueResult } from '@q/core';
import type { RedisBroker } from '@q/broker-redis';
import { describe, expect, it } from 'vitest';
import type { Task } from '../src/handler';
import type { ServerBroker } from '../src/server-options';
import { type TaskAbortedError } from '../src/task-aborted-error';
import { createHarness, queueName } from './harness';
import { memoryLogger } from './memory-logger';
import { deferred, delay, waitFor } from './wait-for';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const isGone = (broker: RedisBroker, queue: string, id: string) =>
  broker.getTask(queue, id).then(
    () => false,
    () => true,
  );

/** Puts a task into `active` the way a crash between non-atomic steps could leave it: no lease entry. */
async function strandInActive(
  broker: RedisBroker,
  queue: string,
  id: string,
  leaseScore?: number,
): Promise<void> {
  const prefix = broker.prefix;
  const connection = broker.connection;
  await connection.lrem(`${prefix}:{${queue}}:pending`, 0, id);
  await connection.lpush(`${prefix}:{${queue}}:active`, id);
  await connection.hset(`${prefix}:{${queue}}:t:${id}`, 'state', 'active');
  if (leaseScore !== undefined) await connection.zadd(`${prefix}:{${queue}}:lease`, leaseScore, id);
}

describe('Server against Redis: background work', () => {
  it('publishes server and worker info in Asynq format, with its lifecycle, and clears it at shutdown', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('heartbeat');
    const release = deferred();
    const instance = server({ queues: { [queue]: 3 }, concurrency: 2 });
    await instance.start(() => release.promise);
    const info = await client.enqueue('long', { n: 1 }, { queue });
    const snapshot = await waitFor(async () => {
      const found = (await broker.listServers()).find((entry) => entry.server.serverId === instance.id);
      return found && found.workers.length === 1 ? found : undefined;
    }, 'the server with its worker');
    expect(snapshot.server).toMatchObject({
      pid: process.pid,
      concurrency: 2,
      queues: { [queue]: 3 },
      strictPriority: false,
      status: 'active',
      activeWorkerCount: 1,
      lifecycle: { state: 'running', brokerReachable: true },
    });
    expect(snapshot.server.lifecycle?.lastFetchAt).toBeGreaterThan(Date.now() - 5000);
    expect(snapshot.workers[0]).toMatchObject({
      taskId: info.id,
      taskType: 'long',
      queue,
      serverId: instance.id,
    });
    expect(text(snapshot.workers[0]!.payload)).toBe('{"n":1}');
    expect(snapshot.workers[0]!.deadline).toBeGreaterThan(Date.now() + 25 * 60_000);
    expect(snapshot.expiresAt - Date.now()).toBeLessThanOrEqual(2000);

    instance.recordSignal('SIGTSTP');
    instance.stop();
    await waitFor(async () => {
      const found = (await broker.listServers()).find((entry) => entry.server.serverId === instance.id);
      return found?.server.status === 'stopped' && found.server.lifecycle?.lastSignal === 'SIGTSTP';
    }, 'the quiet status and the signal');
    release.resolve();
    await instance.shutdown();
    expect((await broker.listServers()).some((entry) => entry.server.serverId === instance.id)).toBe(false);
  });

  it('extends the lease of a long task so that no recoverer takes it', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('lease');
    let attempts = 0;
    await server({ queues: { [queue]: 1 }, leaseDuration: 2000 }).start(async () => {
      attempts += 1;
      await delay(3500);
    });
    // A second server that only recovers (its queue list holds the same queue, concurrency 1, quiet).
    const watcher = server({ queues: { [queue]: 1 }, leaseDuration: 2000, recovererInterval: 200 });
    await watcher.start(() => undefined);
    watcher.stop();
    const info = await client.enqueue('long', {}, { queue });
    await waitFor(() => isGone(broker, queue, info.id), 'the task to finish', 10_000);
    expect(attempts).toBe(1);
  });

  it('stops a task whose lease was taken over, and records nothing for it', async () => {
    const harness = createHarness();
    const { client, broker, server } = harness;
    const queue = queueName('lost');
    const logger = memoryLogger();
    const aborted = deferred<unknown>();
    await server({ queues: { [queue]: 1 }, leaseDuration: 2000, logger }).start(async (_task, context) => {
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      aborted.resolve(context.signal.reason);
      // Returning normally: a success that must not be recorded.
    });
    const info = await client.enqueue('long', {}, { queue });
    await waitFor(async () => (await broker.getTask(queue, info.id)).state === 'active', 'the task to run');
    // What another server's recoverer does when it believes the lease expired.
    const { message } = await broker.getTask(queue, info.id);
    await harness.otherBroker().retry(message, {
      processAt: Date.now() + 3_600_000,
      errorMessage: 'asynq: task lease expired',
      isFailure: true,
    });
    expect(((await aborted.promise) as TaskAbortedError).reason).toBe('lease-lost');
    await delay(300);
    const stored = await broker.getTask(queue, info.id);
    expect(stored.state).toBe('retry');
    expect(stored.message.errorMessage).toBe('asynq: task lease expired');
    expect(
      logger.messages('warn').some((entry) => entry.startsWith('lost the lease on a running task')),
    ).toBe(true);
  });

  it('recovers active tasks whose lease expired or that have no lease at all, and runs them again at once', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('orphans');
    const expired = await client.enqueue('orphan', {}, { queue });
    const leaseless = await client.enqueue('orphan', {}, { queue });
    const spent = await client.enqueue('orphan', {}, { queue, maxRetry: 0 });
    await strandInActive(broker, queue, expired.id, Math.floor(Date.now() / 1000) - 60);
    await strandInActive(broker, queue, leaseless.id);
    await strandInActive(broker, queue, spent.id);
    const ran: Task[] = [];
    const instance = server({ queues: { [queue]: 1 }, retryDelay: () => 3_600_000 });
    await instance.start((task) => void ran.push(task));
    // Their worker went away, the handler did not fail: they run again without waiting for retryDelay.
    await waitFor(() => ran.length === 2, 'the two recovered tasks to run again');
    expect(new Set(ran.map((task) => task.id))).toEqual(new Set([expired.id, leaseless.id]));
    for (const task of ran) expect(task.retried).toBe(1);
    const archived = await broker.getTask(queue, spent.id);
    expect(archived.state).toBe('archived');
    expect(archived.message.errorMessage).toBe('asynq: task lease expired');
  });

  it('applies retryDelay to a task whose previous attempt also ended with an expired lease', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('died-twice');
    const info = await client.enqueue('killer', {}, { queue });
    // Its first attempt ended with an expired lease (as the recoverer records it), its second is stranded.
    const [leased] = (await broker.dequeue([queue], { count: 1, leaseDuration: 30_000 })).tasks;
    await broker.retry(leased!.message, {
      processAt: Date.now(),
      errorMessage: 'asynq: task lease expired',
      isFailure: true,
    });
    await broker.forward([queue], Date.now());
    await strandInActive(broker, queue, info.id, Math.floor(Date.now() / 1000) - 60);
    const ran: Task[] = [];
    await server({ queues: { [queue]: 1 }, retryDelay: () => 3_600_000 }).start(
      (task) => void ran.push(task),
    );
    const recovered = await waitFor(async () => {
      const task = await broker.getTask(queue, info.id);
      return task.state === 'retry' ? task : undefined;
    }, 'the recoverer');
    expect(recovered.message.retried).toBe(2);
    expect(recovered.nextProcessAt!).toBeGreaterThan(Date.now() + 3_500_000);
    expect(ran).toEqual([]);
  });

  it('forwards scheduled tasks to pending when they are due', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('scheduled');
    const ran: number[] = [];
    await server({ queues: { [queue]: 1 } }).start(() => void ran.push(Date.now()));
    const info = await client.enqueue('later', {}, { queue, processIn: '2s' });
    const scheduledFor = info.nextProcessAt!.getTime();
    expect((await broker.getTask(queue, info.id)).state).toBe('scheduled');
    await waitFor(() => ran.length === 1, 'the scheduled task');
    // Redis keeps process times in whole seconds (truncated, as Go does): due at the start of that second.
    expect(ran[0]!).toBeGreaterThanOrEqual(Math.floor(scheduledFor / 1000) * 1000);
  });

  it('deletes completed tasks once their retention ended', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('janitor');
    await server({ queues: { [queue]: 1 } }).start(() => undefined);
    const info = await client.enqueue('kept', {}, { queue, retention: '1s' });
    await waitFor(
      async () => (await broker.getTask(queue, info.id).catch(() => undefined))?.state === 'completed',
      'completed',
    );
    await waitFor(() => isGone(broker, queue, info.id), 'the janitor', 5000);
  });

  describe('group aggregation', () => {
    // Tasks added within the same second come in id order (Redis keeps whole-second scores), so sort.
    const aggregator = (group: string, tasks: Task[]) => ({
      type: 'aggregated',
      payload: {
        group,
        items: tasks.map((task) => task.payload as { n: number }).sort((left, right) => left.n - right.n),
      },
    });

    it('aggregates a group once it reaches the maximum size', async () => {
      const { client, server } = createHarness();
      const queue = queueName('size');
      const batches: { items: unknown[] }[] = [];
      // The grace period sets the check interval (2 s); the fourth task waits for the grace period.
      await server({
        queues: { [queue]: 1 },
        groupAggregator: aggregator,
        groupMaxSize: 3,
        groupGracePeriod: '2s',
      }).start((task) => void batches.push(task.payload as { items: unknown[] }));
      await client.enqueueMany(
        [1, 2, 3, 4].map((n) => ({ type: 'item', payload: { n }, options: { queue, group: 'digest' } })),
      );
      await waitFor(() => batches.length === 2, 'two aggregated tasks', 8000);
      expect(batches.map((batch) => batch.items.length)).toEqual([3, 1]);
    });

    it('aggregates a group once no task was added for the grace period', async () => {
      const { client, server } = createHarness();
      const queue = queueName('grace');
      const batches: { at: number; payload: unknown }[] = [];
      await server({ queues: { [queue]: 1 }, groupAggregator: aggregator, groupGracePeriod: '1s' }).start(
        (task) => void batches.push({ at: Date.now(), payload: task.payload }),
      );
      await client.enqueue('item', { n: 1 }, { queue, group: 'g' });
      const lastAddedAt = Date.now();
      await client.enqueue('item', { n: 2 }, { queue, group: 'g' });
      await waitFor(() => batches.length === 1, 'the aggregated task', 6000);
      expect(batches[0]!.payload).toEqual({ group: 'g', items: [{ n: 1 }, { n: 2 }] });
      expect(batches[0]!.at - lastAddedAt).toBeGreaterThanOrEqual(900);
    });

    it("rounds the aggregated task's timeout, deadline and retention up to whole seconds", async () => {
      const { client, broker, server } = createHarness();
      const queue = queueName('rounding');
      const deadline = (Math.floor(Date.now() / 1000) + 3600) * 1000 + 653;
      await server({
        queues: { [queue]: 1 },
        groupGracePeriod: '1s',
        groupAggregator: (group, tasks) => ({
          ...aggregator(group, tasks),
          options: { taskId: `agg-${queue}`, timeout: '1500ms', deadline, retention: '1h500ms' },
        }),
      }).start(() => undefined);
      await client.enqueue('item', { n: 1 }, { queue, group: 'g' });
      const stored = await waitFor(
        async () => {
          const found = await broker.getTask(queue, `agg-${queue}`).catch(() => undefined);
          return found?.state === 'completed' ? found : undefined;
        },
        'the aggregated task to complete',
        6000,
      );
      expect(stored.message).toMatchObject({
        timeoutSeconds: 2,
        deadlineUnixSeconds: Math.ceil(deadline / 1000),
        retentionSeconds: 3601,
      });
    });

    it('aggregates a group once its oldest task waited the maximum delay, even while tasks keep coming', async () => {
      const { client, server } = createHarness();
      const queue = queueName('delay');
      const batches: { items: unknown[] }[] = [];
      await server({
        queues: { [queue]: 1 },
        groupAggregator: aggregator,
        groupGracePeriod: '10s',
        groupMaxDelay: '2s',
      }).start((task) => void batches.push(task.payload as { items: unknown[] }));
      const firstAt = Date.now();
      let n = 0;
      while (batches.length === 0 && Date.now() - firstAt < 8000) {
        await client.enqueue('item', { n: (n += 1) }, { queue, group: 'busy' });
        await delay(300);
      }
      expect(batches.length).toBe(1);
      expect(batches[0]!.items.length).toBeGreaterThanOrEqual(5);
    });
  });

  it('calls the health check with the broker ping result', async () => {
    const { server } = createHarness();
    const results: (Error | undefined)[] = [];
    await server({
      queues: { [queueName('health')]: 1 },
      healthCheck: (error) => void results.push(error),
      healthCheckInterval: 100,
    }).start(() => undefined);
    await waitFor(() => results.length >= 2, 'two health checks');
    expect(results.every((result) => result === undefined)).toBe(true);
  });

  it('starts a task at once when a @q client enqueues it to an idle server', async () => {
    const { client, server } = createHarness();
    const queue = queueName('pickup');
    const startedAt = new Map<string, number>();
    // A poll every 5 s: a quick start can only come from the wake-up.
    await server({ queues: { [queue]: 1 }, taskCheckInterval: 5000 }).start(
      (task) => void startedAt.set(task.id, Date.now()),
    );
    await delay(300);
    for (let sample = 0; sample < 3; sample += 1) {
      const before = Date.now();
      const info = await client.enqueue('quick', {}, { queue });
      await waitFor(() => startedAt.has(info.id), 'the task to start');
      expect(startedAt.get(info.id)! - before).toBeLessThan(2500);
      await delay(100);
    }
  });

  it('still picks up tasks from a producer that does not wake servers (Go Asynq) within the poll interval', async () => {
    const harness = createHarness();
    const { broker, server } = harness;
    const queue = queueName('go-producer');
    const started = deferred<number>();
    await server({ queues: { [queue]: 1 }, taskCheckInterval: 300 }).start(() => started.resolve(Date.now()));
    await delay(300);
    // Make the message bytes with a broker on another prefix, then write the task the way Go's enqueue
    // script does: HSET + LPUSH, no notification.
    const elsewhere = createHarness();
    const made = await elsewhere.client.enqueue('from-go', { hello: 'go' }, { queue });
    const msg = await elsewhere.broker.connection.hgetBuffer(
      `${elsewhere.prefix}:{${queue}}:t:${made.id}`,
      'msg',
    );
    const enqueuedAt = Date.now();
    const key = `${harness.prefix}:{${queue}}:t:${made.id}`;
    await broker.connection.hset(
      key,
      'msg',
      msg!,
      'state',
      'pending',
      'pending_since',
      `${Date.now()}000000`,
    );
    await broker.connection.lpush(`${harness.prefix}:{${queue}}:pending`, made.id);
    const at = await started.promise;
    expect(at - enqueuedAt).toBeLessThan(3000);
  });

  it('takes several tasks per dequeue when several slots are free, in two lanes sharing the slots', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('batch');
    const calls: { count: number; taken: number }[] = [];
    const spy = new Proxy(broker, {
      get(target, property) {
        if (property === 'dequeue') {
          return async (queues: readonly string[], options: DequeueOptions): Promise<DequeueResult> => {
            const result = await target.dequeue(queues, options);
            calls.push({ count: options.count, taken: result.tasks.length });
            return result;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as ServerBroker;
    await client.enqueueMany(
      Array.from({ length: 8 }, (_, n) => ({ type: 'batch', payload: { n }, options: { queue } })),
    );
    const release = deferred();
    const instance = server({ broker: spy, queues: { [queue]: 1 }, concurrency: 8 });
    await instance.start(() => release.promise);
    await waitFor(() => instance.runningTasks().length === 8, 'eight running tasks');
    // Two dequeues of four (8 slots over two lanes), each filled; none asked for more than was free.
    expect(calls).toEqual([
      { count: 4, taken: 4 },
      { count: 4, taken: 4 },
    ]);
    release.resolve();
  });

  it('an idle server is handed the task by the enqueue itself (one hop), and starts it', async () => {
    const { client, broker, prefix, server } = createHarness();
    const queue = queueName('hand-over');
    const owners: (string | null)[] = [];
    const instance = server({ queues: { [queue]: 1 } });
    await instance.start(async (task) => {
      owners.push(await broker.connection.hget(`${prefix}:{${queue}}:t:${task.id}`, 'lease_owner'));
    });
    // Idle: the server registered to be handed the next task.
    await waitFor(
      async () => (await broker.connection.zcard(`${prefix}:{${queue}}:waiters`)) === 1,
      'a registration',
    );
    await client.enqueue('one', {}, { queue });
    await waitFor(() => owners.length === 1, 'the handed-over task');
    // Leased by the enqueue script (its tokens start with "h:"), not by a dequeue.
    expect(owners[0]).toMatch(/^h:/);
    await instance.shutdown();
    // A server that shut down withdrew its registration: the next task stays pending.
    await client.enqueue('two', {}, { queue });
    expect(await broker.connection.llen(`${prefix}:{${queue}}:pending`)).toBe(1);
  });

  it('archives malformed records with a reason and keeps processing', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('malformed');
    const logger = memoryLogger();
    const pending = `${broker.prefix}:{${queue}}:pending`;
    await client.enqueue('good', { n: 1 }, { queue });
    await broker.connection.hset(`${broker.prefix}:{${queue}}:t:nomsg`, 'state', 'pending');
    await broker.connection.hset(
      `${broker.prefix}:{${queue}}:t:garbage`,
      'msg',
      Buffer.from([0xff, 0xff, 0xff]),
      'state',
      'pending',
    );
    await broker.connection.lpush(pending, 'nomsg', 'garbage');
    await client.enqueue('good', { n: 2 }, { queue });
    const seen: unknown[] = [];
    await server({ queues: { [queue]: 1 }, logger }).start((task) => void seen.push(task.payload));
    await waitFor(() => seen.length === 2, 'both good tasks');
    const archived = await broker.listTasks(queue, 'archived', {});
    expect(archived.map((task) => task.message.id).sort()).toEqual(['garbage', 'nomsg']);
    for (const task of archived) expect(task.message.errorMessage).not.toBe('');
    expect(
      logger.entries.filter((entry) => entry.level === 'error' && entry.fields.taskId !== undefined).length,
    ).toBe(2);
  });
});
