import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import { afterEach, expect, inject, it, vi } from 'vitest';
import {
  startSchedulerProcess,
  type ProcessEvent,
  type SchedulerProcessHandle,
} from './scheduler-process-handle';
import { startTaskDrain } from './task-drain';

const redisUrl = inject('redisUrl');
const started: SchedulerProcessHandle[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((handle) => handle.stop()));
});

it('three scheduler processes enqueue every tick exactly once: two with the same clock, one 2.5 s behind', async () => {
  const prefix = `q-scheduler-test-${randomUUID().slice(0, 8)}`;
  const queue = 'copies';
  const broker = createRedisBroker({ url: redisUrl, prefix });
  // Tasks succeed as soon as they arrive, so a late copy cannot rely on the task still being there.
  const drain = startTaskDrain(broker, queue);
  const entries = [
    {
      spec: '* * * * * *',
      task: { type: 'copies:tick', payload: { report: 'sales' }, options: { queue } },
      options: { id: 'every-second' },
    },
  ];
  try {
    for (const offset of [0, 0, -2500]) {
      started.push(
        startSchedulerProcess({
          Q_REDIS_URL: redisUrl,
          Q_PREFIX: prefix,
          Q_ENTRIES: JSON.stringify(entries),
          Q_CLOCK_OFFSET_MS: String(offset),
          // Smaller than the 2.5 s clock difference: that copy is caught by the entry history.
          Q_DUPLICATE_WINDOW: '1s',
        }),
      );
    }
    await Promise.all(started.map((handle) => handle.waitFor((event) => event.event === 'started')));
    // Run until both guards have been at work and three ticks were attempted by every copy.
    await vi.waitFor(
      () => {
        const attempts = started.flatMap((handle) => handle.events.filter((event) => event.event === 'tick'));
        const pidsByTask = new Map<string, Set<number>>();
        for (const attempt of attempts) {
          pidsByTask.set(attempt.taskId!, (pidsByTask.get(attempt.taskId!) ?? new Set()).add(attempt.pid));
        }
        expect([...pidsByTask.values()].filter((pids) => pids.size === 3).length).toBeGreaterThanOrEqual(3);
        expect(new Set(attempts.map((attempt) => attempt.foundBy).filter(Boolean))).toEqual(
          new Set(['taskId', 'history']),
        );
      },
      { timeout: 20_000, interval: 100 },
    );
    await Promise.all(started.map((handle) => handle.stop()));
    // The worker takes every task the copies enqueued before it stops.
    const enqueuedIds = started.flatMap((handle) =>
      handle.events.filter((event) => event.status === 'enqueued').map((event) => event.taskId),
    );
    await vi.waitFor(
      () => expect(new Set(drain.taken.map((message) => message.id))).toEqual(new Set(enqueuedIds)),
      { timeout: 5000, interval: 20 },
    );
  } finally {
    await drain.stop();
  }

  const attempts = started.flatMap((handle) => handle.events.filter((event) => event.event === 'tick'));
  const byTask = new Map<string, ProcessEvent[]>();
  for (const attempt of attempts)
    byTask.set(attempt.taskId!, [...(byTask.get(attempt.taskId!) ?? []), attempt]);
  const enqueued = attempts.filter((attempt) => attempt.status === 'enqueued');

  // Every tick any copy attempted was enqueued by exactly one of them; nothing failed.
  for (const [, tickAttempts] of byTask) {
    expect(tickAttempts.filter((attempt) => attempt.status === 'enqueued')).toHaveLength(1);
    for (const attempt of tickAttempts) expect(['enqueued', 'enqueued-elsewhere']).toContain(attempt.status);
  }
  // Both guards were at work: copies on the same clock race for the task id, the late copy reads the history.
  const foundBy = new Set(attempts.map((attempt) => attempt.foundBy).filter(Boolean));
  expect(foundBy).toEqual(new Set(['taskId', 'history']));
  const attemptedByAllThree = [...byTask.values()].filter(
    (list) => new Set(list.map((item) => item.pid)).size === 3,
  );
  expect(attemptedByAllThree.length).toBeGreaterThanOrEqual(3);

  // No tick was missed between the first and the last.
  const tickTimes = enqueued.map((attempt) => attempt.tickAt!).sort((left, right) => left - right);
  for (let index = 1; index < tickTimes.length; index++)
    expect(tickTimes[index]! - tickTimes[index - 1]!).toBe(1000);

  // The worker ran each tick's task once, and only those.
  const takenIds = drain.taken.map((message) => message.id);
  expect(new Set(takenIds).size).toBe(takenIds.length);
  expect(new Set(takenIds)).toEqual(new Set(enqueued.map((attempt) => attempt.taskId)));

  // One history event per tick, for Asynq's `cron history`.
  const history = await broker.schedulerHistory('every-second', { page: 1, pageSize: 1000 });
  expect(history.map((event) => event.taskId).sort()).toEqual(
    enqueued.map((attempt) => attempt.taskId).sort(),
  );

  console.info(
    `3 scheduler processes: ${byTask.size} ticks, ${attempts.length} attempts, ${enqueued.length} enqueues, ` +
      `${takenIds.length} tasks run; refused by task id ${attempts.filter((attempt) => attempt.foundBy === 'taskId').length}, ` +
      `found in history ${attempts.filter((attempt) => attempt.foundBy === 'history').length}; max enqueues per tick ${Math.max(
        ...[...byTask.values()].map((list) => list.filter((item) => item.status === 'enqueued').length),
      )}`,
  );
  await broker.close();
}, 40_000);
