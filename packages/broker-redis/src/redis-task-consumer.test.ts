import { LeaseLostError, TaskNotFoundError, type Logger, type TaskMessage } from '@q/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestContext, taskMessage, type TestContext } from '../test/redis-test-context';
import { malformedTaskType } from './malformed-record';
import { decodeServerInfo, decodeWorkerInfo } from './server-state-codec';
import { decodeTaskMessage, encodeTaskMessage } from './task-message-codec';
import { toUtcDate } from './unix-time';

let context: TestContext;
let prefix: string;

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (fields: unknown, message?: string): void => {
    lines.push(`${message ?? String(fields)} ${JSON.stringify(fields)}`);
  };
  return { lines, debug: log, info: log, warn: log, error: log };
}

let logger: ReturnType<typeof recordingLogger>;

beforeEach(() => {
  logger = recordingLogger();
  context = createTestContext({ logger });
  prefix = context.prefix;
});

afterEach(async () => {
  await context.close();
});

const key = (queue: string, rest: string): string => `${prefix}:{${queue}}:${rest}`;
const today = (): string => toUtcDate(Date.now());

async function enqueueAndDequeue(message: TaskMessage = taskMessage()): Promise<TaskMessage> {
  await context.broker.enqueue({ message });
  const { tasks } = await context.broker.dequeue([message.queue], { count: 1, leaseDuration: 30_000 });
  expect(tasks.map((task) => task.message.id)).toEqual([message.id]);
  return tasks[0]!.message;
}

describe('dequeue', () => {
  it('moves the oldest pending task to active with a lease, state active and no pending_since', async () => {
    const { broker, redis } = context;
    const first = taskMessage();
    const second = taskMessage();
    await broker.enqueue({ message: first });
    await broker.enqueue({ message: second });
    const before = Date.now();
    const { tasks, malformed } = await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
    expect(malformed).toEqual([]);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.message).toEqual(first);
    expect(tasks[0]!.leaseExpiresAt).toBeGreaterThanOrEqual(before + 30_000);
    expect(await redis.lrange(key('default', 'active'), 0, -1)).toEqual([first.id]);
    expect(await redis.lrange(key('default', 'pending'), 0, -1)).toEqual([second.id]);
    expect(await redis.zscore(key('default', 'lease'), first.id)).toBe(
      String(Math.floor(tasks[0]!.leaseExpiresAt / 1000)),
    );
    const hash = await redis.hgetall(key('default', `t:${first.id}`));
    expect(hash.state).toBe('active');
    expect(hash.pending_since).toBeUndefined();
  });

  it('takes up to count tasks, trying queues in the given order', async () => {
    const { broker } = context;
    const high = [taskMessage({ queue: 'high' }), taskMessage({ queue: 'high' })];
    const low = [taskMessage({ queue: 'low' }), taskMessage({ queue: 'low' })];
    for (const message of [...low, ...high]) await broker.enqueue({ message });
    const { tasks } = await broker.dequeue(['high', 'low'], { count: 3, leaseDuration: 30_000 });
    expect(tasks.map((task) => task.message.id)).toEqual([high[0]!.id, high[1]!.id, low[0]!.id]);
    const rest = await broker.dequeue(['high', 'low'], { count: 3, leaseDuration: 30_000 });
    expect(rest.tasks.map((task) => task.message.id)).toEqual([low[1]!.id]);
    expect(await broker.dequeue(['high', 'low'], { count: 3, leaseDuration: 30_000 })).toEqual({
      tasks: [],
      malformed: [],
    });
  });

  it('skips paused queues', async () => {
    const { broker } = context;
    await broker.enqueue({ message: taskMessage({ queue: 'paused' }) });
    await broker.pauseQueue('paused');
    expect((await broker.dequeue(['paused'], { count: 1, leaseDuration: 30_000 })).tasks).toEqual([]);
    await broker.unpauseQueue('paused');
    expect((await broker.dequeue(['paused'], { count: 1, leaseDuration: 30_000 })).tasks).toHaveLength(1);
  });

  it('archives malformed records with the reason and their bytes, reports them and carries on', async () => {
    const { broker, redis } = context;
    const good = taskMessage();
    await broker.enqueue({ message: good });
    const stray = taskMessage({ id: 'stray' });
    await redis.hset(key('default', 't:garbage'), 'msg', Buffer.from([0x0a, 0xff, 0x01]), 'state', 'pending');
    await redis.hset(key('default', 't:no-msg'), 'state', 'pending');
    await redis.set(key('default', 't:a-string'), 'hello');
    await redis.hset(
      key('default', 't:other-id'),
      'msg',
      Buffer.from(encodeTaskMessage(stray)),
      'state',
      'pending',
    );
    await redis.lpush(key('default', 'pending'), 'garbage', 'missing', 'no-msg', 'a-string', 'other-id');
    const { tasks, malformed } = await broker.dequeue(['default'], { count: 10, leaseDuration: 30_000 });
    expect(tasks.map((task) => task.message.id)).toEqual([good.id]);
    expect(malformed.map((record) => record.taskId)).toEqual([
      'garbage',
      'missing',
      'no-msg',
      'a-string',
      'other-id',
    ]);
    expect(malformed.every((record) => record.queue === 'default' && record.reason.length > 0)).toBe(true);
    expect(malformed[3]!.reason).toMatch(/Redis string, not a hash/);
    expect(await redis.lrange(key('default', 'active'), 0, -1)).toEqual([good.id]);
    expect(await redis.zrange(key('default', 'lease'), 0, -1)).toEqual([good.id]);
    expect((await redis.zrange(key('default', 'archived'), 0, -1)).sort()).toEqual(
      ['a-string', 'garbage', 'missing', 'no-msg', 'other-id'].sort(),
    );
    const garbage = decodeTaskMessage((await redis.hgetBuffer(key('default', 't:garbage'), 'msg'))!);
    expect(garbage).toMatchObject({ id: 'garbage', queue: 'default', type: malformedTaskType });
    expect(Buffer.from(garbage.payload)).toEqual(Buffer.from([0x0a, 0xff, 0x01]));
    expect(garbage.errorMessage).toMatch(/malformed/);
    expect(await redis.hget(key('default', 't:garbage'), 'state')).toBe('archived');
    // A record of another type is replaced by a hash whose payload restores it (DUMP format).
    expect(await redis.type(key('default', 't:a-string'))).toBe('hash');
    const dumped = decodeTaskMessage((await redis.hgetBuffer(key('default', 't:a-string'), 'msg'))!).payload;
    await redis.restore(key('default', 'restored'), 0, Buffer.from(dumped));
    expect(await redis.get(key('default', 'restored'))).toBe('hello');
    const other = decodeTaskMessage((await redis.hgetBuffer(key('default', 't:other-id'), 'msg'))!);
    expect(decodeTaskMessage(other.payload)).toEqual(stray);
    expect(logger.lines.filter((line) => line.startsWith('Archived a malformed task record'))).toHaveLength(
      5,
    );
  });

  it('skips a queue whose pending key is broken and still serves the others', async () => {
    const { broker, redis } = context;
    await redis.set(key('broken', 'pending'), 'not a list');
    const message = taskMessage({ queue: 'fine' });
    await broker.enqueue({ message });
    const { tasks } = await broker.dequeue(['broken', 'fine'], { count: 2, leaseDuration: 30_000 });
    expect(tasks.map((task) => task.message.id)).toEqual([message.id]);
    expect(logger.lines.some((line) => line.includes('Could not dequeue from this queue'))).toBe(true);
  });
});

