import { createMemoryBroker } from '@q/broker-memory';
import { QError, ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { addTasks, createScenario, now, publishServer, type Scenario } from '../test/memory-scenario';
import { taskMessage } from '../test/populate-queue';
import { Inspector } from './inspector';

async function setup(): Promise<Scenario> {
  const scenario = createScenario();
  await addTasks(scenario.broker, 'default', { pending: 2 });
  await addTasks(scenario.broker, 'critical', { scheduled: 1 });
  return scenario;
}

describe('Inspector', () => {
  it('refuses a missing broker with a message that says what to pass', () => {
    expect(() => new Inspector({} as never)).toThrow(/createRedisBroker/);
    expect(() => new Inspector({ broker: createMemoryBroker(), extra: 1 } as never)).toThrow(ValidationError);
  });

  it('lists queues sorted and reads queue info with a Date timestamp', async () => {
    const { inspector } = await setup();
    expect(await inspector.queues()).toEqual(['critical', 'default']);
    const info = await inspector.getQueueInfo('default');
    expect(info.pending).toBe(2);
    expect(info.size).toBe(2);
    expect(info.timestamp).toEqual(new Date(now));
  });

  it('validates history days and defaults to 10 days', async () => {
    const { inspector } = await setup();
    const history = await inspector.history('default');
    expect(history).toHaveLength(10);
    expect(history[0]).toMatchObject({ date: '2026-11-26' });
    expect(history[9]).toMatchObject({ date: '2026-11-17' });
    await expect(inspector.history('default', 0)).rejects.toThrow(/positive integer/);
  });

  it('lists tasks with Asynq paging defaults and derives next process times like Asynq', async () => {
    const { broker, inspector } = await setup();
    await addTasks(broker, 'default', { archived: 1 });
    await addTasks(broker, 'default', { scheduled: 6 }, { processAt: now + 60_000 });
    const [pending] = await inspector.listPendingTasks('default');
    expect(pending?.nextProcessAt).toEqual(new Date(now));
    const scheduled = await inspector.listScheduledTasks('default', { page: 1, pageSize: 5 });
    expect(scheduled).toHaveLength(5);
    expect(scheduled[0]?.nextProcessAt).toEqual(new Date(now + 60_000));
    expect(await inspector.listScheduledTasks('default', { page: 2, pageSize: 5 })).toHaveLength(1);
    const [archived] = await inspector.listArchivedTasks('default');
    expect(archived?.nextProcessAt).toBeUndefined();
    expect(archived?.lastError).toBe('smtp: connection reset');
  });

  it('requires a group for aggregating tasks and valid pages', async () => {
    const { broker, inspector } = await setup();
    await expect(inspector.listTasks('default', 'aggregating')).rejects.toThrow(/name their group/);
    for (const id of ['g-1', 'g-2', 'g-3']) {
      await broker.enqueue({ message: taskMessage('default', id, { groupKey: 'digest' }) });
    }
    const second = await inspector.listAggregatingTasks('default', 'digest', { page: 2, pageSize: 2 });
    expect(second.map((task) => task.id)).toEqual(['g-3']);
    await expect(inspector.listTasks('default', 'pending', { page: 0 })).rejects.toThrow(/pages start at 1/);
    await expect(inspector.listTasks('default', 'nope' as never)).rejects.toThrow(/use one of/);
  });

  it('allows only the states Asynq allows for bulk operations', async () => {
    const { broker, inspector } = await setup();
    await addTasks(broker, 'default', { archived: 3, retry: 2 });
    expect(await inspector.deleteAllArchivedTasks('default')).toBe(3);
    expect(await inspector.runAllRetryTasks('default')).toBe(2);
    expect(await inspector.archiveAllPendingTasks('default')).toBe(4);
    expect(await inspector.runAllAggregatingTasks('default', 'g')).toBe(0);
    expect(await inspector.getQueueInfo('default')).toMatchObject({ pending: 0, retry: 0, archived: 4 });
    await expect(inspector.deleteAllTasks('default', 'active')).rejects.toThrow(
      /Cannot delete all tasks in state "active"/,
    );
    await expect(inspector.runAllTasks('default', 'pending')).rejects.toThrow(ValidationError);
    await expect(inspector.archiveAllTasks('default', 'archived')).rejects.toThrow(ValidationError);
    await expect(inspector.deleteAllTasks('default', 'aggregating')).rejects.toThrow(/group/);
  });

  it('acts on single tasks, pauses queues, removes them and publishes cancellations', async () => {
    const { broker, inspector } = await setup();
    await addTasks(broker, 'default', { retry: 1, archived: 1, scheduled: 1 }, { ids: ['r', 'x', 's'] });
    await inspector.deleteTask('default', 'r');
    await inspector.runTask('default', 'x');
    await inspector.archiveTask('default', 's');
    expect(await inspector.getQueueInfo('default')).toMatchObject({ pending: 3, retry: 0, archived: 1 });
    expect((await inspector.getTaskInfo('default', 's')).state).toBe('archived');
    const cancelled: string[] = [];
    await broker.subscribeCancel((taskId) => cancelled.push(taskId));
    await inspector.cancelProcessing('t4');
    await expect.poll(() => cancelled).toEqual(['t4']);
    await inspector.pauseQueue('default');
    expect((await inspector.getQueueInfo('default')).paused).toBe(true);
    await inspector.unpauseQueue('default');
    expect((await inspector.getQueueInfo('default')).paused).toBe(false);
    await expect(inspector.deleteQueue('critical')).rejects.toSatisfy(
      (error: unknown) => QError.is(error) && error.code === 'Q_QUEUE_NOT_EMPTY',
    );
    await inspector.deleteQueue('critical', true);
    expect(await inspector.queues()).toEqual(['default']);
    await expect(inspector.getTaskInfo('default', 'missing')).rejects.toSatisfy(
      (error: unknown) => QError.is(error) && error.code === 'Q_TASK_NOT_FOUND',
    );
    await expect(inspector.deleteTask('default', ' ')).rejects.toThrow(/taskId/);
  });

  it('merges servers with their workers and lifecycle, sorted by host and pid', async () => {
    const { broker, inspector } = await setup();
    await publishServer(broker, { serverId: 'b', host: 'worker-2', pid: 5 });
    await publishServer(
      broker,
      {
        serverId: 'a',
        lifecycle: {
          state: 'quiet',
          stateSince: now - 5000,
          lastSignal: 'SIGTSTP',
          lastSignalAt: now - 5000,
          overdueTaskIds: [],
        },
      },
      [{ taskId: 'x', startedAt: now - 2000 }],
    );
    const servers = await inspector.servers();
    expect(servers.map((server) => server.id)).toEqual(['worker-1:100:a', 'worker-2:5:b']);
    expect(servers[0]?.lifecycle).toMatchObject({
      state: 'quiet',
      lastSignal: 'SIGTSTP',
      lastSignalAt: new Date(now - 5000),
    });
    expect(servers[0]?.activeWorkers[0]).toMatchObject({ taskId: 'x', startedAt: new Date(now - 2000) });
    expect(servers[1]?.lifecycle).toBeUndefined();
  });

  it('says plainly when the broker cannot report cluster slots', async () => {
    const { inspector } = await setup();
    await expect(inspector.clusterKeySlot('default')).rejects.toThrow(/queueLocation is not implemented/);
  });
});
