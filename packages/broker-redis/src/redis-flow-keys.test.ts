/**
 * Per-key flow limits on Redis: where parked tasks live, that they are never lost (single-task admin,
 * queue removal, moves that Go Asynq also makes), the bounds of one dequeue, and the rotation that keeps
 * a key with many tasks from starving another.
 */
import {
  flowKeyHeader,
  QueueNotEmptyError,
  ValidationError,
  type LeasedTask,
  type TaskMessage,
} from '@q/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, taskMessage, type TestContext } from '../test/redis-test-context';

let context: TestContext;

beforeEach(() => {
  context = createTestContext();
});

afterEach(async () => {
  await context.close();
});

const queue = 'partner';
const key = (rest: string): string => `${context.prefix}:{${queue}}:${rest}`;
const lease = { leaseDuration: 30_000 };

async function enqueueKeyed(flowKeys: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const flowKey of flowKeys) {
    const message = taskMessage({ queue, headers: { [flowKeyHeader]: flowKey } });
    await context.broker.enqueue({ message });
    ids.push(message.id);
  }
  return ids;
}

const keyOf = (task: { message: TaskMessage }): string => task.message.headers[flowKeyHeader] ?? '';

describe('per-key flow limits (Redis layout)', () => {
  it('stores the flow key in the task hash and parks a task of a full key under the flow keys', async () => {
    await context.broker.setFlowLimits(queue, { perKey: { concurrency: 1 } });
    const [first, second] = await enqueueKeyed(['tenant-1', 'tenant-1']);
    expect(await context.redis.hget(key(`t:${first}`), 'flow_key')).toBe('tenant-1');
    const taken = await context.broker.dequeue([queue], { count: 5, ...lease });
    expect(taken.tasks.map((task) => task.message.id)).toEqual([first]);
    expect(await context.redis.llen(key('pending'))).toBe(0);
    expect(await context.redis.lrange(key('flow:k:tenant-1:parked'), 0, -1)).toEqual([second]);
    expect(await context.redis.zrange(key('flow:parked'), 0, -1)).toEqual(['tenant-1']);
    // Still a pending task for every reader of its hash (Go's GetTaskInfo included).
    expect(await context.redis.hget(key(`t:${second}`), 'state')).toBe('pending');
    expect((await context.broker.getTask(queue, second!)).state).toBe('pending');
    const listed = await context.broker.listTasks(queue, 'pending', { page: 1, pageSize: 10 });
    expect(listed.map((task) => task.message.id)).toEqual([second]);
  });

  it('refuses a flow key header that breaks the rule, or that comes with a group', async () => {
    const bad = taskMessage({ queue, headers: { [flowKeyHeader]: ' padded' } });
    await expect(context.broker.enqueue({ message: bad })).rejects.toThrow(
      /message\.headers\.q-flow-key " padded" begins or ends with whitespace/,
    );
    const grouped = taskMessage({ queue, groupKey: 'digest', headers: { [flowKeyHeader]: 'tenant-1' } });
    await expect(context.broker.enqueue({ message: grouped })).rejects.toBeInstanceOf(ValidationError);
    expect(await context.redis.exists(key(`t:${bad.id}`), key(`t:${grouped.id}`))).toBe(0);
  });

  it('keeps the flow key through a schedule, a forward and a retry', async () => {
    await context.broker.setFlowLimits(queue, { perKey: { concurrency: 1 } });
    const message = taskMessage({ queue, headers: { [flowKeyHeader]: 'tenant-2' } });
    await context.broker.enqueue({ message, processAt: Date.now() + 1000 });
    expect(await context.redis.hget(key(`t:${message.id}`), 'flow_key')).toBe('tenant-2');
    await context.broker.forward([queue], Date.now() + 2000);
    const [task] = (await context.broker.dequeue([queue], { count: 5, ...lease })).tasks;
    await context.broker.retry(task!.message, {
      processAt: Date.now() - 1000,
      errorMessage: 'boom',
      isFailure: true,
      fence: { token: task!.leaseToken },
    });
    await context.broker.forward([queue], Date.now());
    expect(await context.redis.hget(key(`t:${message.id}`), 'flow_key')).toBe('tenant-2');
    expect((await context.broker.dequeue([queue], { count: 5, ...lease })).tasks).toHaveLength(1);
  });

  it('writes no flow key and touches no per-key key for a queue without per-key limits', async () => {
    await context.broker.setFlowLimits(queue, { concurrency: 10 });
    const [id] = await enqueueKeyed(['tenant-3']);
    expect((await context.broker.dequeue([queue], { count: 5, ...lease })).tasks).toHaveLength(1);
    expect(await context.redis.keys(key('flow:k:*'))).toEqual([]);
    expect(await context.redis.exists(key('flow:parked'))).toBe(0);
    const plain = taskMessage({ queue });
    await context.broker.enqueue({ message: plain });
    expect(await context.redis.hexists(key(`t:${plain.id}`), 'flow_key')).toBe(0);
    expect(id).toBeDefined();
  });

  it('parks at most 100 tasks per dequeue and says to come back at once when more are pending', async () => {
    await context.broker.setFlowLimits(queue, { perKey: { concurrency: 1 } });
    await enqueueKeyed([...Array.from({ length: 150 }, () => 'big'), 'small']);
    const first = await context.broker.dequeue([queue], { count: 5, ...lease });
    expect(first.tasks.map(keyOf)).toEqual(['big']);
    expect(first.held).toEqual([{ queue, reason: 'keys', retryAfter: 0 }]);
    expect(await context.redis.llen(key('flow:k:big:parked'))).toBe(100);
    const second = await context.broker.dequeue([queue], { count: 5, ...lease });
    expect(second.tasks.map(keyOf)).toEqual(['small']);
    expect((await context.broker.queueStats(queue, Date.now())).pending).toBe(149);
    // Listed as pending: the pending list's tasks first, then the parked ones, oldest first, page by page.
    const pages = [];
    for (let page = 1; page <= 4; page += 1) {
      pages.push(...(await context.broker.listTasks(queue, 'pending', { page, pageSize: 40 })));
    }
    expect(pages).toHaveLength(149);
    expect(new Set(pages.map((task) => task.message.id)).size).toBe(149);
    expect(pages.slice(0, 49).map((task) => keyOf(task))).toEqual(Array(49).fill('big'));
  });

  it('deletes and archives a single parked task, and runs none twice', async () => {
    await context.broker.setFlowLimits(queue, { perKey: { concurrency: 1 } });
    const [, second, third] = await enqueueKeyed(['a', 'a', 'a']);
    await context.broker.dequeue([queue], { count: 5, ...lease });
    await context.broker.deleteTask(queue, second!);
    await context.broker.archiveTask(queue, third!);
    expect(await context.redis.exists(key(`t:${second}`))).toBe(0);
    expect((await context.broker.getTask(queue, third!)).state).toBe('archived');
    expect(await context.redis.llen(key('flow:k:a:parked'))).toBe(0);
    expect((await context.broker.queueStats(queue, Date.now())).pending).toBe(0);
  });

  it('refuses to remove a queue with parked tasks unless forced, and deletes them when forced', async () => {
    await context.broker.setFlowLimits(queue, { perKey: { concurrency: 1 } });
    const [first, second] = await enqueueKeyed(['a', 'a']);
    const [task] = (await context.broker.dequeue([queue], { count: 5, ...lease })).tasks;
    await context.broker.done(task!.message, { token: task!.leaseToken });
    expect(await context.redis.llen(key('flow:k:a:parked'))).toBe(1);
    await expect(context.broker.removeQueue(queue, false)).rejects.toBeInstanceOf(QueueNotEmptyError);
    await context.broker.removeQueue(queue, true);
    expect(await context.redis.exists(key(`t:${second}`), key('flow:k:a:parked'), key('flow:parked'))).toBe(
      0,
    );
    expect(first).toBeDefined();
    // The limits are configuration and stay.
    expect((await context.broker.flowState(queue)).limits).toEqual({ perKey: { concurrency: 1 } });
  });

  it('puts parked tasks back at the head of pending, oldest first, when per-key limits are cleared', async () => {
    await context.broker.setFlowLimits(queue, { perKey: { concurrency: 1 } });
    const ids = await enqueueKeyed(['a', 'a', 'a', 'a']);
    await context.broker.dequeue([queue], { count: 5, ...lease });
    await context.broker.clearFlowLimits(queue);
    const taken = await context.broker.dequeue([queue], { count: 5, ...lease });
    expect(taken.tasks.map((task) => task.message.id)).toEqual(ids.slice(1));
    expect(await context.redis.keys(key('flow*'))).toEqual([]);
  });

  it('releases a rate-held key once its window moved on, oldest parked task first', async () => {
    await context.broker.setFlowLimits(queue, { perKey: { rate: { limit: 1, period: 200 } } });
    const ids = await enqueueKeyed(['a', 'a', 'a']);
    expect(
      (await context.broker.dequeue([queue], { count: 5, ...lease })).tasks.map((task) => task.message.id),
    ).toEqual([ids[0]]);
    const held = await context.broker.dequeue([queue], { count: 5, ...lease });
    expect(held.held?.[0]).toMatchObject({ reason: 'keys' });
    const retryAfter = held.held?.[0]?.retryAfter ?? 200;
    expect(retryAfter).toBeLessThanOrEqual(200);
    await new Promise((resolve) => setTimeout(resolve, retryAfter + 20));
    expect(
      (await context.broker.dequeue([queue], { count: 5, ...lease })).tasks.map((task) => task.message.id),
    ).toEqual([ids[1]]);
  });

  it('holds a task to both its key and its queue: the queue limit caps the keys together', async () => {
    await context.broker.setFlowLimits(queue, { concurrency: 3, perKey: { concurrency: 2 } });
    await enqueueKeyed(['a', 'a', 'a', 'b', 'b', 'c']);
    const taken = await context.broker.dequeue([queue], { count: 10, ...lease });
    expect(taken.tasks.map(keyOf)).toEqual(['a', 'a', 'b']);
    expect(taken.held).toEqual([{ queue, reason: 'concurrency' }]);
    expect((await context.broker.dequeue([queue], { count: 10, ...lease })).held).toEqual([
      { queue, reason: 'concurrency' },
    ]);
    await context.broker.done(taken.tasks[0]!.message, { token: taken.tasks[0]!.leaseToken });
    // The freed slot, of the queue and of key 'a' at once, goes to the oldest task: the third 'a'.
    expect((await context.broker.dequeue([queue], { count: 10, ...lease })).tasks.map(keyOf)).toEqual(['a']);
  });

  it('lets a key with 10x the tasks of another never starve it, and never runs more than the limit per key', async () => {
    await context.broker.setFlowLimits(queue, { perKey: { concurrency: 2 } });
    await enqueueKeyed([
      ...Array.from({ length: 300 }, () => 'big'),
      ...Array.from({ length: 30 }, () => 'small'),
    ]);
    const running: LeasedTask[] = [];
    let bigDone = 0;
    let smallDone = 0;
    let bigDoneWhenSmallFinished: number | undefined;
    // Three workers of concurrency 2 in turn: each takes what the limits allow, then finishes its oldest.
    for (let round = 0; round < 400 && bigDone + smallDone < 330; round += 1) {
      const result = await context.broker.dequeue([queue], { count: 6 - running.length, ...lease });
      running.push(...result.tasks);
      for (const flowKey of ['big', 'small']) {
        expect(running.filter((task) => keyOf(task) === flowKey).length).toBeLessThanOrEqual(2);
      }
      const finished = running.shift();
      if (!finished) continue;
      await context.broker.done(finished.message, { token: finished.leaseToken });
      if (keyOf(finished) === 'big') bigDone += 1;
      else smallDone += 1;
      if (smallDone === 30 && bigDoneWhenSmallFinished === undefined) bigDoneWhenSmallFinished = bigDone;
    }
    expect(bigDone + smallDone).toBe(330);
    // Both keys ran side by side: the small key finished while the big one had most of its backlog left.
    expect(bigDoneWhenSmallFinished).toBeLessThan(60);
    expect(await context.redis.exists(key('flow:parked'))).toBe(0);
  });
});
