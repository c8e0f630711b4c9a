import {
  QueueNotEmptyError,
  QueueNotFoundError,
  TaskNotFoundError,
  TaskStateError,
  ValidationError,
  type TaskMessage,
} from '@q/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, taskMessage, type TestContext } from '../test/redis-test-context';
import { toUtcDate } from './unix-time';

let context: TestContext;
let prefix: string;

beforeEach(() => {
  context = createTestContext();
  prefix = context.prefix;
});

afterEach(async () => {
  await context.close();
});

const key = (queue: string, rest: string): string => `${prefix}:{${queue}}:${rest}`;

/** One task in every state of queue `default` (and group `g`). */
type PopulatedTasks = Record<
  'pending' | 'active' | 'scheduled' | 'retry' | 'archived' | 'completed' | 'aggregating',
  TaskMessage
>;

async function populate(): Promise<PopulatedTasks> {
  const { broker } = context;
  const tasks: PopulatedTasks = {
    pending: taskMessage({ type: 'pending' }),
    active: taskMessage({ type: 'active' }),
    scheduled: taskMessage({ type: 'scheduled' }),
    retry: taskMessage({ type: 'retry' }),
    archived: taskMessage({ type: 'archived' }),
    completed: taskMessage({ type: 'completed', retentionSeconds: 3600 }),
    aggregating: taskMessage({ type: 'aggregating', groupKey: 'g' }),
  };
  for (const name of ['active', 'retry', 'archived', 'completed'] as const) {
    await broker.enqueue({ message: tasks[name] });
  }
  await broker.dequeue(['default'], { count: 4, leaseDuration: 30_000 });
  await broker.retry(tasks.retry, { processAt: Date.now() + 60_000, errorMessage: 'x', isFailure: true });
  await broker.archive(tasks.archived, 'y');
  await broker.writeResult('default', tasks.completed.id, new TextEncoder().encode('result'));
  await broker.markComplete(tasks.completed, Date.now());
  await broker.enqueue({ message: tasks.pending });
  await broker.enqueue({ message: tasks.scheduled, processAt: Date.now() + 60_000 });
  await broker.enqueue({ message: tasks.aggregating });
  return tasks;
}

describe('queues and stats', () => {
  it('lists queues and reports each count, today and total counters, pause and latency', async () => {
    const { broker } = context;
    await populate();
    expect(await broker.listQueues()).toEqual(['default']);
    await broker.pauseQueue('default');
    const now = Date.now();
    const stats = await broker.queueStats('default', now);
    expect(stats).toMatchObject({
      queue: 'default',
      pending: 1,
      active: 1,
      scheduled: 1,
      retry: 1,
      archived: 1,
      completed: 1,
      aggregating: 1,
      groups: 1,
      size: 7,
      processedToday: 3,
      failedToday: 2,
      processedTotal: 3,
      failedTotal: 2,
      paused: true,
      timestamp: now,
    });
    expect(stats.memoryUsage).toBeGreaterThan(0);
    expect(stats.latency).toBeGreaterThanOrEqual(0);
    expect(stats.latency).toBeLessThan(5000);
  });

  it('reports latency from the oldest pending task, and 0 when it has no pending_since', async () => {
    const { broker, redis } = context;
    const message = taskMessage();
    await broker.enqueue({ message });
    await redis.hset(
      key('default', `t:${message.id}`),
      'pending_since',
      String(BigInt(Date.now() - 10_000) * 1_000_000n),
    );
    expect((await broker.queueStats('default', Date.now())).latency).toBeGreaterThanOrEqual(10_000);
    await redis.hdel(key('default', `t:${message.id}`), 'pending_since');
    expect((await broker.queueStats('default', Date.now())).latency).toBe(0);
  });

  it('reports daily counts, today first, and rejects unknown queues', async () => {
    const { broker, redis } = context;
    await broker.enqueue({ message: taskMessage() });
    const now = Date.now();
    await redis.set(key('default', `processed:${toUtcDate(now - 86_400_000)}`), '7');
    await redis.set(key('default', `failed:${toUtcDate(now - 86_400_000)}`), '2');
    const days = await broker.dailyStats('default', 3, now);
    expect(days).toEqual([
      { queue: 'default', date: toUtcDate(now), processed: 0, failed: 0 },
      { queue: 'default', date: toUtcDate(now - 86_400_000), processed: 7, failed: 2 },
      { queue: 'default', date: toUtcDate(now - 2 * 86_400_000), processed: 0, failed: 0 },
    ]);
    await expect(broker.dailyStats('default', 0, now)).rejects.toBeInstanceOf(ValidationError);
    await expect(broker.dailyStats('nope', 1, now)).rejects.toBeInstanceOf(QueueNotFoundError);
    await expect(broker.queueStats('nope', now)).rejects.toBeInstanceOf(QueueNotFoundError);
  });

  it('lists groups with their sizes', async () => {
    const { broker } = context;
    await broker.enqueue({ message: taskMessage({ groupKey: 'b' }) });
    await broker.enqueue({ message: taskMessage({ groupKey: 'a' }) });
    await broker.enqueue({ message: taskMessage({ groupKey: 'a' }) });
    expect(await broker.listGroupStats('default')).toEqual([
      { group: 'a', size: 2 },
      { group: 'b', size: 1 },
    ]);
  });
});

