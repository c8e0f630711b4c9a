/**
 * Process tests with real signals against a real redis-server: S5 (a storm of 500 random signals, then
 * TERM) and S6 (TSTP, a watch, then CONT). Figures from docs/reliability.md; times measured from outside
 * get `timingAllowanceMs` on top.
 */
import { describe, expect, inject, it, vi } from 'vitest';
import {
  exitAfter,
  isForcedShutdownStarted,
  isGracefulShutdownStarted,
  isTaskFinished,
  isTaskStarted,
  reportFigure,
  signalReceived,
  withRunningWorker,
  type LogLine,
} from './worker-harness';
import { timingAllowanceMs } from '../../../test/timing-allowance';

const redisUrl = inject('redisUrl');
const sleep = (milliseconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

describe('quiet, resume and signal storms', () => {
  it('S5: 500 random TSTP / CONT / USR2 within 1 s, then TERM: no crash, one shutdown sequence, exit within timeout + 1 s', async () => {
    const shutdownTimeout = 3000;
    const config = { redisUrl, queues: { default: 1 }, concurrency: 10, shutdownTimeout };
    await withRunningWorker('s5', config, async ({ client, worker }) => {
      await client.enqueueMany(Array.from({ length: 40 }, () => ({ type: 'work', payload: { ms: 400 } })));
      await worker.waitForLine(isTaskStarted);

      const signals: NodeJS.Signals[] = ['SIGTSTP', 'SIGCONT', 'SIGUSR2'];
      const stormStartedAt = Date.now();
      for (let index = 0; index < 500; index += 1) {
        worker.send(signals[Math.floor(Math.random() * signals.length)]!);
        if (index % 25 === 24) await sleep(40);
      }
      const stormMs = Date.now() - stormStartedAt;
      const { exit, elapsed } = await exitAfter(worker, 'SIGTERM');
      const handled = worker.lines.filter((line) => typeof line.outcome === 'string').length;
      reportFigure(
        'S5',
        `storm of 500 signals in ${stormMs} ms (${handled} handled after coalescing); exit code ${exit.code} ${elapsed} ms after SIGTERM (timeout ${shutdownTimeout} ms)`,
      );

      expect(stormMs).toBeLessThan(1000 + timingAllowanceMs);
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(elapsed).toBeLessThan(shutdownTimeout + 1000 + timingAllowanceMs);
      expect(worker.count(isGracefulShutdownStarted)).toBe(1);
      expect(worker.count(isForcedShutdownStarted)).toBe(0);
      expect(worker.count((line) => line.level === 'error')).toBe(0);
      expect(worker.count((line) => line.dump !== undefined)).toBeGreaterThan(0);
      expect(worker.stderr()).toBe('');
    });
  });

  it('S6: TSTP, a watch, then CONT: no dequeue while quiet, in-flight tasks complete, leases kept, backlog warned about, CONT resumes within 1 s', async () => {
    // docs/reliability.md's S6 watches for 30 s; 8 s keeps the suite short and still outlasts the 2 s lease four times over.
    const watchMs = 8000;
    const leaseDuration = 2000;
    const config = {
      redisUrl,
      queues: { default: 1 },
      concurrency: 10,
      shutdownTimeout: 3000,
      leaseDuration,
      run: { quietWarningAfter: 3000, checkInterval: 250 },
    };
    await withRunningWorker('s6', config, async ({ broker, client, worker }) => {
      await client.enqueueMany(Array.from({ length: 5 }, () => ({ type: 'work', payload: { ms: 5000 } })));
      await vi.waitFor(() => expect(worker.count(isTaskStarted)).toBe(5), { timeout: 5000, interval: 20 });

      const quietAt = worker.send('SIGTSTP');
      const received = await worker.waitForLine(signalReceived('SIGTSTP'));
      expect(received).toMatchObject({ stateBefore: 'running', stateAfter: 'quiet' });
      await client.enqueueMany(Array.from({ length: 10 }, () => ({ type: 'work', payload: { ms: 50 } })));

      // Past the first lease: the running tasks still hold theirs, and the server says it is quiet.
      await sleep(2 * leaseDuration);
      const active = await broker.listTasks('default', 'active', { pageSize: 20 });
      expect(active).toHaveLength(5);
      expect(active.filter((task) => task.isOrphaned)).toEqual([]);
      const published = (await broker.listServers()).find((snapshot) => snapshot.server.pid === received.pid);
      expect(published?.server.status).toBe('stopped');
      expect(published?.server.lifecycle).toMatchObject({ state: 'quiet', lastSignal: 'SIGTSTP' });

      // Quiet longer than quietWarningAfter while tasks wait: the worker says so.
      const warning = await worker.waitForLine(
        (line) => line.level === 'warn' && /has been quiet/.test(line.msg),
      );
      expect(warning).toMatchObject({ pendingTasks: 10 });
      expect(warning.time - quietAt).toBeGreaterThanOrEqual(3000);

      await sleep(Math.max(0, quietAt + watchMs - Date.now()));
      expect(worker.count(isTaskStarted)).toBe(5);
      expect(worker.count(isTaskFinished)).toBe(5);
      const quietStats = await broker.queueStats('default', Date.now());
      expect(quietStats).toMatchObject({ pending: 10, active: 0, retry: 0, archived: 0, processedTotal: 5 });

      const resumedAt = worker.send('SIGCONT');
      const firstAfterResume: LogLine = await worker.waitForLine(
        (line) => isTaskStarted(line) && line.time >= resumedAt,
        5000,
      );
      const resumeMs = firstAfterResume.time - resumedAt;
      reportFigure(
        'S6',
        `quiet for ${watchMs} ms with 0 dequeues; first task started ${resumeMs} ms after SIGCONT`,
      );
      expect(resumeMs).toBeLessThan(1000 + timingAllowanceMs);
      await vi.waitFor(() => expect(worker.count(isTaskFinished)).toBe(15), { timeout: 5000, interval: 20 });

      worker.send('SIGTERM');
      expect((await worker.exited).code).toBe(0);
    });
  });
});
