import { BatchAbortedError, DuplicateTaskError, TaskIdConflictError, ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from './suite-context';

export function producerCases(context: SuiteContext): void {
  describe('producing', () => {
    it('enqueues a pending task that can be read back as stored', async () => {
      const broker = context.broker();
      const message = context.message({ headers: { tenant: 'acme' } });
      const before = Date.now();
      const result = await broker.enqueue({ message });
      expect(result.state).toBe('pending');
      expect(result.message).toEqual(message);
      expect(result.nextProcessAt).toBeGreaterThanOrEqual(before - 1000);
      const stored = await broker.getTask(message.queue, message.id);
      expect(stored.state).toBe('pending');
      expect(stored.message).toEqual(message);
      expect(await broker.listQueues()).toContain(message.queue);
    });

    it('schedules a task due later', async () => {
      const broker = context.broker();
      const message = context.message();
      const processAt = Date.now() + 3_600_000;
      const result = await broker.enqueue({ message, processAt });
      expect(result).toMatchObject({ state: 'scheduled', nextProcessAt: processAt });
      const stored = await broker.getTask(message.queue, message.id);
      expect(stored.state).toBe('scheduled');
      expect(Math.abs(stored.nextProcessAt! - processAt)).toBeLessThan(1000);
    });

    it('adds a grouped task to its group', async () => {
      const broker = context.broker();
      const message = context.message({ groupKey: 'digest' });
      const result = await broker.enqueue({ message });
      expect(result.state).toBe('aggregating');
      expect(await broker.listGroups(message.queue)).toEqual(['digest']);
      expect((await broker.getTask(message.queue, message.id)).state).toBe('aggregating');
    });

    it('refuses a task id that is taken, whatever the state of the task holding it', async () => {
      const broker = context.broker();
      const message = context.message();
      await broker.enqueue({ message, processAt: Date.now() + 60_000 });
      await expect(broker.enqueue({ message: { ...message, type: 'other' } })).rejects.toBeInstanceOf(
        TaskIdConflictError,
      );
    });

    it('refuses a duplicate while the uniqueness lock is held, and accepts it once the task is done', async () => {
      const broker = context.broker();
      const payload = new TextEncoder().encode('{"same":true}');
      const first = await broker.enqueue({ message: context.message({ payload }), uniqueTtl: 60_000 });
      expect(first.message.uniqueKey).not.toBe('');
      await expect(
        broker.enqueue({ message: context.message({ payload }), uniqueTtl: 60_000 }),
      ).rejects.toBeInstanceOf(DuplicateTaskError);
      await broker.enqueue({
        message: context.message({ payload, type: 'another:type' }),
        uniqueTtl: 60_000,
      });
      const { tasks } = await broker.dequeue([context.queue()], { count: 1, leaseDuration: 30_000 });
      await broker.done(tasks[0]!.message);
      await broker.enqueue({ message: context.message({ payload }), uniqueTtl: 60_000 });
    });

    it('rejects an invalid request before storing anything', async () => {
      const broker = context.broker();
      await expect(broker.enqueue({ message: context.message({ queue: '' }) })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(broker.enqueue({ message: context.message({ id: '' }) })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });

    it('enqueues many tasks, reporting each in order', async () => {
      const broker = context.broker();
      const taken = context.message();
      await broker.enqueue({ message: taken });
      const results = await broker.enqueueMany([
        { message: context.message() },
        { message: context.message({ id: taken.id }) },
        { message: context.message({ queue: context.queue('other') }) },
      ]);
      expect(results.map((result) => result.ok)).toEqual([true, false, true]);
      expect(results[1]!.ok ? undefined : results[1]!.error).toBeInstanceOf(TaskIdConflictError);
      expect((await broker.queueStats(context.queue(), Date.now())).pending).toBe(2);
      expect((await broker.queueStats(context.queue('other'), Date.now())).pending).toBe(1);
    });

    it('enqueues an atomic batch all or nothing', async () => {
      const broker = context.broker();
      const written = await broker.enqueueMany(
        [{ message: context.message() }, { message: context.message(), processAt: Date.now() + 60_000 }],
        { atomic: true },
      );
      expect(written.every((result) => result.ok)).toBe(true);
      const taken = context.message();
      await broker.enqueue({ message: taken });
      const refused = await broker.enqueueMany(
        [{ message: context.message() }, { message: { ...taken } }, { message: context.message() }],
        { atomic: true },
      );
      expect(refused.every((result) => !result.ok)).toBe(true);
      expect(refused[1]!.ok ? undefined : refused[1]!.error).toBeInstanceOf(TaskIdConflictError);
      for (const index of [0, 2]) {
        const error = refused[index]!.ok ? undefined : refused[index]!.error;
        expect(error).toBeInstanceOf(BatchAbortedError);
        expect(error).toMatchObject({ index: 1, abortedBy: 'requests[1]' });
      }
      const stats = await broker.queueStats(context.queue(), Date.now());
      expect(stats.pending).toBe(2);
      expect(stats.scheduled).toBe(1);
    });
  });
}