describe('listing and reading tasks', () => {
  it('lists each state with what it adds: next process time, result, orphan flag', async () => {
    const { broker, redis } = context;
    const tasks = await populate();
    const listed = async (state: Parameters<typeof broker.listTasks>[1], group?: string) =>
      broker.listTasks('default', state, group ? { group } : {});
    const [pending] = await listed('pending');
    expect(pending!.message).toEqual(tasks.pending);
    expect(pending!.nextProcessAt).toBeGreaterThan(Date.now() - 5000);
    const [active] = await listed('active');
    expect(active).toMatchObject({ state: 'active', isOrphaned: false });
    await redis.zadd(key('default', 'lease'), 1, active!.message.id);
    expect((await listed('active'))[0]!.isOrphaned).toBe(true);
    const [scheduled] = await listed('scheduled');
    expect(scheduled!.nextProcessAt! % 1000).toBe(0);
    expect(scheduled!.nextProcessAt).toBeGreaterThan(Date.now());
    const [retry] = await listed('retry');
    expect(retry!.message).toMatchObject({ retried: 1, errorMessage: 'x' });
    const [archived] = await listed('archived');
    expect(archived!.message.errorMessage).toBe('y');
    expect(archived!.nextProcessAt).toBeUndefined();
    const [completed] = await listed('completed');
    expect(new TextDecoder().decode(completed!.result)).toBe('result');
    const [aggregating] = await listed('aggregating', 'g');
    expect(aggregating!.message.id).toBe(tasks.aggregating.id);
    await expect(listed('aggregating')).rejects.toBeInstanceOf(ValidationError);
    await expect(broker.listTasks('nope', 'pending', {})).rejects.toBeInstanceOf(QueueNotFoundError);
    await expect(broker.listTasks('default', 'bogus' as never, {})).rejects.toBeInstanceOf(ValidationError);
  });

  it('pages pending tasks oldest first', async () => {
    const { broker } = context;
    const messages = Array.from({ length: 5 }, () => taskMessage());
    for (const message of messages) await broker.enqueue({ message });
    const ids = async (page: number) =>
      (await broker.listTasks('default', 'pending', { page, pageSize: 2 })).map((task) => task.message.id);
    expect(await ids(1)).toEqual([messages[0]!.id, messages[1]!.id]);
    expect(await ids(2)).toEqual([messages[2]!.id, messages[3]!.id]);
    expect(await ids(3)).toEqual([messages[4]!.id]);
    expect(await ids(4)).toEqual([]);
    await expect(broker.listTasks('default', 'pending', { page: 0 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('pages zsets by score, lowest first', async () => {
    const { broker } = context;
    const now = Date.now();
    const messages = Array.from({ length: 3 }, () => taskMessage());
    for (const [index, message] of messages.entries()) {
      await broker.enqueue({ message, processAt: now + (3 - index) * 60_000 });
    }
    const listed = await broker.listTasks('default', 'scheduled', { page: 1, pageSize: 2 });
    expect(listed.map((task) => task.message.id)).toEqual([messages[2]!.id, messages[1]!.id]);
  });

  it('reads one task in any state, and says when it is missing', async () => {
    const { broker } = context;
    const tasks = await populate();
    for (const [state, message] of Object.entries(tasks)) {
      const task = await broker.getTask('default', message.id);
      expect(task.state).toBe(state);
      expect(task.message.id).toBe(message.id);
    }
    expect((await broker.getTask('default', tasks.scheduled.id)).nextProcessAt).toBeGreaterThan(Date.now());
    expect((await broker.getTask('default', tasks.active.id)).isOrphaned).toBe(false);
    expect(new TextDecoder().decode((await broker.getTask('default', tasks.completed.id)).result)).toBe(
      'result',
    );
    await expect(broker.getTask('default', 'nope')).rejects.toBeInstanceOf(TaskNotFoundError);
    await expect(broker.getTask('nope', 'nope')).rejects.toBeInstanceOf(QueueNotFoundError);
  });
});

describe('acting on one task', () => {
  it('runs scheduled, retry, archived, completed and aggregating tasks; refuses pending and active', async () => {
    const { broker, redis } = context;
    const tasks = await populate();
    for (const name of ['scheduled', 'retry', 'archived', 'completed', 'aggregating'] as const) {
      await broker.runTask('default', tasks[name].id);
      expect(await redis.hget(key('default', `t:${tasks[name].id}`), 'state')).toBe('pending');
    }
    expect(await redis.llen(key('default', 'pending'))).toBe(6);
    expect(await broker.listGroupStats('default')).toEqual([]);
    await expect(broker.runTask('default', tasks.pending.id)).rejects.toBeInstanceOf(TaskStateError);
    await expect(broker.runTask('default', tasks.active.id)).rejects.toBeInstanceOf(TaskStateError);
    await expect(broker.runTask('default', 'nope')).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('archives any task but an active or archived one', async () => {
    const { broker, redis } = context;
    const tasks = await populate();
    for (const name of ['pending', 'scheduled', 'retry', 'completed', 'aggregating'] as const) {
      await broker.archiveTask('default', tasks[name].id);
      expect(await redis.hget(key('default', `t:${tasks[name].id}`), 'state')).toBe('archived');
    }
    expect(await redis.zcard(key('default', 'archived'))).toBe(6);
    await expect(broker.archiveTask('default', tasks.archived.id)).rejects.toBeInstanceOf(TaskStateError);
    await expect(broker.archiveTask('default', tasks.active.id)).rejects.toThrow(/cancel it first/);
  });

  it('deletes any task but an active one, releasing its uniqueness lock', async () => {
    const { broker, redis } = context;
    const tasks = await populate();
    for (const name of ['pending', 'scheduled', 'retry', 'archived', 'completed', 'aggregating'] as const) {
      await broker.deleteTask('default', tasks[name].id);
      expect(await redis.exists(key('default', `t:${tasks[name].id}`))).toBe(0);
    }
    await expect(broker.deleteTask('default', tasks.active.id)).rejects.toBeInstanceOf(TaskStateError);
    const { message } = await broker.enqueue({ message: taskMessage(), uniqueTtl: 60_000 });
    await broker.deleteTask('default', message.id);
    expect(await redis.exists(message.uniqueKey)).toBe(0);
  });
});

describe('acting on all tasks of a state', () => {
  it('deletes all of a state, and refuses active', async () => {
    const { broker, redis } = context;
    await populate();
    for (const state of ['pending', 'scheduled', 'retry', 'archived', 'completed'] as const) {
      expect(await broker.deleteAllTasks('default', state)).toBe(1);
    }
    expect(await broker.deleteAllTasks('default', 'aggregating', 'g')).toBe(1);
    await expect(broker.deleteAllTasks('default', 'active')).rejects.toBeInstanceOf(TaskStateError);
    expect(await redis.keys(key('default', 't:*'))).toHaveLength(1);
  });

  it('runs all of a state', async () => {
    const { broker, redis } = context;
    await populate();
    for (const state of ['scheduled', 'retry', 'archived', 'completed'] as const) {
      expect(await broker.runAllTasks('default', state)).toBe(1);
    }
    expect(await broker.runAllTasks('default', 'aggregating', 'g')).toBe(1);
    expect(await redis.llen(key('default', 'pending'))).toBe(6);
    await expect(broker.runAllTasks('default', 'pending')).rejects.toBeInstanceOf(TaskStateError);
  });

  it('archives all of a state', async () => {
    const { broker, redis } = context;
    await populate();
    for (const state of ['pending', 'scheduled', 'retry'] as const) {
      expect(await broker.archiveAllTasks('default', state)).toBe(1);
    }
    expect(await broker.archiveAllTasks('default', 'aggregating', 'g')).toBe(1);
    expect(await redis.zcard(key('default', 'archived'))).toBe(5);
    await expect(broker.archiveAllTasks('default', 'active')).rejects.toBeInstanceOf(TaskStateError);
    await expect(broker.archiveAllTasks('default', 'archived')).rejects.toBeInstanceOf(TaskStateError);
  });
});

describe('queue administration', () => {
  it('pauses and unpauses idempotently', async () => {
    const { broker, redis } = context;
    await broker.pauseQueue('default');
    await broker.pauseQueue('default');
    expect(await redis.exists(key('default', 'paused'))).toBe(1);
    await broker.unpauseQueue('default');
    await broker.unpauseQueue('default');
    expect(await redis.exists(key('default', 'paused'))).toBe(0);
  });

  it('removes an empty queue, refuses one with tasks unless forced, and never one with active tasks', async () => {
    const { broker, redis } = context;
    await expect(broker.removeQueue('default', false)).rejects.toBeInstanceOf(QueueNotFoundError);
    const tasks = await populate();
    await expect(broker.removeQueue('default', false)).rejects.toBeInstanceOf(QueueNotEmptyError);
    await expect(broker.removeQueue('default', true)).rejects.toBeInstanceOf(QueueNotEmptyError);
    await broker.done(tasks.active);
    await broker.removeQueue('default', true);
    expect(await broker.listQueues()).toEqual([]);
    expect(await redis.exists(key('default', `t:${tasks.pending.id}`))).toBe(0);
    await broker.enqueue({ message: taskMessage({ queue: 'empty' }) });
    await broker.deleteAllTasks('empty', 'pending');
    await broker.removeQueue('empty', false);
    expect(await broker.listQueues()).toEqual([]);
  });
});

describe('servers and schedulers', () => {
  it('lists live servers with their workers, and prunes expired ones', async () => {
    const { broker, redis } = context;
    const server = {
      host: 'web-1',
      pid: 1,
      serverId: 's1',
      concurrency: 2,
      queues: { default: 1 },
      strictPriority: false,
      status: 'active',
      startedAt: Date.now(),
      activeWorkerCount: 1,
    };
    const worker = {
      host: 'web-1',
      pid: 1,
      serverId: 's1',
      taskId: 't1',
      taskType: 'x',
      payload: new Uint8Array(0),
      queue: 'default',
      startedAt: Date.now(),
      deadline: Date.now() + 1000,
    };
    await broker.writeServerState(server, [worker], 10_000);
    await redis.zadd(`${prefix}:servers`, 1, `${prefix}:servers:{dead:2:s2}`);
    const [snapshot, ...others] = await broker.listServers();
    expect(others).toEqual([]);
    expect(snapshot).toMatchObject({ server, workers: [worker] });
    expect(snapshot!.expiresAt).toBeGreaterThan(Date.now());
    expect(await redis.zcard(`${prefix}:servers`)).toBe(1);
  });

  it('lists scheduler entries with their scheduler, and an entry history newest first', async () => {
    const { broker } = context;
    const scheduler = { host: 'cron-host', pid: 9, schedulerId: 'sched-1' };
    const entry = {
      id: 'entry-1',
      spec: '@every 1m',
      taskType: 'tick',
      payload: new Uint8Array(0),
      enqueueOptions: ['Queue("default")'],
      nextEnqueueAt: Date.now() + 60_000,
      previousEnqueueAt: 0,
    };
    await broker.writeSchedulerEntries(scheduler, [entry, { ...entry, id: 'entry-2' }], 20_000);
    const entries = await broker.listSchedulerEntries();
    expect(entries.map((listed) => listed.id)).toEqual(['entry-1', 'entry-2']);
    expect(entries[0]).toEqual({ ...entry, scheduler });
    const start = Date.now() - 10_000;
    for (let index = 0; index < 3; index += 1) {
      await broker.recordSchedulerEnqueue('entry-1', {
        taskId: `t${index}`,
        enqueuedAt: start + index * 1000,
      });
    }
    const history = await broker.schedulerHistory('entry-1', { page: 1, pageSize: 2 });
    expect(history).toEqual([
      { taskId: 't2', enqueuedAt: start + 2000 },
      { taskId: 't1', enqueuedAt: start + 1000 },
    ]);
  });
});