describe('waitForTasks', () => {
  it('resolves true as soon as a producer enqueues to one of the queues', async () => {
    const { broker } = context;
    const waiting = broker.waitForTasks(['other', 'default'], 10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await broker.enqueue({ message: taskMessage() });
    expect(await waiting).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('resolves false after the timeout, or when aborted', async () => {
    const { broker } = context;
    expect(await broker.waitForTasks(['default'], 50)).toBe(false);
    const controller = new AbortController();
    const waiting = broker.waitForTasks(['default'], 10_000, controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
  });

  it('is woken by requeue, forward, run and unpause too', async () => {
    const { broker } = context;
    const wake = async (action: () => Promise<unknown>): Promise<boolean> => {
      const waiting = broker.waitForTasks(['default'], 5_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await action();
      return waiting;
    };
    const active = await enqueueAndDequeue();
    expect(await wake(() => broker.requeue(active))).toBe(true);
    const scheduled = taskMessage();
    await broker.enqueue({ message: scheduled, processAt: Date.now() + 1000 });
    expect(await wake(() => broker.forward(['default'], Date.now() + 2000))).toBe(true);
    const later = taskMessage();
    await broker.enqueue({ message: later, processAt: Date.now() + 60_000 });
    expect(await wake(() => broker.runTask('default', later.id))).toBe(true);
    await broker.pauseQueue('default');
    expect(await wake(() => broker.unpauseQueue('default'))).toBe(true);
  });
});

describe('done', () => {
  it('deletes the task and counts it processed today (expiring in 90 days) and in total', async () => {
    const { broker, redis } = context;
    const message = await enqueueAndDequeue();
    await broker.writeResult('default', message.id, new TextEncoder().encode('ok'));
    await broker.done(message);
    expect(await redis.exists(key('default', `t:${message.id}`))).toBe(0);
    expect(await redis.llen(key('default', 'active'))).toBe(0);
    expect(await redis.zcard(key('default', 'lease'))).toBe(0);
    expect(await redis.get(key('default', `processed:${today()}`))).toBe('1');
    const ttl = await redis.ttl(key('default', `processed:${today()}`));
    expect(ttl).toBeGreaterThan(90 * 86_400 - 60);
    expect(await redis.get(key('default', 'processed'))).toBe('1');
    expect(await redis.exists(key('default', `failed:${today()}`))).toBe(0);
  });

  it('wraps the total processed counter to 1 at the int64 maximum', async () => {
    const { broker, redis } = context;
    await redis.set(key('default', 'processed'), '9223372036854775807');
    await broker.done(await enqueueAndDequeue());
    expect(await redis.get(key('default', 'processed'))).toBe('1');
  });

  it('releases the uniqueness lock only while it holds this task id', async () => {
    const { broker, redis } = context;
    const unique = taskMessage();
    const { message } = await broker.enqueue({ message: unique, uniqueTtl: 60_000 });
    await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
    await broker.done(message);
    expect(await redis.exists(message.uniqueKey)).toBe(0);

    const second = (await broker.enqueue({ message: taskMessage(), uniqueTtl: 60_000 })).message;
    await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
    await redis.set(second.uniqueKey, 'someone-else');
    await broker.done(second);
    expect(await redis.get(second.uniqueKey)).toBe('someone-else');
  });

  it('refuses with LeaseLostError and changes nothing when the task is no longer leased', async () => {
    const { broker, redis } = context;
    const message = await enqueueAndDequeue();
    await redis.zrem(key('default', 'lease'), message.id);
    await expect(broker.done(message)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await redis.exists(key('default', `t:${message.id}`))).toBe(1);
    expect(await redis.lrange(key('default', 'active'), 0, -1)).toEqual([message.id]);
    expect(await redis.exists(key('default', 'processed'))).toBe(0);
    for (const act of [
      () => broker.markComplete(message, Date.now()),
      () => broker.requeue(message),
      () => broker.retry(message, { processAt: Date.now(), errorMessage: 'x', isFailure: true }),
      () => broker.archive(message, 'x'),
    ]) {
      await expect(act()).rejects.toBeInstanceOf(LeaseLostError);
    }
    expect(await redis.hget(key('default', `t:${message.id}`), 'state')).toBe('active');
  });
});

describe('done, for tasks finished together', () => {
  it('acknowledges them in one script call, each fenced on its own lease', async () => {
    const { broker, redis } = context;
    const messages = Array.from({ length: 6 }, () => taskMessage());
    for (const message of messages) await broker.enqueue({ message });
    const unique = (await broker.enqueue({ message: taskMessage(), uniqueTtl: 60_000 })).message;
    const { tasks } = await broker.dequeue(['default'], { count: 10, leaseDuration: 30_000 });
    expect(tasks).toHaveLength(7);
    const [lost, stolen, ...rest] = tasks;
    // One lease gone, one taken over by another worker under a new token.
    await redis.zrem(key('default', 'lease'), lost!.message.id);
    await redis.hset(key('default', `t:${stolen!.message.id}`), 'lease_owner', 'another-worker');
    await redis.set(key('default', 'processed'), '9223372036854775806');

    const monitor = await redis.monitor();
    const scriptCalls: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^eval/i.test(args[0] ?? '') && args.some((arg) => arg.startsWith(`${prefix}:`)))
        scriptCalls.push(args);
    });
    const settled = await Promise.allSettled(
      tasks.map((task) => broker.done(task.message, { token: task.leaseToken! })),
    );
    await redis.ping();
    monitor.disconnect();

    expect(scriptCalls).toHaveLength(1);
    expect(settled.map((outcome) => outcome.status)).toEqual([
      'rejected',
      'rejected',
      ...rest.map(() => 'fulfilled'),
    ]);
    for (const outcome of settled.slice(0, 2)) {
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(LeaseLostError);
    }
    expect((await redis.lrange(key('default', 'active'), 0, -1)).sort()).toEqual(
      [lost!.message.id, stolen!.message.id].sort(),
    );
    for (const task of rest) expect(await redis.exists(key('default', `t:${task.message.id}`))).toBe(0);
    expect(await redis.exists(unique.uniqueKey)).toBe(0);
    expect(await redis.get(key('default', `processed:${today()}`))).toBe(String(rest.length));
    expect(await redis.ttl(key('default', `processed:${today()}`))).toBeGreaterThan(90 * 86_400 - 60);
    // The total passed the int64 maximum: it wraps to the number just done, as one at a time would.
    expect(await redis.get(key('default', 'processed'))).toBe(String(rest.length));
  });

  it('acknowledges tasks of several queues with one call per queue', async () => {
    const { broker, redis } = context;
    const messages = ['default', 'default', 'low', 'low'].map((queue) => taskMessage({ queue }));
    for (const message of messages) await broker.enqueue({ message });
    const { tasks } = await broker.dequeue(['default', 'low'], { count: 4, leaseDuration: 30_000 });
    await Promise.all(tasks.map((task) => broker.done(task.message)));
    expect(await redis.get(key('default', 'processed'))).toBe('2');
    expect(await redis.get(key('low', 'processed'))).toBe('2');
    expect(await redis.llen(key('low', 'active'))).toBe(0);
  });
});

describe('done, carried by the next dequeue', () => {
  /** Records the script calls on this test's keys while `act` runs. */
  async function scriptCallsDuring(act: () => Promise<void>): Promise<string[][]> {
    const monitor = await context.redis.monitor();
    const calls: string[][] = [];
    const marker = `end-of-${prefix}`;
    let sawMarker: () => void = () => undefined;
    const markerSeen = new Promise<void>((resolve) => (sawMarker = resolve));
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^eval/i.test(args[0] ?? '') && args.some((arg) => arg.startsWith(`${prefix}:`))) calls.push(args);
      if (args[1] === marker) sawMarker();
    });
    await act();
    // MONITOR reports commands in the order Redis ran them: once the marker is seen, every call is in.
    await context.redis.echo(marker);
    await markerSeen;
    monitor.disconnect();
    return calls;
  }

  it('acknowledges the tasks that finished in the same turn in the dequeue call, each fenced on its own', async () => {
    const { broker, redis } = context;
    for (let index = 0; index < 4; index += 1) await broker.enqueue({ message: taskMessage() });
    const unique = (await broker.enqueue({ message: taskMessage(), uniqueTtl: 60_000 })).message;
    await broker.enqueue({ message: taskMessage() });
    const first = await broker.dequeue(['default'], { count: 5, leaseDuration: 30_000 });
    expect(first.tasks).toHaveLength(5);
    const [stolen, ...rest] = first.tasks;
    await redis.hset(key('default', `t:${stolen!.message.id}`), 'lease_owner', 'another-worker');

    let settled: PromiseSettledResult<void>[] = [];
    let next: Awaited<ReturnType<typeof broker.dequeue>> | undefined;
    const calls = await scriptCallsDuring(async () => {
      // The dequeue starts first, as the fetch loop's does when the slots come free; the acknowledgements
      // of the same turn still ride with it.
      const dequeuing = broker.dequeue(['default'], { count: 10, leaseDuration: 30_000 });
      const acknowledging = Promise.allSettled(
        first.tasks.map((task) => broker.done(task.message, { token: task.leaseToken! })),
      );
      [next, settled] = await Promise.all([dequeuing, acknowledging]);
    });

    expect(calls).toHaveLength(1);
    expect(settled.map((outcome) => outcome.status)).toEqual(['rejected', ...rest.map(() => 'fulfilled')]);
    expect((settled[0] as PromiseRejectedResult).reason).toBeInstanceOf(LeaseLostError);
    expect(next!.tasks).toHaveLength(1);
    const active = await redis.lrange(key('default', 'active'), 0, -1);
    expect(active.sort()).toEqual([stolen!.message.id, ...next!.tasks.map((task) => task.message.id)].sort());
    for (const task of rest) expect(await redis.exists(key('default', `t:${task.message.id}`))).toBe(0);
    expect(await redis.get(key('default', `processed:${today()}`))).toBe(String(rest.length));
    expect(await redis.get(key('default', 'processed'))).toBe(String(rest.length));
    expect(await redis.llen(key('default', 'pending'))).toBe(0);
    // The unique task (the fifth) was acknowledged with the others: its lock is gone.
    expect(rest.map((task) => task.message.id)).toContain(unique.id);
    expect(await redis.exists(unique.uniqueKey)).toBe(0);
  });

  it('acknowledges them even when the queue is paused and nothing is taken', async () => {
    const { broker, redis } = context;
    for (let index = 0; index < 3; index += 1) await broker.enqueue({ message: taskMessage() });
    const { tasks } = await broker.dequeue(['default'], { count: 3, leaseDuration: 30_000 });
    await broker.pauseQueue('default');
    const calls = await scriptCallsDuring(async () => {
      const [next] = await Promise.all([
        broker.dequeue(['default'], { count: 10, leaseDuration: 30_000 }),
        ...tasks.map((task) => broker.done(task.message, { token: task.leaseToken! })),
      ]);
      expect(next.tasks).toEqual([]);
    });
    expect(calls).toHaveLength(1);
    expect(await redis.llen(key('default', 'active'))).toBe(0);
    expect(await redis.get(key('default', 'processed'))).toBe('3');
  });

  for (const [what, breakQueue] of [
    ['pending cannot be popped', (redis: TestContext['redis']) => redis.set(key('default', 'pending'), 'x')],
    ['the flow hash is not a hash', (redis: TestContext['redis']) => redis.set(key('default', 'flow'), 'x')],
  ] as const) {
    it(`still answers the acknowledgements in the one call when ${what}, and skips the queue`, async () => {
      const { broker, redis } = context;
      await broker.enqueue({ message: taskMessage() });
      await broker.enqueue({ message: taskMessage() });
      const { tasks } = await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
      await breakQueue(redis);
      let settled: PromiseSettledResult<unknown>[] = [];
      const calls = await scriptCallsDuring(async () => {
        settled = await Promise.allSettled([
          broker.dequeue(['default'], { count: 10, leaseDuration: 30_000 }),
          broker.done(tasks[0]!.message, { token: tasks[0]!.leaseToken! }),
        ]);
      });
      expect(calls).toHaveLength(1);
      expect(settled.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
      expect((settled[0] as PromiseFulfilledResult<{ tasks: unknown[] }>).value.tasks).toEqual([]);
      expect(await redis.get(key('default', 'processed'))).toBe('1');
      expect(await redis.exists(key('default', `t:${tasks[0]!.message.id}`))).toBe(0);
      expect(logger.lines.some((line) => line.startsWith('Could not dequeue from this queue'))).toBe(true);
    });
  }

  it('frees the slots of a queue concurrency limit before it takes, in the same call', async () => {
    const { broker } = context;
    await broker.setFlowLimits('default', { concurrency: 2 });
    for (let index = 0; index < 4; index += 1) await broker.enqueue({ message: taskMessage() });
    const first = await broker.dequeue(['default'], { count: 4, leaseDuration: 30_000 });
    expect(first.tasks).toHaveLength(2);
    let next: Awaited<ReturnType<typeof broker.dequeue>> | undefined;
    const calls = await scriptCallsDuring(async () => {
      [next] = await Promise.all([
        broker.dequeue(['default'], { count: 10, leaseDuration: 30_000 }),
        ...first.tasks.map((task) => broker.done(task.message, { token: task.leaseToken! })),
      ]);
    });
    expect(calls).toHaveLength(1);
    expect(next!.tasks).toHaveLength(2);
  });

  it('leaves acknowledgements to their own call when the dequeue asks for fewer than 5 tasks', async () => {
    const { broker, redis } = context;
    for (let index = 0; index < 4; index += 1) await broker.enqueue({ message: taskMessage() });
    const { tasks } = await broker.dequeue(['default'], { count: 2, leaseDuration: 30_000 });
    let next: Awaited<ReturnType<typeof broker.dequeue>> | undefined;
    const calls = await scriptCallsDuring(async () => {
      [next] = await Promise.all([
        broker.dequeue(['default'], { count: 4, leaseDuration: 30_000 }),
        ...tasks.map((task) => broker.done(task.message, { token: task.leaseToken! })),
      ]);
    });
    // Small batches: Redis answers the dequeue before it writes the acknowledgements (see the broker).
    expect(calls).toHaveLength(2);
    expect(next!.tasks).toHaveLength(2);
    expect(await redis.get(key('default', 'processed'))).toBe('2');
  });

  it('leaves acknowledgements of another queue to their own call', async () => {
    const { broker, redis } = context;
    await broker.enqueue({ message: taskMessage({ queue: 'low' }) });
    await broker.enqueue({ message: taskMessage() });
    const { tasks } = await broker.dequeue(['low'], { count: 1, leaseDuration: 30_000 });
    const calls = await scriptCallsDuring(async () => {
      await Promise.all([
        broker.dequeue(['default'], { count: 10, leaseDuration: 30_000 }),
        broker.done(tasks[0]!.message),
      ]);
    });
    expect(calls).toHaveLength(2);
    expect(await redis.get(key('low', 'processed'))).toBe('1');
    expect(await redis.exists(key('default', 'processed'))).toBe(0);
  });
});

