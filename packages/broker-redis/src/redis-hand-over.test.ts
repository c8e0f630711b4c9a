/**
 * The hand-over (lua/include/hand-over.lua): a consumer waiting on an empty queue registers with its
 * dequeue, and the next enqueue leases it the oldest pending task and publishes it, so that its next
 * dequeue answers without a round trip. Against a real Redis.
 */
import type { LeasedTask } from '@q/core';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/wait-for';
import { createTestContext, taskMessage, type TestContext } from '../test/redis-test-context';

const contexts: TestContext[] = [];

function context(prefix?: string): TestContext {
  const created = createTestContext(prefix === undefined ? {} : { prefix });
  contexts.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((created) => created.close()));
});

const lease = { leaseDuration: 30_000 };

/** Starts a wait on `queue` and registers with a dequeue that finds it empty, as an idle server does. */
async function waitIdle(
  { broker, redis, prefix }: TestContext,
  queue: string,
  timeout = 5000,
): Promise<{ woken: Promise<boolean>; controller: AbortController }> {
  const waiters = `${prefix}:{${queue}}:waiters`;
  const before = await redis.zcard(waiters);
  const controller = new AbortController();
  const woken = broker.waitForTasks([queue], timeout, controller.signal);
  // A consumer registers only once Redis confirmed its subscription (the wait subscribes): until then its
  // dequeues find the queue empty without registering. On a loaded machine that takes a while.
  await waitFor(async () => {
    const { tasks } = await broker.dequeue([queue], { count: 1, ...lease });
    expect(tasks).toEqual([]);
    return (await redis.zcard(waiters)) > before;
  }, 'the consumer to register for a hand-over');
  return { woken, controller };
}

describe('hand-over to a waiting consumer', () => {
  it('leases the enqueued task to the waiting consumer, wakes it, and its next dequeue returns it', async () => {
    const own = context();
    const { broker, redis, prefix } = own;
    const key = (rest: string): string => `${prefix}:{default}:${rest}`;
    const { woken } = await waitIdle(own, 'default');
    expect(await redis.zcard(key('waiters'))).toBe(1);
    const message = taskMessage();
    await broker.enqueue({ message });
    expect(await woken).toBe(true);
    // Leased by the enqueue script, exactly as a dequeue leases: active, lease entry, state, owner.
    expect(await redis.lrange(key('pending'), 0, -1)).toEqual([]);
    expect(await redis.lrange(key('active'), 0, -1)).toEqual([message.id]);
    expect(Number(await redis.zscore(key('lease'), message.id))).toBeGreaterThan(Date.now() / 1000 + 25);
    const record = await redis.hgetall(key(`t:${message.id}`));
    expect(record.state).toBe('active');
    expect(record.pending_since).toBeUndefined();
    expect(record.lease_owner).toMatch(/^h:\d+:/);
    expect(await redis.zcard(key('waiters'))).toBe(0); // used up

    const { tasks } = await broker.dequeue(['default'], { count: 5, ...lease });
    expect(tasks.map((task) => task.message)).toEqual([message]);
    expect(tasks[0]!.leaseToken).toBe(record.lease_owner);
    await broker.done(tasks[0]!.message, { token: tasks[0]!.leaseToken! });
    expect(await redis.exists(key(`t:${message.id}`))).toBe(0);
  });

  it('hands over nothing while the queue is paused or under flow limits: the task stays pending', async () => {
    const own = context();
    const { broker, redis, prefix } = own;
    const pending = `${prefix}:{default}:pending`;
    await waitIdle(own, 'default');
    await broker.pauseQueue('default');
    const paused = taskMessage();
    await broker.enqueue({ message: paused });
    expect(await redis.lrange(pending, 0, -1)).toEqual([paused.id]);
    await broker.unpauseQueue('default');
    await broker.setFlowLimits('default', { concurrency: 10 });
    const limited = taskMessage();
    await broker.enqueue({ message: limited });
    expect(await redis.lrange(pending, 0, -1)).toEqual([limited.id, paused.id]);
  });

  it('withdraws the registration when the wait is called off: a later enqueue leaves the task pending', async () => {
    const own = context();
    const { broker, redis, prefix } = own;
    const { woken, controller } = await waitIdle(own, 'default');
    controller.abort();
    expect(await woken).toBe(false);
    const message = taskMessage();
    await broker.enqueue({ message });
    expect(await redis.lrange(`${prefix}:{default}:pending`, 0, -1)).toEqual([message.id]);
    expect(await redis.zcard(`${prefix}:{default}:waiters`)).toBe(0);
  });

  it('puts a handed-over task that no dequeue takes back at the head of pending', async () => {
    const own = context();
    const { broker, redis, prefix } = own;
    // Woken by a plain wake-up, the registration stays until it lapses; nobody dequeues afterwards.
    const { woken } = await waitIdle(own, 'default');
    await redis.publish(`${prefix}:{default}:notify`, 'default');
    expect(await woken).toBe(true);
    const message = taskMessage();
    await broker.enqueue({ message });
    expect(await redis.lrange(`${prefix}:{default}:active`, 0, -1)).toEqual([message.id]);
    await waitFor(
      async () => (await redis.lrange(`${prefix}:{default}:pending`, 0, -1)).includes(message.id),
      'the task handed back to pending',
    );
    expect(await redis.lrange(`${prefix}:{default}:active`, 0, -1)).toEqual([]);
    expect(await redis.hget(`${prefix}:{default}:t:${message.id}`, 'state')).toBe('pending');
  });

  it('gives each waiting consumer one task of a batch; the rest stay pending for a plain wake-up', async () => {
    const first = context();
    const second = context(first.prefix);
    const { broker, redis, prefix } = first;
    const waits = [await waitIdle(first, 'default'), await waitIdle(second, 'default')];
    const messages = [taskMessage(), taskMessage(), taskMessage()];
    const results = await broker.enqueueMany(messages.map((message) => ({ message })));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(await Promise.all(waits.map((wait) => wait.woken))).toEqual([true, true]);
    // The two oldest went to the two waiting consumers; the third stays pending.
    expect(await redis.lrange(`${prefix}:{default}:pending`, 0, -1)).toEqual([messages[2]!.id]);
    const taken: LeasedTask[] = [];
    for (const { broker: consumer } of [first, second]) {
      taken.push(...(await consumer.dequeue(['default'], { count: 1, ...lease })).tasks);
    }
    expect(taken.map((task) => task.message.id).sort()).toEqual([messages[0]!.id, messages[1]!.id].sort());
  });

  it('registers only once Redis confirmed its subscription (a hand-over before it would reach nobody)', async () => {
    const own = context();
    const { broker, redis, prefix } = own;
    // The very first wait subscribes; its dequeue, sent at once, must not register.
    void broker.waitForTasks(['default'], 200);
    await broker.dequeue(['default'], { count: 1, ...lease });
    expect(await redis.zcard(`${prefix}:{default}:waiters`)).toBe(0);
  });

  it('does not wake a waiting consumer for a task handed over to another one', async () => {
    const first = context();
    const second = context(first.prefix);
    await second.broker.waitForTasks(['default'], 20); // subscribed
    const registered = await waitIdle(first, 'default');
    // The second waits without having registered (its dequeue did not run yet).
    const other = second.broker.waitForTasks(['default'], 300);
    await first.broker.enqueue({ message: taskMessage() });
    expect(await registered.woken).toBe(true);
    expect(await other).toBe(false);
  });
});
