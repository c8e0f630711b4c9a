/**
 * Process tests with real signals against a real redis-server: S1 (graceful TERM), S2 (the deadline
 * with hung handlers), S4 (the double signal), and the watchdog. Figures from docs/reliability.md; times
 * measured from outside get `timingAllowanceMs` on top.
 */
import { describe, expect, inject, it, vi } from 'vitest';
import { checkGracefulTerm } from './graceful-term-scenario';
import {
  exitAfter,
  isForcedShutdownStarted,
  isGracefulShutdownStarted,
  isTaskAborted,
  isTaskStarted,
  reportFigure,
  signalReceived,
  withRunningWorker,
} from './worker-harness';
import { timingAllowanceMs } from '../../../test/timing-allowance';

const redisUrl = inject('redisUrl');

describe('shutdown by signal', () => {
  it('S1: SIGTERM with 50 tasks of 2 s in flight: no dequeue after it, all 50 complete, exit 0 within 3 s', async () => {
    await checkGracefulTerm('S1', redisUrl);
  });

  it('S2: SIGTERM with 20 hung tasks: exit within timeout + 1 s, handlers aborted, 20 back in pending, retry count unchanged', async () => {
    // docs/reliability.md's S2 uses 60 s tasks and an 8 s timeout; 3 s keeps the suite short and the bound is the same: timeout + 1 s.
    const shutdownTimeout = 3000;
    const config = { redisUrl, queues: { default: 1 }, concurrency: 20, shutdownTimeout };
    await withRunningWorker('s2', config, async ({ broker, client, worker }) => {
      // Half honour their abort signal, half ignore it and never settle.
      await client.enqueueMany(
        Array.from({ length: 20 }, (_, index) =>
          index % 2 === 0 ? { type: 'work', payload: { ms: 60_000 } } : { type: 'hang', payload: {} },
        ),
      );
      await vi.waitFor(() => expect(worker.count(isTaskStarted)).toBe(20), { timeout: 5000, interval: 20 });

      const { exit, elapsed } = await exitAfter(worker, 'SIGTERM');
      reportFigure(
        'S2',
        `exit code ${exit.code} ${elapsed} ms after SIGTERM (timeout ${shutdownTimeout} ms)`,
      );

      expect(exit.code).toBe(0);
      expect(elapsed).toBeLessThan(shutdownTimeout + 1000 + timingAllowanceMs);
      expect(new Set(worker.lines.filter(isTaskAborted).map((line) => line.taskId)).size).toBe(20);
      const stats = await broker.queueStats('default', Date.now());
      expect(stats).toMatchObject({ pending: 20, active: 0, retry: 0, archived: 0 });
      const pending = await broker.listTasks('default', 'pending', { pageSize: 50 });
      expect(pending.map((task) => task.message.retried)).toEqual(Array.from({ length: 20 }, () => 0));
    });
  });

  it('S4: SIGTERM then SIGINT 200 ms later forces the shutdown: exit within 2.5 s of the second signal, tasks requeued', async () => {
    const config = { redisUrl, queues: { default: 1 }, concurrency: 10, shutdownTimeout: 30_000 };
    await withRunningWorker('s4', config, async ({ broker, client, worker }) => {
      await client.enqueueMany(Array.from({ length: 10 }, () => ({ type: 'work', payload: { ms: 60_000 } })));
      await vi.waitFor(() => expect(worker.count(isTaskStarted)).toBe(10), { timeout: 5000, interval: 20 });

      worker.send('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const { exit, elapsed } = await exitAfter(worker, 'SIGINT');
      reportFigure('S4', `exit code ${exit.code} ${elapsed} ms after the second signal`);

      expect(exit.code).toBe(0);
      expect(elapsed).toBeLessThan(2500 + timingAllowanceMs);
      expect(worker.count(isGracefulShutdownStarted)).toBe(1);
      expect(worker.count(isForcedShutdownStarted)).toBe(1);
      expect(worker.lines.find(signalReceived('SIGINT'))?.outcome).toMatch(/forced/);
      const stats = await broker.queueStats('default', Date.now());
      expect(stats).toMatchObject({ pending: 10, active: 0, retry: 0, archived: 0 });
    });
  });

  it('the watchdog: a shutdown that never finishes ends in a non-zero exit that names what still runs', async () => {
    const shutdownTimeout = 1000;
    const config = {
      redisUrl,
      queues: { default: 1 },
      concurrency: 2,
      shutdownTimeout,
      faults: { shutdownHangs: true },
    };
    await withRunningWorker('watchdog', config, async ({ client, worker }) => {
      await client.enqueue('hang', {});
      await worker.waitForLine(isTaskStarted);
      const { exit, elapsed } = await exitAfter(worker, 'SIGTERM');
      reportFigure(
        'watchdog',
        `exit code ${exit.code} ${elapsed} ms after SIGTERM (timeout ${shutdownTimeout} ms)`,
      );

      expect(exit.code).toBe(1);
      expect(elapsed).toBeLessThan(shutdownTimeout + 1000 + timingAllowanceMs);
      const report = worker.lines.find((line) => line.level === 'error' && line.msg.startsWith('watchdog'));
      expect(report?.runningTasks).toEqual([expect.objectContaining({ type: 'hang', queue: 'default' })]);
    });
  });
});
