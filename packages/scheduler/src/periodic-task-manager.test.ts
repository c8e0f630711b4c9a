// The manager's sync timing on a fake clock and an in-memory broker. What reaches Redis is tested against
// a real redis-server in ../test.
import type { Logger } from '@q/core';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { memoryBroker } from '../test/memory-scheduler-broker';
import { PeriodicTaskManager, type PeriodicTaskConfig } from './periodic-task-manager';
import type { TickEvent } from './scheduler';

const at = (iso: string): number => Date.parse(iso);

function warningLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  return {
    warnings,
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (_fields: unknown, message?: string) => void warnings.push(message ?? ''),
  };
}

/** A manager whose provider returns `configs.current` (or throws it, when it is a function). */
function managerOf(options: {
  syncInterval: string;
  configs: { current: PeriodicTaskConfig[] | (() => never) };
}) {
  const { broker, tasks, published } = memoryBroker();
  const logger = warningLogger();
  const ticks: TickEvent[] = [];
  let reads = 0;
  const manager = new PeriodicTaskManager({
    broker,
    logger,
    syncInterval: options.syncInterval,
    heartbeatInterval: '1h',
    provider: () => {
      reads += 1;
      const current = options.configs.current;
      return typeof current === 'function' ? current() : current;
    },
    afterEnqueue: (event) => void ticks.push(event),
  });
  return { manager, tasks, published, logger, ticks, reads: () => reads };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
  vi.setSystemTime(at('2026-01-01T00:00:00.500Z'));
});

afterEach(() => {
  vi.useRealTimers();
});

it('reads the provider every syncInterval, counted from the end of the last sync, and applies the change', async () => {
  const configs = { current: [{ spec: '@daily', type: 'report', id: 'report' }] as PeriodicTaskConfig[] };
  const { manager, ticks, reads } = managerOf({ syncInterval: '1m', configs });
  await manager.start();
  expect(reads()).toBe(1);

  configs.current = [...configs.current, { spec: '* * * * * *', type: 'beat', id: 'beat' }];
  await vi.advanceTimersByTimeAsync(59_999);
  expect(reads()).toBe(1);
  expect(ticks).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  expect(reads()).toBe(2);
  // Registered at 00:01:00.500: its first tick is the next whole second.
  await vi.advanceTimersByTimeAsync(500);
  expect(ticks.map((event) => [event.entryId, new Date(event.tickAt).toISOString()])).toEqual([
    ['beat', '2026-01-01T00:01:01.000Z'],
  ]);
  await vi.advanceTimersByTimeAsync(59_500);
  expect(reads()).toBe(3);
  await manager.shutdown();
});

it('keeps the last good set through every failed sync, and logs each failure', async () => {
  const configs: { current: PeriodicTaskConfig[] | (() => never) } = {
    current: [{ spec: '* * * * * *', type: 'beat', id: 'beat' }],
  };
  const { manager, ticks, logger, reads } = managerOf({ syncInterval: '10s', configs });
  await manager.start();
  configs.current = () => {
    throw new Error('database unreachable');
  };
  await vi.advanceTimersByTimeAsync(30_000);
  expect(reads()).toBe(4);
  expect(logger.warnings.filter((line) => line.includes('provider failed'))).toHaveLength(3);
  // Every second of the 30 still ticked: the failures removed nothing.
  expect(ticks).toHaveLength(30);
  await manager.shutdown();
});

it('stops ticking an entry at the first sync that no longer returns it, without an explicit sync', async () => {
  const configs = {
    current: [
      { spec: '* * * * * *', type: 'beat', id: 'beat' },
      { spec: '@hourly', type: 'cleanup', id: 'cleanup' },
    ] as PeriodicTaskConfig[],
  };
  const { manager, ticks, published } = managerOf({ syncInterval: '5s', configs });
  await manager.start();
  await vi.advanceTimersByTimeAsync(3000);
  expect(ticks).toHaveLength(3);

  configs.current = [{ spec: '@hourly', type: 'cleanup', id: 'cleanup' }];
  await vi.advanceTimersByTimeAsync(2000);
  const atRemoval = ticks.length;
  await vi.advanceTimersByTimeAsync(60_000);
  expect(ticks).toHaveLength(atRemoval);
  expect(published.at(-1)?.map((entry) => entry.id)).toEqual(['cleanup']);
  await manager.shutdown();
});

it('stops syncing at shutdown', async () => {
  const configs = { current: [{ spec: '@daily', type: 'report', id: 'report' }] as PeriodicTaskConfig[] };
  const { manager, reads } = managerOf({ syncInterval: '1s', configs });
  await manager.start();
  await manager.shutdown();
  await vi.advanceTimersByTimeAsync(10_000);
  expect(reads()).toBe(1);
});
