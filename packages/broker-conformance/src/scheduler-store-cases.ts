import { randomUUID } from 'node:crypto';
import type { SchedulerEntryState } from '@q/core';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from './suite-context';

export function schedulerStoreCases(context: SuiteContext): void {
  describe('scheduler store', () => {
    it('publishes entries for inspection, then clears them', async () => {
      const broker = context.broker();
      const scheduler = { host: 'conformance-host', pid: 1, schedulerId: randomUUID() };
      const entry: SchedulerEntryState = {
        id: randomUUID(),
        spec: '*/5 * * * *',
        taskType: 'report',
        payload: new TextEncoder().encode('{}'),
        enqueueOptions: [`Queue("${context.queue()}")`],
        nextEnqueueAt: Date.now() + 300_000,
        previousEnqueueAt: 0,
      };
      await broker.writeSchedulerEntries(scheduler, [entry], 30_000);
      const listed = (await broker.listSchedulerEntries()).filter(
        (snapshot) => snapshot.scheduler.schedulerId === scheduler.schedulerId,
      );
      expect(listed).toEqual([{ ...entry, scheduler }]);
      await broker.clearSchedulerEntries(scheduler);
      const after = await broker.listSchedulerEntries();
      expect(after.some((snapshot) => snapshot.scheduler.schedulerId === scheduler.schedulerId)).toBe(false);
    });

    it('records enqueue events, newest first', async () => {
      const broker = context.broker();
      const entryId = randomUUID();
      const start = Date.now() - 10_000;
      for (let index = 0; index < 3; index += 1) {
        await broker.recordSchedulerEnqueue(entryId, {
          taskId: `task-${index}`,
          enqueuedAt: start + index * 1000,
        });
      }
      const history = await broker.schedulerHistory(entryId, { page: 1, pageSize: 2 });
      expect(history.map((event) => event.taskId)).toEqual(['task-2', 'task-1']);
      expect(history[0]!.enqueuedAt).toBe(start + 2000);
      const second = await broker.schedulerHistory(entryId, { page: 2, pageSize: 2 });
      expect(second.map((event) => event.taskId)).toEqual(['task-0']);
    });
  });
}