describe('markComplete', () => {
  it('keeps the task as completed until completed_at + retention, with its result', async () => {
    const { broker, redis } = context;
    const message = await enqueueAndDequeue(taskMessage({ retentionSeconds: 3600 }));
    await broker.writeResult('default', message.id, new TextEncoder().encode('done'));
    const completedAt = Date.now();
    await broker.markComplete(message, completedAt);
    const seconds = Math.floor(completedAt / 1000);
    expect(await redis.zscore(key('default', 'completed'), message.id)).toBe(String(seconds + 3600));
    const hash = await redis.hgetallBuffer(key('default', `t:${message.id}`));
    expect(hash.state!.toString()).toBe('completed');
    expect(hash.result!.toString()).toBe('done');
    expect(decodeTaskMessage(hash.msg!)).toEqual({ ...message, completedAtUnixSeconds: seconds });
    expect(await redis.get(key('default', 'processed'))).toBe('1');
    expect(await redis.llen(key('default', 'active'))).toBe(0);
  });

  it('releases a uniqueness lock held by the task', async () => {
    const { broker, redis } = context;
    const { message } = await broker.enqueue({
      message: taskMessage({ retentionSeconds: 60 }),
      uniqueTtl: 60_000,
    });
    await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
    await broker.markComplete(message, Date.now());
    expect(await redis.exists(message.uniqueKey)).toBe(0);
  });
});

