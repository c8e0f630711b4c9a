/**
 * The Inspector through each broker: a real redis-server through the Redis broker, and the memory
 * broker. The same situations give the same answers.
 */
import { randomUUID } from 'node:crypto';
import { createMemoryBroker } from '@q/broker-memory';
import { createRedisBroker } from '@q/broker-redis';
import { QError, queueNameRule, taskStates, ValidationError, type Broker } from '@q/core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createQueueMetricsCollector, Inspector } from '../src/index';
import { populatedTaskIds, populateQueue, taskMessage } from './populate-queue';

const codeOf = (error: unknown): string | undefined => (QError.is(error) ? error.code : undefined);

const brokers: { name: string; create: () => Broker }[] = [
  {
    name: 'Redis',
    create: () =>
      createRedisBroker({ url: inject('redisUrl'), prefix: `inspector-${randomUUID().slice(0, 8)}` }),
  },
  { name: 'the memory broker', create: () => createMemoryBroker() },
];

describe.each(brokers)('Inspector on $name', ({ create }) => {
  let broker: Broker;
  let inspector: Inspector;

  beforeAll(async () => {
    broker = create();
    inspector = new Inspector({ broker });
    await populateQueue(broker, 'every-state');
  });

  afterAll(async () => {
    await broker.close();
  });

  it('reads queue info with a count per state', async () => {
    expect(await inspector.queues()).toContain('every-state');
    const info = await inspector.getQueueInfo('every-state');
    expect(info).toMatchObject({
      queue: 'every-state',
      pending: 2,
      active: 1,
      scheduled: 1,
      retry: 1,
      archived: 1,
      completed: 1,
      aggregating: 2,
      size: 9,
      groups: 1,
      processedToday: 3,
      failedToday: 2,
      processedTotal: 3,
      failedTotal: 2,
      paused: false,
    });
    expect(info.memoryUsage).toBeGreaterThan(0);
    expect(info.latency).toBeGreaterThanOrEqual(0);
    const [today] = await inspector.history('every-state', 3);
    expect(today).toMatchObject({ processed: 3, failed: 2, date: new Date().toISOString().slice(0, 10) });
    expect(await inspector.groups('every-state')).toEqual([{ group: 'digest', size: 2 }]);
  });

  it('lists every state and reads each task', async () => {
    for (const state of taskStates) {
      const tasks = await inspector.listTasks(
        'every-state',
        state,
        state === 'aggregating' ? { group: 'digest' } : {},
      );
      expect(tasks.map((task) => task.id).sort(), state).toEqual([...populatedTaskIds[state]].sort());
      for (const task of tasks) {
        const info = await inspector.getTaskInfo('every-state', task.id);
        expect(info.state).toBe(state);
      }
    }
    const [retry] = await inspector.listRetryTasks('every-state');
    expect(retry).toMatchObject({ retried: 1, maxRetry: 3, lastError: 'smtp: connection reset' });
    expect(retry!.nextProcessAt!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    const completed = await inspector.getTaskInfo('every-state', 'c-1');
    expect(new TextDecoder().decode(completed.result)).toBe('sent');
    expect(completed.completedAt).toBeInstanceOf(Date);
    const [active] = await inspector.listActiveTasks('every-state');
    expect(active?.isOrphaned).toBe(false);
    const page = await inspector.listPendingTasks('every-state', { page: 2, pageSize: 1 });
    expect(page.map((task) => task.id)).toEqual(['p-2']);
  });

  it('runs, archives and deletes single tasks and refuses what Asynq refuses', async () => {
    const queue = 'single-ops';
    await populateQueue(broker, queue);
    await inspector.runTask(queue, 'x-1');
    expect((await inspector.getTaskInfo(queue, 'x-1')).state).toBe('pending');
    await inspector.archiveTask(queue, 's-1');
    expect((await inspector.getTaskInfo(queue, 's-1')).state).toBe('archived');
    await inspector.deleteTask(queue, 'r-1');
    await expect(inspector.getTaskInfo(queue, 'r-1')).rejects.toSatisfy(
      (error) => codeOf(error) === 'Q_TASK_NOT_FOUND',
    );
    await expect(inspector.deleteTask(queue, 'a-1')).rejects.toSatisfy((error) => QError.is(error));
    await expect(inspector.runTask(queue, 'p-1')).rejects.toSatisfy((error) => QError.is(error));
    await expect(inspector.getTaskInfo('no-such-queue', 'x')).rejects.toSatisfy(
      (error) => codeOf(error) === 'Q_QUEUE_NOT_FOUND',
    );
  });

  it('acts on every task of a state', async () => {
    const queue = 'bulk-ops';
    await populateQueue(broker, queue);
    expect(await inspector.archiveAllPendingTasks(queue)).toBe(2);
    expect(await inspector.runAllArchivedTasks(queue)).toBe(3);
    expect(await inspector.deleteAllPendingTasks(queue)).toBe(3);
    expect(await inspector.runAllAggregatingTasks(queue, 'digest')).toBe(2);
    expect(await inspector.deleteAllCompletedTasks(queue)).toBe(1);
    const info = await inspector.getQueueInfo(queue);
    expect(info).toMatchObject({
      pending: 2,
      aggregating: 0,
      archived: 0,
      completed: 0,
      scheduled: 1,
      retry: 1,
    });
  });

  it('pauses, resumes and removes queues, with and without force', async () => {
    const queue = 'removable';
    await broker.enqueue({ message: taskMessage(queue, 'only') });
    await inspector.pauseQueue(queue);
    expect((await inspector.getQueueInfo(queue)).paused).toBe(true);
    await inspector.unpauseQueue(queue);
    expect((await inspector.getQueueInfo(queue)).paused).toBe(false);
    await expect(inspector.deleteQueue(queue)).rejects.toSatisfy(
      (error) => codeOf(error) === 'Q_QUEUE_NOT_EMPTY',
    );
    await inspector.deleteQueue(queue, true);
    expect(await inspector.queues()).not.toContain(queue);
  });

  it('reads a queue whose name has an inner space and refuses a name against the rule, as the client does', async () => {
    const queue = 'bad queue';
    await broker.enqueue({ message: taskMessage(queue, 'spaced') });
    expect(await inspector.queues()).toContain(queue);
    expect((await inspector.getQueueInfo(queue)).pending).toBe(1);
    expect((await inspector.getTaskInfo(queue, 'spaced')).queue).toBe(queue);
    for (const [name, detail] of [
      ['a{b}', "contains '{'"],
      [' bad', 'begins or ends with whitespace'],
      ['', 'is blank'],
    ] as const) {
      const error = await inspector.getQueueInfo(name).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toBe(`queue ${JSON.stringify(name)} ${detail}: ${queueNameRule}.`);
    }
  });

  it('publishes cancellations for running tasks', async () => {
    const received: string[] = [];
    const unsubscribe = await broker.subscribeCancel((taskId) => received.push(taskId));
    await inspector.cancelProcessing('a-1');
    await expect.poll(() => received).toEqual(['a-1']);
    await unsubscribe();
  });

  it('shows servers with their lifecycle and running tasks, and scheduler entries with history', async () => {
    const now = Date.now();
    await broker.writeServerState(
      {
        host: 'worker-host',
        pid: 4242,
        serverId: 'server-1',
        concurrency: 8,
        queues: { 'every-state': 3 },
        strictPriority: false,
        status: 'stopped',
        startedAt: now - 60_000,
        activeWorkerCount: 1,
        lifecycle: {
          state: 'quiet',
          stateSince: now - 5000,
          lastSignal: 'SIGTSTP',
          lastSignalAt: now - 5000,
          lastFetchAt: now - 5000,
        },
      },
      [
        {
          host: 'worker-host',
          pid: 4242,
          serverId: 'server-1',
          taskId: 'a-1',
          taskType: 'email:send',
          payload: new Uint8Array(0),
          queue: 'every-state',
          startedAt: now - 2000,
          deadline: now + 60_000,
        },
      ],
      10_000,
    );
    const [server] = await inspector.servers();
    expect(server).toMatchObject({ host: 'worker-host', pid: 4242, status: 'stopped', concurrency: 8 });
    expect(server?.lifecycle).toMatchObject({ state: 'quiet', lastSignal: 'SIGTSTP' });
    expect(server?.activeWorkers.map((worker) => worker.taskId)).toEqual(['a-1']);

    await broker.writeSchedulerEntries(
      { host: 'cron-host', pid: 7, schedulerId: 'scheduler-1' },
      [
        {
          id: 'entry-1',
          spec: '@every 30s',
          taskType: 'report',
          payload: new Uint8Array(0),
          enqueueOptions: ['Queue("every-state")'],
          nextEnqueueAt: now + 30_000,
          previousEnqueueAt: 0,
        },
      ],
      20_000,
    );
    await broker.recordSchedulerEnqueue('entry-1', { taskId: 'p-1', enqueuedAt: now - 30_000 });
    await broker.recordSchedulerEnqueue('entry-1', { taskId: 'p-2', enqueuedAt: now });
    const [entry] = await inspector.schedulerEntries();
    expect(entry).toMatchObject({ id: 'entry-1', spec: '@every 30s', options: ['Queue("every-state")'] });
    expect(entry?.previousEnqueueAt).toBeUndefined();
    const events = await inspector.listSchedulerEnqueueEvents('entry-1');
    expect(events.map((event) => event.taskId)).toEqual(['p-2', 'p-1']);
  });

  it("exports Asynq's metrics read from the store", async () => {
    const registry = new Registry();
    createQueueMetricsCollector({ inspector, registry });
    const text = await registry.metrics();
    expect(text).toContain('asynq_tasks_enqueued_total{queue="every-state",state="retry"} 1');
    expect(text).toContain('asynq_queue_size{queue="every-state"} 9');
    expect(text).toContain('asynq_tasks_failed_total{queue="every-state"} 2');
    expect(text).toContain('q_scrape_success 1');
  });
});
