import {
  QueueNotEmptyError,
  QueueNotFoundError,
  TaskNotFoundError,
  TaskStateError,
  ValidationError,
  type ServerState,
} from '@q/core';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lease, type SuiteContext } from './suite-context';

export function queueAdminCases(context: SuiteContext): void {
  describe('queue administration', () => {
    it('counts tasks per state', async () => {
      const broker = context.broker();
      await broker.enqueue({ message: context.message() });
      await broker.enqueue({ message: context.message(), processAt: Date.now() + 60_000 });
      await broker.enqueue({ message: context.message({ groupKey: 'g' }) });
      const active = context.message();
      await broker.enqueue({ message: active });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      const stats = await broker.queueStats(context.queue(), Date.now());
      expect(stats).toMatchObject({
        pending: 1,
        active: 1,
        scheduled: 1,
        aggregating: 1,
        groups: 1,
        size: 4,
      });
      expect(stats.paused).toBe(false);
      const [today] = await broker.dailyStats(context.queue(), 1, Date.now());
      expect(today).toMatchObject({ queue: context.queue(), processed: 0, failed: 0 });
    });

    it('lists tasks of a state page by page, oldest pending first', async () => {
      const broker = context.broker();
      const messages = [context.message(), context.message(), context.message()];
      for (const message of messages) await broker.enqueue({ message });
      const page = async (number: number) =>
        (await broker.listTasks(context.queue(), 'pending', { page: number, pageSize: 2 })).map(
          (task) => task.message.id,
        );
      expect(await page(1)).toEqual([messages[0]!.id, messages[1]!.id]);
      expect(await page(2)).toEqual([messages[2]!.id]);
    });

    it('lists every state with what it adds: due times, orphaned leases, groups', async () => {
      const broker = context.broker();
      const now = Date.now();
      const soon = context.message();
      const later = context.message();
      await broker.enqueue({ message: later, processAt: now + 120_000 });
      await broker.enqueue({ message: soon, processAt: now + 60_000 });
      const grouped = context.message({ groupKey: 'g' });
      await broker.enqueue({ message: grouped });
      const running = context.message();
      await broker.enqueue({ message: running });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      const scheduled = await broker.listTasks(context.queue(), 'scheduled', {});
      expect(scheduled.map((task) => task.message.id)).toEqual([soon.id, later.id]);
      expect(Math.abs(scheduled[0]!.nextProcessAt! - (now + 60_000))).toBeLessThan(1000);
      const [active] = await broker.listTasks(context.queue(), 'active', {});
      expect(active).toMatchObject({ state: 'active', isOrphaned: false, message: { id: running.id } });
      const aggregating = await broker.listTasks(context.queue(), 'aggregating', { group: 'g' });
      expect(aggregating.map((task) => task.message.id)).toEqual([grouped.id]);
      expect(await broker.listTasks(context.queue(), 'retry', {})).toEqual([]);
      await expect(broker.listTasks(context.queue(), 'bogus' as 'pending', {})).rejects.toBeInstanceOf(
        ValidationError,
      );
    });

    it('runs, archives and deletes grouped tasks, keeping the group counts right', async () => {
      const broker = context.broker();
      const messages = [1, 2, 3].map(() => context.message({ groupKey: 'g' }));
      for (const message of messages) await broker.enqueue({ message });
      await broker.runTask(context.queue(), messages[0]!.id);
      await broker.archiveTask(context.queue(), messages[1]!.id);
      expect(await broker.listGroupStats(context.queue())).toEqual([{ group: 'g', size: 1 }]);
      await broker.deleteTask(context.queue(), messages[2]!.id);
      expect(await broker.listGroupStats(context.queue())).toEqual([]);
      expect(await broker.listGroups(context.queue())).toEqual([]);
      const stats = await broker.queueStats(context.queue(), Date.now());
      expect(stats).toMatchObject({ pending: 1, archived: 1, aggregating: 0, groups: 0, size: 2 });
      const { tasks } = await broker.dequeue([context.queue()], { count: 5, ...lease });
      expect(tasks.map((task) => task.message.id)).toEqual([messages[0]!.id]);
    });

    it('runs, archives and deletes single tasks, refusing what their state forbids', async () => {
      const broker = context.broker();
      const scheduled = context.message();
      await broker.enqueue({ message: scheduled, processAt: Date.now() + 60_000 });
      await broker.archiveTask(context.queue(), scheduled.id);
      expect((await broker.getTask(context.queue(), scheduled.id)).state).toBe('archived');
      await expect(broker.archiveTask(context.queue(), scheduled.id)).rejects.toBeInstanceOf(TaskStateError);
      await broker.runTask(context.queue(), scheduled.id);
      expect((await broker.getTask(context.queue(), scheduled.id)).state).toBe('pending');
      await expect(broker.runTask(context.queue(), scheduled.id)).rejects.toBeInstanceOf(TaskStateError);
      await broker.deleteTask(context.queue(), scheduled.id);
      await expect(broker.getTask(context.queue(), scheduled.id)).rejects.toBeInstanceOf(TaskNotFoundError);
      await expect(broker.deleteTask(context.queue(), scheduled.id)).rejects.toBeInstanceOf(
        TaskNotFoundError,
      );
      const active = context.message();
      await broker.enqueue({ message: active });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      await expect(broker.deleteTask(context.queue(), active.id)).rejects.toBeInstanceOf(TaskStateError);
      await expect(broker.getTask(context.queue('unknown'), 'x')).rejects.toBeInstanceOf(QueueNotFoundError);
    });

    it('acts on every task of a state at once', async () => {
      const broker = context.broker();
      for (let index = 0; index < 3; index += 1) {
        await broker.enqueue({ message: context.message(), processAt: Date.now() + 60_000 });
      }
      expect(await broker.archiveAllTasks(context.queue(), 'scheduled')).toBe(3);
      expect(await broker.runAllTasks(context.queue(), 'archived')).toBe(3);
      expect(await broker.deleteAllTasks(context.queue(), 'pending')).toBe(3);
      expect((await broker.queueStats(context.queue(), Date.now())).size).toBe(0);
    });

    it('removes a queue only when empty, or when forced and nothing runs', async () => {
      const broker = context.broker();
      await expect(broker.removeQueue(context.queue(), false)).rejects.toBeInstanceOf(QueueNotFoundError);
      const message = context.message();
      await broker.enqueue({ message });
      await expect(broker.removeQueue(context.queue(), false)).rejects.toBeInstanceOf(QueueNotEmptyError);
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      await expect(broker.removeQueue(context.queue(), true)).rejects.toBeInstanceOf(QueueNotEmptyError);
      await broker.done(message);
      await broker.enqueue({ message: context.message() });
      await broker.removeQueue(context.queue(), true);
      expect(await broker.listQueues()).not.toContain(context.queue());
    });

    it('publishes server state with its running tasks, then clears it', async () => {
      const broker = context.broker();
      const server: ServerState = {
        host: 'conformance-host',
        pid: 7,
        serverId: randomUUID(),
        concurrency: 2,
        queues: { [context.queue()]: 1 },
        strictPriority: false,
        status: 'active',
        startedAt: Date.now(),
        activeWorkerCount: 1,
        lifecycle: { state: 'running', stateSince: Date.now() },
      };
      const worker = {
        host: server.host,
        pid: server.pid,
        serverId: server.serverId,
        taskId: randomUUID(),
        taskType: 'x',
        payload: new Uint8Array([1]),
        queue: context.queue(),
        startedAt: Date.now(),
        deadline: Date.now() + 60_000,
      };
      await broker.writeServerState(server, [worker], 10_000);
      const snapshot = (await broker.listServers()).find(
        (listed) => listed.server.serverId === server.serverId,
      );
      expect(snapshot).toMatchObject({ server, workers: [worker] });
      expect(snapshot!.expiresAt).toBeGreaterThan(Date.now());
      await broker.clearServerState(server);
      const after = await broker.listServers();
      expect(after.some((listed) => listed.server.serverId === server.serverId)).toBe(false);
    });

    it('answers ping', async () => {
      await expect(context.broker().ping()).resolves.toBeUndefined();
    });
  });
}
