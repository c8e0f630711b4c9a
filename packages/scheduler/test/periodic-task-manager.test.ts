import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import { ValidationError, type Broker, type Logger } from '@q/core';
import { afterEach, beforeEach, expect, inject, it, vi } from 'vitest';
import { PeriodicTaskManager, type PeriodicTaskConfig, type TickEvent } from '../src/index';

const redisUrl = inject('redisUrl');

let broker: Broker;
const managers: PeriodicTaskManager[] = [];

beforeEach(() => {
  broker = createRedisBroker({ url: redisUrl, prefix: `q-scheduler-test-${randomUUID().slice(0, 8)}` });
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.shutdown()));
  await broker.close();
});

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  return {
    warnings,
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (fieldsOrMessage: Record<string, unknown> | string, message?: string) => {
      warnings.push(
        typeof fieldsOrMessage === 'string'
          ? fieldsOrMessage
          : `${message ?? ''} ${JSON.stringify(fieldsOrMessage)}`,
      );
    },
  };
}

const publishedIds = async (): Promise<string[]> =>
  (await broker.listSchedulerEntries()).map((entry) => entry.id).sort();

function waitUntil(check: () => Promise<boolean> | boolean, timeout = 5000): Promise<void> {
  return vi.waitFor(
    async () => {
      if (!(await check())) throw new Error('not yet');
    },
    { timeout, interval: 50 },
  );
}

it('applies only the difference at each sync, and keeps the last good set when the provider fails', async () => {
  const queue = `managed-${randomUUID().slice(0, 8)}`;
  let configs: PeriodicTaskConfig[] | (() => never) = [
    { spec: '@daily', type: 'report:daily', options: { queue } },
    { spec: '@hourly', type: 'cleanup', id: 'cleanup' },
  ];
  const logger = recordingLogger();
  const ticks: TickEvent[] = [];
  const manager = new PeriodicTaskManager({
    broker,
    logger,
    heartbeatInterval: '1s',
    syncInterval: '200ms',
    provider: () => (typeof configs === 'function' ? configs() : configs),
    afterEnqueue: (event) => void ticks.push(event),
  });
  managers.push(manager);
  await manager.start();
  const initial = await publishedIds();
  expect(initial).toHaveLength(2);
  expect(initial).toContain('cleanup');
  const dailyId = initial.find((id) => id !== 'cleanup')!;

  // Add one that ticks every second, change one, keep one.
  configs = [
    { spec: '@daily', type: 'report:daily', options: { queue } },
    { spec: '@hourly', type: 'cleanup', id: 'cleanup', options: { maxRetry: 1 } },
    { spec: '* * * * * *', type: 'heartbeat', options: { queue }, id: 'heartbeat' },
  ];
  const changed = await manager.sync();
  expect(changed).toEqual({ ok: true, added: ['cleanup', 'heartbeat'], removed: ['cleanup'], unchanged: 1 });
  await waitUntil(async () => (await publishedIds()).length === 3);
  await waitUntil(() => ticks.some((event) => event.entryId === 'heartbeat'));
  const cleanup = (await broker.listSchedulerEntries()).find((entry) => entry.id === 'cleanup');
  expect(cleanup?.enqueueOptions).toEqual(['MaxRetry(1)']);

  // A provider that throws, then one that returns a bad entry: nothing changes, and the reason is logged.
  configs = () => {
    throw new Error('database unreachable');
  };
  const failed = await manager.sync();
  expect(failed.ok).toBe(false);
  configs = [
    { spec: '@daily', type: 'report:daily', options: { queue } },
    { spec: 'every tuesday', type: 'broken' },
    { spec: '@daily', type: 'x', options: { queue: '' } },
  ];
  const invalid = await manager.sync();
  expect(invalid.ok).toBe(false);
  if (!invalid.ok) {
    expect(invalid.error).toBeInstanceOf(ValidationError);
    expect(invalid.error.message).toContain('2 of 3 periodic task entries are invalid');
    expect(invalid.error.message).toContain('entries[1]');
    expect(invalid.error.message).toContain('entries[2].options.queue');
  }
  expect(logger.warnings.some((line) => line.includes('database unreachable'))).toBe(true);
  expect(logger.warnings.some((line) => line.includes('every tuesday'))).toBe(true);
  // The last good set stays published; that later timed syncs keep it too is tested on fake time.
  expect(await publishedIds()).toEqual(['cleanup', dailyId, 'heartbeat'].sort());

  // Remove everything but one; the timer picks the change up without an explicit sync.
  configs = [{ spec: '@hourly', type: 'cleanup', id: 'cleanup', options: { maxRetry: 1 } }];
  await waitUntil(async () => (await publishedIds()).join() === 'cleanup');
}, 20_000);

it('refuses to start when the first read fails, and on duplicate ids', async () => {
  const failing = new PeriodicTaskManager({
    broker,
    provider: () => Promise.reject(new Error('no config yet')),
  });
  managers.push(failing);
  await expect(failing.start()).rejects.toThrow('no config yet');

  const duplicated = new PeriodicTaskManager({
    broker,
    provider: () => [
      { spec: '@daily', type: 'a', id: 'same' },
      { spec: '@hourly', type: 'b', id: 'same' },
    ],
  });
  managers.push(duplicated);
  await expect(duplicated.start()).rejects.toThrow(/same id "same" as entries\[0\]/);
  expect(await publishedIds()).toEqual([]);

  const notAnArray = new PeriodicTaskManager({ broker, provider: () => ({}) as never });
  managers.push(notAnArray);
  await expect(notAnArray.start()).rejects.toThrow(/must return an array/);
});
