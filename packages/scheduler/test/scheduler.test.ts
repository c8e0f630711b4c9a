import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import { DuplicateTaskError, ShutdownError, ValidationError, type Broker } from '@q/core';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { Scheduler, tickTaskId, type TickEvent, type TickOutcome } from '../src/index';

const redisUrl = inject('redisUrl');

let prefix: string;
let broker: Broker;
let redis: Redis;
const schedulers: Scheduler[] = [];

beforeEach(() => {
  prefix = `q-scheduler-test-${randomUUID().slice(0, 8)}`;
  broker = createRedisBroker({ url: redisUrl, prefix });
  redis = new Redis(redisUrl);
});

afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((scheduler) => scheduler.shutdown()));
  await broker.close();
  redis.disconnect();
});

function createScheduler(options: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): Scheduler {
  const scheduler = new Scheduler({ broker, heartbeatInterval: '1s', duplicateWindow: '2s', ...options });
  schedulers.push(scheduler);
  return scheduler;
}

function waitUntil<T>(read: () => Promise<T | undefined> | T | undefined, timeout = 5000): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await read();
      if (value === undefined) throw new Error('not yet');
      return value;
    },
    { timeout, interval: 50 },
  );
}

describe('Scheduler', () => {
  it("publishes its entries in Asynq's layout with the heartbeat TTL, and removes them at shutdown", async () => {
    const scheduler = createScheduler({ timezone: 'Europe/Berlin' });
    const id = scheduler.register('*/5 * * * *', {
      type: 'report:daily',
      payload: { region: 'eu' },
      options: { queue: 'low', maxRetry: 3, timeout: '1m', unique: '1h' },
    });
    await scheduler.start();

    const entries = await broker.listSchedulerEntries();
    const entry = entries.find((candidate) => candidate.id === id);
    expect(entry).toMatchObject({
      spec: '*/5 * * * *',
      taskType: 'report:daily',
      enqueueOptions: ['Queue("low")', 'MaxRetry(3)', 'Timeout(1m0s)', 'Unique(1h0m0s)'],
      previousEnqueueAt: 0,
      scheduler: { pid: process.pid, schedulerId: scheduler.identity.schedulerId },
    });
    expect(new TextDecoder().decode(entry!.payload)).toBe('{"region":"eu"}');
    expect(entry!.nextEnqueueAt % (5 * 60_000)).toBe(0);
    expect(entry!.nextEnqueueAt).toBeGreaterThan(Date.now());

    const { host, pid, schedulerId } = scheduler.identity;
    const key = `${prefix}:schedulers:{${host}:${pid}:${schedulerId}}`;
    expect(await redis.zscore(`${prefix}:schedulers`, key)).not.toBeNull();
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2);

    // The heartbeat (every second here) writes the key again before its TTL runs out: cut to 1.5 s, the
    // TTL goes back up to 2 s.
    await redis.pexpire(key, 1500);
    await waitUntil(async () => ((await redis.pttl(key)) > 1500 ? true : undefined));

    await scheduler.shutdown();
    expect(await redis.exists(key)).toBe(0);
    expect(await broker.listSchedulerEntries()).toEqual([]);
  });

  it('enqueues on every tick, records each enqueue in the history, and keeps the history at shutdown', async () => {
    const queue = `ticks-${randomUUID().slice(0, 8)}`;
    const outcomes: { event: TickEvent; outcome: TickOutcome }[] = [];
    const before: TickEvent[] = [];
    const scheduler = createScheduler({
      beforeEnqueue: (event) => {
        before.push(event);
      },
      afterEnqueue: (event, outcome) => {
        outcomes.push({ event, outcome });
      },
    });
    const id = scheduler.register('* * * * * *', {
      type: 'tick',
      payload: { n: 1 },
      options: { queue, retention: '10s' },
    });
    await scheduler.start();
    await waitUntil(() => (outcomes.length >= 2 ? true : undefined));
    await scheduler.shutdown();

    const first = outcomes[0]!;
    expect(first.outcome.status).toBe('enqueued');
    expect(first.event).toMatchObject({ entryId: id, type: 'tick', catchUp: false });
    expect(first.event.taskId).toBe(tickTaskId(id, first.event.tickAt));
    expect(before.map((event) => event.taskId)).toEqual(outcomes.map((item) => item.event.taskId));

    const task = await broker.getTask(queue, first.event.taskId);
    expect(task.state).toBe('pending');
    expect(task.message).toMatchObject({ type: 'tick', queue, retentionSeconds: 10 });
    expect(new TextDecoder().decode(task.message.payload)).toBe('{"n":1}');

    const history = await broker.schedulerHistory(id, { page: 1, pageSize: 10 });
    expect(history.map((event) => event.taskId)).toEqual(outcomes.map((item) => item.event.taskId).reverse());
    expect(await redis.exists(`${prefix}:scheduler_history:${id}`)).toBe(1);
  });

  it('raises a short retention to the duplicate window, so that a finished tick keeps its id taken', async () => {
    const queue = `guard-${randomUUID().slice(0, 8)}`;
    const outcomes: TickOutcome[] = [];
    const scheduler = createScheduler({
      duplicateWindow: '3s',
      afterEnqueue: (_event, outcome) => void outcomes.push(outcome),
    });
    scheduler.register('* * * * * *', { type: 'guarded', options: { queue } });
    await scheduler.start();
    await waitUntil(() => (outcomes.length >= 1 ? true : undefined));
    await scheduler.shutdown();
    const enqueued = outcomes[0]!;
    expect(enqueued.status).toBe('enqueued');
    if (enqueued.status === 'enqueued') expect(enqueued.info.retention).toBe(4000);
  });

  it('publishes the previous enqueue time and moves next on after a tick', async () => {
    const scheduler = createScheduler();
    const id = scheduler.register(
      '* * * * * *',
      { type: 'published', options: { queue: `published-${randomUUID().slice(0, 8)}` } },
      { id: 'published-entry' },
    );
    scheduler.register('@daily', { type: 'other' }, { id: 'daily-entry' });
    expect(id).toBe('published-entry');
    await scheduler.start();
    const entry = await waitUntil(async () => {
      const entries = await broker.listSchedulerEntries();
      return entries.find(
        (candidate) => candidate.id === 'published-entry' && candidate.previousEnqueueAt > 0,
      );
    });
    expect(entry.previousEnqueueAt % 1000).toBe(0);
    expect(entry.nextEnqueueAt).toBeGreaterThan(entry.previousEnqueueAt);
    expect((await broker.listSchedulerEntries()).map((item) => item.id).sort()).toEqual([
      'daily-entry',
      'published-entry',
    ]);
  });

  it('registers and unregisters while running, and republishes at once', async () => {
    const scheduler = createScheduler({ heartbeatInterval: '30s' });
    await scheduler.start();
    const id = scheduler.register('@hourly', { type: 'late:addition' });
    await waitUntil(async () =>
      (await broker.listSchedulerEntries()).some((entry) => entry.id === id) ? true : undefined,
    );
    expect(scheduler.unregister(id)).toBe(true);
    expect(scheduler.unregister(id)).toBe(false);
    await waitUntil(async () => ((await broker.listSchedulerEntries()).length === 0 ? true : undefined));
  });

  it('reports a held unique lock as a duplicate, not as an error', async () => {
    const queue = `unique-${randomUUID().slice(0, 8)}`;
    const outcomes: TickOutcome[] = [];
    const scheduler = createScheduler({ afterEnqueue: (_event, outcome) => void outcomes.push(outcome) });
    scheduler.register('* * * * * *', {
      type: 'exclusive',
      payload: { a: 1 },
      options: { queue, unique: '1h' },
    });
    await scheduler.start();
    await waitUntil(() => (outcomes.length >= 2 ? true : undefined));
    await scheduler.shutdown();
    expect(outcomes[0]!.status).toBe('enqueued');
    const second = outcomes[1]!;
    expect(second.status).toBe('duplicate');
    if (second.status === 'duplicate') expect(second.error).toBeInstanceOf(DuplicateTaskError);
  });

  it('refuses invalid specs, time zones, options and repeated ids with a ValidationError', () => {
    expect(() => createScheduler({ timezone: 'Mars/Olympus' })).toThrow(ValidationError);
    const scheduler = createScheduler();
    expect(() => scheduler.register('61 * * * *', { type: 'x' })).toThrow(/Invalid value for minute/);
    expect(() => scheduler.register('CRON_TZ=Nowhere/Land @daily', { type: 'x' })).toThrow(ValidationError);
    expect(() => scheduler.register('@daily', { type: 'x', options: { taskId: 'fixed' } as never })).toThrow(
      ValidationError,
    );
    scheduler.register('@daily', { type: 'x' });
    expect(() => scheduler.register('@daily', { type: 'x' })).toThrow(/already registered/);
    expect(() => new Scheduler({ broker: {} as never })).toThrow(/lacks/);
  });

  it('cannot be started or given entries after shutdown', async () => {
    const scheduler = createScheduler();
    await scheduler.start();
    await scheduler.shutdown();
    await scheduler.shutdown();
    await expect(scheduler.start()).rejects.toBeInstanceOf(ShutdownError);
    expect(() => scheduler.register('@daily', { type: 'x' })).toThrow(ShutdownError);
  });
});
