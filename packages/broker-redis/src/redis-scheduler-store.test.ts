import type { SchedulerEntryState } from '@q/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/redis-test-context';
import { decodeSchedulerEnqueueEvent, decodeSchedulerEntry } from './scheduler-entry-codec';

let context: TestContext;

beforeEach(() => {
  context = createTestContext();
});

afterEach(async () => {
  await context.close();
});

const scheduler = { host: 'cron-1', pid: 77, schedulerId: 'sched-a' };

function entry(id: string): SchedulerEntryState {
  return {
    id,
    spec: '@every 5s',
    taskType: 'cron:tick',
    payload: new TextEncoder().encode('{}'),
    enqueueOptions: ['Queue("default")', 'MaxRetry(3)'],
    nextEnqueueAt: Date.now() + 5000,
    previousEnqueueAt: 0,
  };
}

describe('scheduler store', () => {
  it('publishes entries in a list (LPUSH order, as Asynq) with a TTL, scored in P:schedulers', async () => {
    const { broker, redis, prefix } = context;
    const now = Date.now();
    await broker.writeSchedulerEntries(scheduler, [entry('e1'), entry('e2')], 20_000);
    const key = `${prefix}:schedulers:{cron-1:77:sched-a}`;
    const stored = (await redis.lrangeBuffer(key, 0, -1)).map((bytes) => decodeSchedulerEntry(bytes).id);
    expect(stored).toEqual(['e2', 'e1']);
    expect(await redis.ttl(key)).toBeGreaterThan(17);
    expect(Number(await redis.zscore(`${prefix}:schedulers`, key))).toBe(Math.floor((now + 20_000) / 1000));
    await broker.writeSchedulerEntries(scheduler, [entry('e3')], 20_000);
    expect(await redis.llen(key)).toBe(1);
    await broker.writeSchedulerEntries(scheduler, [], 20_000);
    expect(await redis.exists(key)).toBe(0);
    await broker.writeSchedulerEntries(scheduler, [entry('e4')], 20_000);
    await broker.clearSchedulerEntries(scheduler);
    expect(await redis.exists(key)).toBe(0);
    expect(await redis.zcard(`${prefix}:schedulers`)).toBe(0);
  });

  it('records enqueue events scored by time, keeping the newest 1,000', async () => {
    const { broker, redis, prefix } = context;
    const key = `${prefix}:scheduler_history:e1`;
    const start = Date.now() - 2_000_000;
    for (let index = 0; index < 1005; index += 1) {
      await broker.recordSchedulerEnqueue('e1', { taskId: `t-${index}`, enqueuedAt: start + index * 1000 });
    }
    expect(await redis.zcard(key)).toBe(1000);
    const [oldest] = await redis.zrangeBuffer(key, 0, 0);
    expect(decodeSchedulerEnqueueEvent(oldest!).taskId).toBe('t-5');
    const [newest, score] = await redis.zrevrangeBuffer(key, 0, 0, 'WITHSCORES');
    expect(decodeSchedulerEnqueueEvent(newest!)).toEqual({ taskId: 't-1004', enqueuedAt: start + 1_004_000 });
    expect(Number(score!.toString())).toBe(Math.floor((start + 1_004_000) / 1000));
  });
});