describe('requeue', () => {
  it('puts the task at the head of pending, taken next, without pending_since or a spent retry', async () => {
    const { broker, redis } = context;
    const waiting = taskMessage();
    const message = await enqueueAndDequeue();
    await broker.enqueue({ message: waiting });
    await broker.requeue(message);
    expect(await redis.lrange(key('default', 'pending'), 0, -1)).toEqual([waiting.id, message.id]);
    const hash = await redis.hgetall(key('default', `t:${message.id}`));
    expect(hash).toMatchObject({ state: 'pending' });
    expect(hash.pending_since).toBeUndefined();
    expect(decodeTaskMessage(Buffer.from(hash.msg!, 'latin1'))).toBeDefined();
    const { tasks } = await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
    expect(tasks[0]!.message).toEqual(message);
  });
});

describe('retry', () => {
  it('scores the task by its retry time, records the failure and counts it failed', async () => {
    const { broker, redis } = context;
    const message = await enqueueAndDequeue();
    const processAt = Date.now() + 60_000;
    await broker.retry(message, { processAt, errorMessage: 'boom', isFailure: true });
    expect(await redis.zscore(key('default', 'retry'), message.id)).toBe(
      String(Math.floor(processAt / 1000)),
    );
    const stored = decodeTaskMessage((await redis.hgetBuffer(key('default', `t:${message.id}`), 'msg'))!);
    expect(stored).toMatchObject({ retried: 1, errorMessage: 'boom' });
    expect(stored.lastFailedAtUnixSeconds).toBeGreaterThan(0);
    expect(await redis.hget(key('default', `t:${message.id}`), 'state')).toBe('retry');
    expect(await redis.get(key('default', `processed:${today()}`))).toBe('1');
    expect(await redis.get(key('default', `failed:${today()}`))).toBe('1');
    expect(await redis.ttl(key('default', `failed:${today()}`))).toBeGreaterThan(90 * 86_400 - 60);
    expect(await redis.get(key('default', 'failed'))).toBe('1');
    expect(await redis.llen(key('default', 'active'))).toBe(0);
  });

  it('neither counts nor spends a retry when the attempt is not a failure', async () => {
    const { broker, redis } = context;
    const message = await enqueueAndDequeue();
    await broker.retry(message, { processAt: Date.now(), errorMessage: 'busy', isFailure: false });
    const stored = decodeTaskMessage((await redis.hgetBuffer(key('default', `t:${message.id}`), 'msg'))!);
    expect(stored).toMatchObject({ retried: 0, errorMessage: 'busy' });
    expect(await redis.exists(key('default', 'processed'), key('default', 'failed'))).toBe(0);
  });

  it('keeps the uniqueness lock', async () => {
    const { broker, redis } = context;
    const { message } = await broker.enqueue({ message: taskMessage(), uniqueTtl: 60_000 });
    await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
    await broker.retry(message, { processAt: Date.now(), errorMessage: 'x', isFailure: true });
    expect(await redis.get(message.uniqueKey)).toBe(message.id);
  });
});

