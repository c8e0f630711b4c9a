/**
 * The scheduler on the memory broker: entries are published where the inspector reads them, and each
 * tick is enqueued once. The memory broker runs on the real clock here, which vitest's fake timers drive.
 */
import { createMemoryBroker } from '@q/broker-memory';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { Scheduler } from '../src/scheduler';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.UTC(2026, 0, 1) });
});

afterEach(() => {
  vi.useRealTimers();
});

it('enqueues each tick once into the memory broker and publishes its entries there', async () => {
  const broker = createMemoryBroker();
  const scheduler = new Scheduler({ broker });
  scheduler.register('@every 30s', { type: 'report', payload: { region: 'eu' } }, { id: 'report' });
  await scheduler.start();
  const [entry] = await broker.listSchedulerEntries();
  expect(entry).toMatchObject({ id: 'report', spec: '@every 30s', taskType: 'report' });

  await vi.advanceTimersByTimeAsync(90_000);
  const tasks = await broker.listTasks('default', 'pending', {});
  expect(tasks.map((task) => task.message.type)).toEqual(['report', 'report', 'report']);
  const history = await broker.schedulerHistory('report', {});
  expect(history.map((event) => event.taskId).sort()).toEqual(tasks.map((task) => task.message.id).sort());
  await scheduler.shutdown();
  expect(await broker.listSchedulerEntries()).toEqual([]);
  await broker.close();
});
