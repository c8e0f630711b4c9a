/**
 * S1 (and S7, the same as PID 1): 50 in-flight tasks of 2 s, then SIGTERM. Pass: no dequeue after the
 * signal, all 50 complete, exit 0 within 3 s.
 */
import { createRedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import { expect, vi } from 'vitest';
import {
  isTaskFinished,
  isTaskStarted,
  isWorkerRunning,
  reportFigure,
  signalReceived,
  spawnWorker,
  uniquePrefix,
  type SpawnOptions,
} from './worker-harness';
import { timingAllowanceMs } from '../../../test/timing-allowance';

export async function checkGracefulTerm(
  name: string,
  redisUrl: string,
  options: SpawnOptions & { expectedPid?: number } = {},
): Promise<void> {
  const prefix = uniquePrefix(name);
  const broker = createRedisBroker({ url: redisUrl, prefix });
  const client = new Client({ broker });
  // Ten slots more than tasks: a dequeue after the signal would find free slots and pending tasks.
  const worker = spawnWorker(
    { redisUrl, prefix, queues: { critical: 6, default: 3, low: 1 }, concurrency: 60, shutdownTimeout: 8000 },
    options,
  );
  try {
    const running = await worker.waitForLine(isWorkerRunning);
    if (options.expectedPid !== undefined) expect(running.pid).toBe(options.expectedPid);
    const tasks = Array.from({ length: 50 }, (_, index) => ({
      type: 'work',
      payload: { ms: 2000 },
      options: { queue: ['critical', 'default', 'low'][index % 3]! },
    }));
    await client.enqueueMany(tasks);
    await vi.waitFor(() => expect(worker.count(isTaskStarted)).toBe(50), { timeout: 5000, interval: 20 });

    const sentAt = worker.send('SIGTERM');
    const received = await worker.waitForLine(signalReceived('SIGTERM'));
    // Enqueued once the worker has handled the signal: they must stay pending.
    await client.enqueueMany(
      Array.from({ length: 10 }, () => ({
        type: 'work',
        payload: { ms: 10 },
        options: { queue: 'critical' },
      })),
    );
    const exit = await worker.exited;
    const elapsed = exit.at - sentAt;
    reportFigure(
      name,
      `exit code ${exit.code} ${elapsed} ms after SIGTERM (pid inside: ${String(running.pid)})`,
    );

    expect(exit.code).toBe(0);
    expect(elapsed).toBeLessThan(3000 + timingAllowanceMs);
    expect(worker.count(isTaskFinished)).toBe(50);
    expect(worker.lines.filter((line) => isTaskStarted(line) && line.time >= received.time)).toEqual([]);
    const stats = await Promise.all(
      ['critical', 'default', 'low'].map((queue) => broker.queueStats(queue, Date.now())),
    );
    expect(stats.map((queue) => queue.active)).toEqual([0, 0, 0]);
    expect(stats.reduce((sum, queue) => sum + queue.pending, 0)).toBe(10);
    expect(stats.reduce((sum, queue) => sum + queue.retry + queue.archived, 0)).toBe(0);
    expect(stats.reduce((sum, queue) => sum + queue.processedTotal, 0)).toBe(50);
  } finally {
    worker.kill();
    await broker.close();
  }
}