describe('archive', () => {
  it('archives the task with its error, counting it processed and failed', async () => {
    const { broker, redis } = context;
    const message = await enqueueAndDequeue();
    await broker.archive(message, 'gave up');
    expect(Number(await redis.zscore(key('default', 'archived'), message.id))).toBeCloseTo(
      Date.now() / 1000,
      -1,
    );
    const stored = decodeTaskMessage((await redis.hgetBuffer(key('default', `t:${message.id}`), 'msg'))!);
    expect(stored).toMatchObject({ retried: 0, errorMessage: 'gave up' });
    expect(await redis.hget(key('default', `t:${message.id}`), 'state')).toBe('archived');
    expect(await redis.get(key('default', 'failed'))).toBe('1');
    expect(await redis.get(key('default', 'processed'))).toBe('1');
  });

  it('trims archived tasks older than 90 days and beyond 9,999, deleting their records (Asynq v0.25+)', async () => {
    const { broker, redis } = context;
    const now = Math.floor(Date.now() / 1000);
    await redis.eval(
      `for i = 1, 10000 do
         redis.call('ZADD', KEYS[1], ARGV[1] + i, 'old-' .. i)
         redis.call('HSET', ARGV[2] .. 'old-' .. i, 'state', 'archived')
       end
       redis.call('ZADD', KEYS[1], ARGV[3], 'ancient')
       redis.call('HSET', ARGV[2] .. 'ancient', 'state', 'archived')`,
      1,
      key('default', 'archived'),
      now - 20_000,
      key('default', 't:'),
      now - 91 * 86_400,
    );
    const message = await enqueueAndDequeue();
    await broker.archive(message, 'x');
    expect(await redis.zcard(key('default', 'archived'))).toBe(9999);
    expect(await redis.exists(key('default', 't:ancient'))).toBe(0);
    expect(await redis.exists(key('default', 't:old-1'), key('default', 't:old-2'))).toBe(0);
    expect(await redis.exists(key('default', 't:old-3'))).toBe(1);
    expect(await redis.zscore(key('default', 'archived'), message.id)).not.toBeNull();
  });
});

