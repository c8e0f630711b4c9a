import { DuplicateTaskError, TaskNotFoundError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { lease, type SuiteContext } from './suite-context';

export function consumerCases(context: SuiteContext): void {
  describe('consuming', () => {
    it('dequeues the oldest pending tasks first, up to count, trying queues in order', async () => {
      const broker = context.broker();
      const high = context.queue('high');
      const low = context.queue('low');
      const first = context.message({ queue: low });
      const second = context.message({ queue: low });
      const urgent = context.message({ queue: high });
      for (const message of [first, second, urgent]) await broker.enqueue({ message });
      const before = Date.now();
      const { tasks, malformed } = await broker.dequeue([high, low], { count: 2, ...lease });
      expect(malformed).toEqual([]);
      expect(tasks.map((task) => task.message.id)).toEqual([urgent.id, first.id]);
      expect(tasks[0]!.leaseExpiresAt).toBeGreaterThanOrEqual(before + lease.leaseDuration - 1000);
      expect((await broker.getTask(low, first.id)).state).toBe('active');
      const rest = await broker.dequeue([high, low], { count: 5, ...lease });
      expect(rest.tasks.map((task) => task.message.id)).toEqual([second.id]);
      expect((await broker.dequeue([high, low], { count: 5, ...lease })).tasks).toEqual([]);
    });

    it('skips paused queues until they are unpaused', async () => {
      const broker = context.broker();
      await broker.enqueue({ message: context.message() });
      await broker.pauseQueue(context.queue());
      expect((await broker.queueStats(context.queue(), Date.now())).paused).toBe(true);
      expect((await broker.dequeue([context.queue()], { count: 1, ...lease })).tasks).toEqual([]);
      await broker.unpauseQueue(context.queue());
      expect((await broker.dequeue([context.queue()], { count: 1, ...lease })).tasks).toHaveLength(1);
    });

    it('deletes a task that is done and counts it processed', async () => {
      const broker = context.broker();
      const message = context.message();
      await broker.enqueue({ message });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      await broker.done(message);
      await expect(broker.getTask(context.queue(), message.id)).rejects.toBeInstanceOf(TaskNotFoundError);
      const stats = await broker.queueStats(context.queue(), Date.now());
      expect(stats).toMatchObject({ processedToday: 1, failedToday: 0, active: 0, size: 0 });
    });

    it('keeps a completed task with its result for its retention, then deletes it', async () => {
      const broker = context.broker();
      const message = context.message({ retentionSeconds: 60 });
      await broker.enqueue({ message });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      await broker.writeResult(context.queue(), message.id, new TextEncoder().encode('result'));
      const completedAt = Date.now();
      await broker.markComplete(message, completedAt);
      const stored = await broker.getTask(context.queue(), message.id);
      expect(stored.state).toBe('completed');
      expect(new TextDecoder().decode(stored.result)).toBe('result');
      expect(stored.message.completedAtUnixSeconds).toBe(Math.floor(completedAt / 1000));
      expect(await broker.deleteExpiredCompleted(context.queue(), completedAt, 10)).toBe(0);
      expect(await broker.deleteExpiredCompleted(context.queue(), completedAt + 120_000, 10)).toBe(1);
      await expect(broker.getTask(context.queue(), message.id)).rejects.toBeInstanceOf(TaskNotFoundError);
    });

    it('deletes expired completed tasks a batch at a time, the earliest expired first', async () => {
      const broker = context.broker();
      const messages = [60, 120, 180].map((retentionSeconds) => context.message({ retentionSeconds }));
      for (const message of messages) await broker.enqueue({ message });
      const { tasks } = await broker.dequeue([context.queue()], { count: 3, ...lease });
      const completedAt = Date.now();
      for (const task of tasks) await broker.markComplete(task.message, completedAt);
      const later = completedAt + 600_000;
      expect(await broker.deleteExpiredCompleted(context.queue(), later, 2)).toBe(2);
      const left = await broker.listTasks(context.queue(), 'completed', {});
      expect(left.map((task) => task.message.id)).toEqual([messages[2]!.id]);
      expect(await broker.deleteExpiredCompleted(context.queue(), later, 2)).toBe(1);
    });

    it('retries a failed task later, spending a retry only for a failure', async () => {
      const broker = context.broker();
      const message = context.message();
      await broker.enqueue({ message });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      const processAt = Date.now() + 60_000;
      await broker.retry(message, { processAt, errorMessage: 'boom', isFailure: true });
      const stored = await broker.getTask(context.queue(), message.id);
      expect(stored.state).toBe('retry');
      expect(stored.message).toMatchObject({ retried: 1, errorMessage: 'boom' });
      expect(stored.message.lastFailedAtUnixSeconds).toBeGreaterThan(0);
      expect(Math.abs(stored.nextProcessAt! - processAt)).toBeLessThan(1000);
      expect((await broker.queueStats(context.queue(), Date.now())).failedToday).toBe(1);

      expect(await broker.forward([context.queue()], processAt + 1000)).toBe(1);
      const { tasks } = await broker.dequeue([context.queue()], { count: 1, ...lease });
      await broker.retry(tasks[0]!.message, {
        processAt: Date.now(),
        errorMessage: 'later',
        isFailure: false,
      });
      const again = await broker.getTask(context.queue(), message.id);
      expect(again.message).toMatchObject({ retried: 1, errorMessage: 'later' });
      expect((await broker.queueStats(context.queue(), Date.now())).failedToday).toBe(1);
    });

    it('archives a task with its last error', async () => {
      const broker = context.broker();
      const message = context.message();
      await broker.enqueue({ message });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      await broker.archive(message, 'gave up');
      const stored = await broker.getTask(context.queue(), message.id);
      expect(stored.state).toBe('archived');
      expect(stored.message.errorMessage).toBe('gave up');
      const stats = await broker.queueStats(context.queue(), Date.now());
      expect(stats).toMatchObject({ archived: 1, processedToday: 1, failedToday: 1 });
    });

    it('requeues an unfinished task at the head of pending, without spending a retry', async () => {
      const broker = context.broker();
      const running = context.message();
      const waiting = context.message();
      await broker.enqueue({ message: running });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      await broker.enqueue({ message: waiting });
      await broker.requeue(running);
      const { tasks } = await broker.dequeue([context.queue()], { count: 2, ...lease });
      expect(tasks.map((task) => task.message.id)).toEqual([running.id, waiting.id]);
      expect(tasks[0]!.message.retried).toBe(0);
    });

    it('forwards due scheduled tasks to pending', async () => {
      const broker = context.broker();
      const now = Date.now();
      const due = context.message();
      const later = context.message();
      await broker.enqueue({ message: due, processAt: now + 1000 });
      await broker.enqueue({ message: later, processAt: now + 3_600_000 });
      const grouped = context.message({ groupKey: 'g' });
      await broker.enqueue({ message: grouped, processAt: now + 2000 });
      expect(await broker.listGroups(context.queue())).toEqual([]);
      expect(await broker.forward([context.queue()], now + 5000)).toBe(2);
      expect((await broker.getTask(context.queue(), due.id)).state).toBe('pending');
      expect((await broker.getTask(context.queue(), later.id)).state).toBe('scheduled');
      // As in Asynq, a task scheduled with a group does not join the group: it becomes pending.
      expect((await broker.getTask(context.queue(), grouped.id)).state).toBe('pending');
      expect(await broker.listGroupStats(context.queue())).toEqual([]);
      expect(await broker.forward([context.queue()], now + 5000)).toBe(0);
      const { tasks } = await broker.dequeue([context.queue()], { count: 5, ...lease });
      expect(tasks.map((task) => task.message.id)).toEqual([due.id, grouped.id]);
    });

    it('forwards a retried task that was in a group back to its group', async () => {
      const broker = context.broker();
      const message = context.message({ groupKey: 'g' });
      await broker.enqueue({ message });
      await broker.runTask(context.queue(), message.id);
      const [taken] = (await broker.dequeue([context.queue()], { count: 1, ...lease })).tasks;
      await broker.retry(taken!.message, {
        processAt: Date.now() - 1000,
        errorMessage: 'x',
        isFailure: true,
      });
      expect(await broker.forward([context.queue()], Date.now())).toBe(1);
      expect((await broker.getTask(context.queue(), message.id)).state).toBe('aggregating');
      expect(await broker.listGroupStats(context.queue())).toEqual([{ group: 'g', size: 1 }]);
    });

    it('counts outcomes per day and in total', async () => {
      const broker = context.broker();
      const messages = [context.message(), context.message(), context.message()];
      for (const message of messages) await broker.enqueue({ message });
      await broker.dequeue([context.queue()], { count: 3, ...lease });
      await broker.done(messages[0]!);
      await broker.retry(messages[1]!, {
        processAt: Date.now() + 60_000,
        errorMessage: 'x',
        isFailure: true,
      });
      await broker.archive(messages[2]!, 'y');
      const stats = await broker.queueStats(context.queue(), Date.now());
      expect(stats).toMatchObject({ processedToday: 3, failedToday: 2, processedTotal: 3, failedTotal: 2 });
      const [today, yesterday] = await broker.dailyStats(context.queue(), 2, Date.now());
      expect(today).toMatchObject({ processed: 3, failed: 2, date: new Date().toISOString().slice(0, 10) });
      expect(yesterday).toMatchObject({ processed: 0, failed: 0 });
    });

    it('keeps the uniqueness lock through retry and archive, and releases it on success', async () => {
      const broker = context.broker();
      const payload = new TextEncoder().encode('"same"');
      const unique = { uniqueTtl: 60_000 };
      const first = await broker.enqueue({ message: context.message({ payload }), ...unique });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      await broker.retry(first.message, { processAt: Date.now() - 1000, errorMessage: 'x', isFailure: true });
      await expect(
        broker.enqueue({ message: context.message({ payload }), ...unique }),
      ).rejects.toBeInstanceOf(DuplicateTaskError);
      await broker.forward([context.queue()], Date.now());
      const [again] = (await broker.dequeue([context.queue()], { count: 1, ...lease })).tasks;
      await broker.markComplete(again!.message, Date.now());
      await broker.enqueue({ message: context.message({ payload }), ...unique });
    });

    it('wakes a waiting consumer when work arrives, and times out otherwise', async () => {
      const broker = context.broker();
      expect(await broker.waitForTasks([context.queue()], 50)).toBe(false);
      const controller = new AbortController();
      const aborted = broker.waitForTasks([context.queue()], 10_000, controller.signal);
      controller.abort();
      expect(await aborted).toBe(false);
      if (context.options.notifiesNewTasks === false) return;
      const waiting = broker.waitForTasks([context.queue('other'), context.queue()], 10_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await broker.enqueue({ message: context.message() });
      expect(await waiting).toBe(true);
    });

    it('delivers cancellation requests to subscribers', async () => {
      const broker = context.broker();
      const received: string[] = [];
      const unsubscribe = await broker.subscribeCancel((taskId) => received.push(taskId));
      await broker.publishCancel('task-to-cancel');
      await expect.poll(() => received).toEqual(['task-to-cancel']);
      await unsubscribe();
    });

    it('aggregates a group into a set that can be read and deleted', async () => {
      const broker = context.broker();
      const messages = [context.message({ groupKey: 'g' }), context.message({ groupKey: 'g' })];
      for (const message of messages) await broker.enqueue({ message });
      const options = { setId: 'set-1', maxSize: 0, maxDelay: 0, gracePeriod: 1000, now: Date.now() };
      expect(await broker.aggregationCheck(context.queue(), 'g', options)).toBeUndefined();
      const setId = await broker.aggregationCheck(context.queue(), 'g', {
        ...options,
        now: Date.now() + 10_000,
      });
      expect(setId).toBe('set-1');
      const set = await broker.readAggregationSet(context.queue(), 'g', 'set-1');
      expect(set.messages.map((message) => message.id).sort()).toEqual(
        messages.map((message) => message.id).sort(),
      );
      expect(await broker.listGroups(context.queue())).toEqual([]);
      await broker.deleteAggregationSet(context.queue(), 'g', 'set-1');
      for (const message of messages) {
        await expect(broker.getTask(context.queue(), message.id)).rejects.toBeInstanceOf(TaskNotFoundError);
      }
    });

    it('aggregates at most maxSize tasks, the oldest first, once the group holds that many', async () => {
      const broker = context.broker();
      const messages = [1, 2, 3].map(() => context.message({ groupKey: 'g' }));
      for (const message of messages) await broker.enqueue({ message });
      const now = Date.now();
      const options = { maxDelay: 0, gracePeriod: 3_600_000, now };
      expect(
        await broker.aggregationCheck(context.queue(), 'g', { ...options, setId: 'none', maxSize: 4 }),
      ).toBeUndefined();
      expect(
        await broker.aggregationCheck(context.queue(), 'g', { ...options, setId: 'two', maxSize: 2 }),
      ).toBe('two');
      const set = await broker.readAggregationSet(context.queue(), 'g', 'two');
      expect(set.messages).toHaveLength(2);
      expect(await broker.listGroupStats(context.queue())).toEqual([{ group: 'g', size: 1 }]);
      expect((await broker.queueStats(context.queue(), now)).aggregating).toBe(1);
    });

    it('aggregates a group whose oldest task waited maxDelay, however recent the newest', async () => {
      const broker = context.broker();
      await broker.enqueue({ message: context.message({ groupKey: 'g' }) });
      const options = { setId: 's', maxSize: 0, maxDelay: 5000, gracePeriod: 3_600_000 };
      expect(
        await broker.aggregationCheck(context.queue(), 'g', { ...options, now: Date.now() }),
      ).toBeUndefined();
      expect(
        await broker.aggregationCheck(context.queue(), 'g', { ...options, now: Date.now() + 10_000 }),
      ).toBe('s');
    });

    it('returns the tasks of an abandoned aggregation set to their group', async () => {
      const broker = context.broker();
      await broker.enqueue({ message: context.message({ groupKey: 'g' }) });
      const now = Date.now();
      await broker.aggregationCheck(context.queue(), 'g', {
        setId: 's',
        maxSize: 0,
        maxDelay: 0,
        gracePeriod: 0,
        now,
      });
      await broker.reclaimStaleAggregationSets(context.queue(), now + 3_600_000);
      expect(await broker.listGroupStats(context.queue())).toEqual([{ group: 'g', size: 1 }]);
    });
  });
}
