import { QError, ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { FakeQueueAdmin, now, queueStats, serverSnapshot, storedTask } from '../test/fake-queue-admin';
import { Inspector } from './inspector';

function setup(): { broker: FakeQueueAdmin; inspector: Inspector } {
  const broker = new FakeQueueAdmin();
  broker.addQueue(queueStats('default', { pending: 2 })).addQueue(queueStats('critical'));
  return { broker, inspector: new Inspector({ broker, now: () => now }) };
}

describe('Inspector', () => {
  it('refuses a missing broker with a message that says what to pass', () => {
    expect(() => new Inspector({} as never)).toThrow(/createRedisBroker/);
    expect(() => new Inspector({ broker: new FakeQueueAdmin(), extra: 1 } as never)).toThrow(ValidationError);
  });

  it('lists queues sorted and reads queue info with a Date timestamp', async () => {
    const { inspector } = setup();
    expect(await inspector.queues()).toEqual(['critical', 'default']);
    const info = await inspector.getQueueInfo('default');
    expect(info.pending).toBe(2);
    expect(info.size).toBe(2);
    expect(info.timestamp).toEqual(new Date(now));
  });

  it('validates history days and defaults to 10 days', async () => {
    const { inspector } = setup();
    expect(await inspector.history('default')).toHaveLength(10);
    await expect(inspector.history('default', 0)).rejects.toThrow(/positive integer/);
  });

  it('lists tasks with Asynq paging defaults and derives next process times like Asynq', async () => {
    const { broker, inspector } = setup();
    broker.tasks.push(
      storedTask('default', 'pending', { id: 'p1' }),
      storedTask('default', 'scheduled', { id: 's1', nextProcessAt: now + 60_000 }),
      storedTask('default', 'archived', { id: 'a1', nextProcessAt: now }),
    );
    const [pending] = await inspector.listPendingTasks('default');
    expect(pending?.nextProcessAt).toEqual(new Date(now));
    const [scheduled] = await inspector.listScheduledTasks('default', { page: 1, pageSize: 5 });
    expect(scheduled?.nextProcessAt).toEqual(new Date(now + 60_000));
    const [archived] = await inspector.listArchivedTasks('default');
    expect(archived?.nextProcessAt).toBeUndefined();
    expect(broker.calls).toContain('listTasks default pending 1 30');
    expect(broker.calls).toContain('listTasks default scheduled 1 5');
  });

  it('requires a group for aggregating tasks and valid pages', async () => {
    const { broker, inspector } = setup();
    await expect(inspector.listTasks('default', 'aggregating')).rejects.toThrow(/name their group/);
    await inspector.listAggregatingTasks('default', 'digest', { page: 2 });
    expect(broker.calls).toContain('listTasks default aggregating 2 30 digest');
    await expect(inspector.listTasks('default', 'pending', { page: 0 })).rejects.toThrow(/pages start at 1/);
    await expect(inspector.listTasks('default', 'nope' as never)).rejects.toThrow(/use one of/);
  });

  it('allows only the states Asynq allows for bulk operations', async () => {
    const { broker, inspector } = setup();
    expect(await inspector.deleteAllArchivedTasks('default')).toBe(3);
    expect(await inspector.runAllRetryTasks('default')).toBe(2);
    expect(await inspector.archiveAllPendingTasks('default')).toBe(1);
    expect(await inspector.runAllAggregatingTasks('default', 'g')).toBe(2);
    expect(broker.calls).toEqual([
      'deleteAll default archived',
      'runAll default retry',
      'archiveAll default pending',
      'runAll default aggregating g',
    ]);
    await expect(inspector.deleteAllTasks('default', 'active')).rejects.toThrow(
      /Cannot delete all tasks in state "active"/,
    );
    await expect(inspector.runAllTasks('default', 'pending')).rejects.toThrow(ValidationError);
    await expect(inspector.archiveAllTasks('default', 'archived')).rejects.toThrow(ValidationError);
    await expect(inspector.deleteAllTasks('default', 'aggregating')).rejects.toThrow(/group/);
  });

  it('passes single-task operations, pause and queue removal through', async () => {
    const { broker, inspector } = setup();
    await inspector.deleteTask('default', 't1');
    await inspector.runTask('default', 't2');
    await inspector.archiveTask('default', 't3');
    await inspector.cancelProcessing('t4');
    await inspector.pauseQueue('default');
    await inspector.unpauseQueue('default');
    await inspector.deleteQueue('critical');
    await inspector.deleteQueue('default', true);
    expect(broker.calls).toEqual([
      'deleteTask default t1',
      'runTask default t2',
      'archiveTask default t3',
      'cancel t4',
      'pause default',
      'unpause default',
      'remove critical false',
      'remove default true',
    ]);
    await expect(inspector.getTaskInfo('default', 'missing')).rejects.toSatisfy(
      (error: unknown) => QError.is(error) && error.code === 'Q_TASK_NOT_FOUND',
    );
    await expect(inspector.deleteTask('default', ' ')).rejects.toThrow(/taskId/);
  });

  it('merges servers with their workers and lifecycle, sorted by host and pid', async () => {
    const { broker, inspector } = setup();
    broker.servers.push(
      serverSnapshot({ serverId: 'b', host: 'worker-2', pid: 5 }),
      serverSnapshot(
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
      ),
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
    const { inspector } = setup();
    await expect(inspector.clusterKeySlot('default')).rejects.toThrow(/queueLocation is not implemented/);
  });
});