describe('extendLeases', () => {
  it('moves the lease of tasks still held and reports the ones lost', async () => {
    const { broker, redis } = context;
    const held = await enqueueAndDequeue();
    const extension = await broker.extendLeases('default', [held.id, 'gone'], 60_000);
    expect(extension.lost).toEqual(['gone']);
    expect(await redis.zscore(key('default', 'lease'), held.id)).toBe(
      String(Math.floor(extension.leaseExpiresAt / 1000)),
    );
    expect(await redis.zscore(key('default', 'lease'), 'gone')).toBeNull();
    expect((await broker.extendLeases('default', [], 60_000)).lost).toEqual([]);
  });

  it('keeps tasks whose expiry did not move (extended twice within a second) and finds the lost among many', async () => {
    const { broker, redis } = context;
    const held = await Promise.all([1, 2, 3].map(() => enqueueAndDequeue()));
    const ids = held.map((message) => message.id);
    const first = await broker.extendLeases('default', ids, 60_000);
    expect(first.lost).toEqual([]);
    // The same expiry second again: ZADD XX CH counts no change, each task is looked up and still held.
    await redis.zadd(key('default', 'lease'), Math.floor(first.leaseExpiresAt / 1000) + 100, ids[0]!);
    expect((await broker.extendLeases('default', ids, 60_000)).lost).toEqual([]);
    await redis.zrem(key('default', 'lease'), ids[1]!);
    expect((await broker.extendLeases('default', ids, 60_000)).lost).toEqual([ids[1]]);
    expect(await redis.zscore(key('default', 'lease'), ids[1]!)).toBeNull();
  });
});

describe('writeResult', () => {
  it('stores the result bytes, and refuses a task that no longer exists', async () => {
    const { broker, redis } = context;
    const message = await enqueueAndDequeue();
    await broker.writeResult('default', message.id, new Uint8Array([0, 1, 255]));
    expect(await redis.hgetBuffer(key('default', `t:${message.id}`), 'result')).toEqual(
      Buffer.from([0, 1, 255]),
    );
    await expect(broker.writeResult('default', 'nope', new Uint8Array([1]))).rejects.toBeInstanceOf(
      TaskNotFoundError,
    );
    expect(await redis.exists(key('default', 't:nope'))).toBe(0);
  });
});

describe('listLeaseExpired', () => {
  it('lists active tasks whose lease ended by the cutoff, and those with no lease at all', async () => {
    const { broker, redis } = context;
    const expired = await enqueueAndDequeue();
    const fresh = await enqueueAndDequeue();
    const orphan = await enqueueAndDequeue();
    await redis.zadd(key('default', 'lease'), Math.floor(Date.now() / 1000) - 100, expired.id);
    await redis.zrem(key('default', 'lease'), orphan.id);
    const cutoff = Date.now() - 30_000;
    const found = await broker.listLeaseExpired(['default', 'empty'], cutoff);
    expect(found.map((message) => message.id).sort()).toEqual([expired.id, orphan.id].sort());
    expect(found.map((message) => message.id)).not.toContain(fresh.id);
    // The orphan now has an expired lease, so the recoverer's retry is accepted.
    await broker.retry(orphan, {
      processAt: Date.now(),
      errorMessage: 'asynq: task lease expired',
      isFailure: true,
    });
    expect(await redis.hget(key('default', `t:${orphan.id}`), 'state')).toBe('retry');
  });

  it('reads the active list only when it holds more tasks than the lease set', async () => {
    const { broker, redis } = context;
    const leased = await enqueueAndDequeue();
    expect(await broker.listLeaseExpired(['default'], Date.now() - 1000)).toEqual([]);
    await redis.zrem(key('default', 'lease'), leased.id);
    const [orphan] = await broker.listLeaseExpired(['default'], Date.now() - 1000);
    expect(orphan?.id).toBe(leased.id);
  });

  it('archives malformed records instead of returning them', async () => {
    const { broker, redis } = context;
    await redis.rpush(key('default', 'active'), 'broken');
    await redis.zadd(key('default', 'lease'), 1, 'broken');
    await redis.hset(key('default', 't:broken'), 'msg', 'not protobuf \xff', 'state', 'active');
    expect(await broker.listLeaseExpired(['default'], Date.now())).toEqual([]);
    expect(await redis.zrange(key('default', 'archived'), 0, -1)).toEqual(['broken']);
    expect(await redis.llen(key('default', 'active'))).toBe(0);
  });
});

describe('forward', () => {
  it('moves due scheduled and retry tasks to pending, with pending_since, and leaves the rest', async () => {
    const { broker, redis } = context;
    const due = taskMessage();
    const later = taskMessage();
    await broker.enqueue({ message: due, processAt: Date.now() + 1000 });
    await broker.enqueue({ message: later, processAt: Date.now() + 3_600_000 });
    const failed = await enqueueAndDequeue();
    await broker.retry(failed, { processAt: Date.now() + 1000, errorMessage: 'x', isFailure: true });
    expect(await broker.forward(['default'], Date.now() + 5000)).toBe(2);
    expect((await redis.lrange(key('default', 'pending'), 0, -1)).sort()).toEqual([due.id, failed.id].sort());
    expect(await redis.zrange(key('default', 'scheduled'), 0, -1)).toEqual([later.id]);
    expect(await redis.zcard(key('default', 'retry'))).toBe(0);
    const hash = await redis.hgetall(key('default', `t:${due.id}`));
    expect(hash.state).toBe('pending');
    expect(hash.pending_since).toMatch(/^\d{19}$/);
  });

  it('sends a task with a group field to its group, and registers the group', async () => {
    const { broker, redis } = context;
    const message = taskMessage({ groupKey: 'g' });
    await broker.enqueue({ message, processAt: Date.now() + 1000 });
    await redis.hset(key('default', `t:${message.id}`), 'group', 'g');
    expect(await broker.forward(['default'], Date.now() + 5000)).toBe(1);
    expect(await redis.zrange(key('default', 'g:g'), 0, -1)).toEqual([message.id]);
    expect(await redis.smembers(key('default', 'groups'))).toEqual(['g']);
    expect(await redis.hget(key('default', `t:${message.id}`), 'state')).toBe('aggregating');
  });

  it('moves more than one batch of 100', async () => {
    const { broker, redis } = context;
    const results = await broker.enqueueMany(
      Array.from({ length: 250 }, () => ({ message: taskMessage(), processAt: Date.now() + 1000 })),
    );
    expect(results.every((result) => result.ok)).toBe(true);
    expect(await broker.forward(['default'], Date.now() + 5000)).toBe(250);
    expect(await redis.llen(key('default', 'pending'))).toBe(250);
  });
});

describe('deleteExpiredCompleted', () => {
  it('deletes completed tasks whose retention ended, at most a batch', async () => {
    const { broker, redis } = context;
    for (let index = 0; index < 3; index += 1) {
      await broker.markComplete(await enqueueAndDequeue(taskMessage({ retentionSeconds: 10 })), Date.now());
    }
    expect(await broker.deleteExpiredCompleted('default', Date.now(), 100)).toBe(0);
    expect(await broker.deleteExpiredCompleted('default', Date.now() + 20_000, 2)).toBe(2);
    expect(await broker.deleteExpiredCompleted('default', Date.now() + 20_000, 2)).toBe(1);
    expect(await redis.keys(key('default', 't:*'))).toEqual([]);
  });
});

describe('aggregation', () => {
  async function addToGroup(count: number): Promise<TaskMessage[]> {
    const messages = Array.from({ length: count }, () => taskMessage({ queue: 'low', groupKey: 'digest' }));
    for (const message of messages) await context.broker.enqueue({ message });
    return messages;
  }

  it('lists groups, and creates no set before the group is ready', async () => {
    const { broker } = context;
    await addToGroup(2);
    expect(await broker.listGroups('low')).toEqual(['digest']);
    const options = { setId: 'set-1', maxSize: 10, maxDelay: 0, gracePeriod: 60_000, now: Date.now() };
    expect(await broker.aggregationCheck('low', 'digest', options)).toBeUndefined();
    expect(await broker.aggregationCheck('low', 'empty', options)).toBeUndefined();
  });

  it('moves max-size tasks into a set, which is read, then deleted with its tasks', async () => {
    const { broker, redis } = context;
    const messages = await addToGroup(3);
    const now = Date.now();
    const setId = await broker.aggregationCheck('low', 'digest', {
      setId: 'set-1',
      maxSize: 2,
      maxDelay: 0,
      gracePeriod: 60_000,
      now,
    });
    expect(setId).toBe('set-1');
    expect(await redis.zcard(key('low', 'g:digest:set-1'))).toBe(2);
    expect(await redis.zcard(key('low', 'g:digest'))).toBe(1);
    expect(await redis.smembers(key('low', 'groups'))).toEqual(['digest']);
    expect(Number(await redis.zscore(key('low', 'aggregation_sets'), key('low', 'g:digest:set-1')))).toBe(
      Math.floor(now / 1000) + 120,
    );
    const set = await broker.readAggregationSet('low', 'digest', 'set-1');
    expect(set.messages).toHaveLength(2);
    const ids = messages.map((message) => message.id);
    expect(set.messages.every((message) => ids.includes(message.id))).toBe(true);
    await broker.deleteAggregationSet('low', 'digest', 'set-1');
    expect(await redis.exists(key('low', 'g:digest:set-1'))).toBe(0);
    expect(await redis.zcard(key('low', 'aggregation_sets'))).toBe(0);
    for (const message of set.messages) expect(await redis.exists(key('low', `t:${message.id}`))).toBe(0);
  });

  it('aggregates everything after the grace period, and forgets the emptied group', async () => {
    const { broker, redis } = context;
    await addToGroup(3);
    const setId = await broker.aggregationCheck('low', 'digest', {
      setId: 'set-2',
      maxSize: 0,
      maxDelay: 0,
      gracePeriod: 1000,
      now: Date.now() + 5000,
    });
    expect(setId).toBe('set-2');
    expect(await redis.zcard(key('low', 'g:digest:set-2'))).toBe(3);
    expect(await broker.listGroups('low')).toEqual([]);
  });

  it('aggregates when the oldest task waited max-delay', async () => {
    const { broker } = context;
    await addToGroup(2);
    const ready = await broker.aggregationCheck('low', 'digest', {
      setId: 'set-3',
      maxSize: 0,
      maxDelay: 10_000,
      gracePeriod: 3_600_000,
      now: Date.now() + 20_000,
    });
    expect(ready).toBe('set-3');
  });

  it('returns the tasks of a set whose aggregator died to their group', async () => {
    const { broker, redis } = context;
    await addToGroup(2);
    const now = Date.now();
    await broker.aggregationCheck('low', 'digest', {
      setId: 's',
      maxSize: 0,
      maxDelay: 0,
      gracePeriod: 0,
      now,
    });
    expect(await broker.listGroups('low')).toEqual([]);
    await broker.reclaimStaleAggregationSets('low', now + 60_000);
    expect(await redis.zcard(key('low', 'g:digest'))).toBe(0);
    await broker.reclaimStaleAggregationSets('low', now + 180_000);
    expect(await redis.zcard(key('low', 'g:digest'))).toBe(2);
    expect(await redis.exists(key('low', 'g:digest:s'))).toBe(0);
    expect(await redis.zcard(key('low', 'aggregation_sets'))).toBe(0);
    expect(await broker.listGroups('low')).toEqual(['digest']);
  });
});

describe('server state', () => {
  const server = {
    host: 'web-1',
    pid: 4242,
    serverId: 'server-a',
    concurrency: 4,
    queues: { default: 3, low: 1 },
    strictPriority: false,
    status: 'active',
    startedAt: Date.now(),
    activeWorkerCount: 1,
  };

  it('publishes server and worker info with a TTL and scores them in the registries', async () => {
    const { broker, redis } = context;
    const worker = {
      host: 'web-1',
      pid: 4242,
      serverId: 'server-a',
      taskId: 't1',
      taskType: 'email:send',
      payload: new Uint8Array([1]),
      queue: 'default',
      startedAt: Date.now(),
      deadline: Date.now() + 60_000,
    };
    const now = Date.now();
    await broker.writeServerState(server, [worker], 10_000);
    const serverKey = `${prefix}:servers:{web-1:4242:server-a}`;
    const workersKey = `${prefix}:workers:{web-1:4242:server-a}`;
    expect(decodeServerInfo((await redis.getBuffer(serverKey))!)).toEqual(server);
    expect(await redis.ttl(serverKey)).toBeGreaterThan(8);
    expect(decodeWorkerInfo((await redis.hgetBuffer(workersKey, 't1'))!)).toEqual(worker);
    expect(await redis.ttl(workersKey)).toBeGreaterThan(8);
    expect(Number(await redis.zscore(`${prefix}:servers`, serverKey))).toBe(
      Math.floor((now + 10_000) / 1000),
    );
    expect(await redis.zscore(`${prefix}:workers`, workersKey)).not.toBeNull();
    await broker.writeServerState({ ...server, activeWorkerCount: 0 }, [], 10_000);
    expect(await redis.exists(workersKey)).toBe(0);
    await broker.clearServerState(server);
    expect(await redis.exists(serverKey, workersKey)).toBe(0);
    expect(await redis.zcard(`${prefix}:servers`)).toBe(0);
    expect(await redis.zcard(`${prefix}:workers`)).toBe(0);
  });
});

describe('subscribeCancel', () => {
  it('hands every cancelled task id to the listener until unsubscribed', async () => {
    const { broker } = context;
    const received: string[] = [];
    const unsubscribe = await broker.subscribeCancel((taskId) => received.push(taskId));
    await broker.publishCancel('t-1');
    await vi.waitFor(() => expect(received).toEqual(['t-1']));
    await unsubscribe();
    await broker.publishCancel('t-2');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual(['t-1']);
  });
});
