/**
 * S3: Redis stopped, then SIGTERM. Pass: exit within timeout + 1 s; the leases recover the tasks once
 * Redis returns. Uses its own redis-server (with an append-only file, so that the tasks survive the stop).
 */
import { rmSync } from 'node:fs';
import { createRedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import { Server } from '@q/server';
import { describe, expect, it, vi } from 'vitest';
import { startRedisServer } from '../../../test/redis-server';
import { isTaskStarted, isWorkerRunning, reportFigure, spawnWorker, uniquePrefix } from './worker-harness';
import { timingAllowanceMs } from '../../../test/timing-allowance';

describe('shutdown with Redis down', () => {
  it('S3: SIGTERM while Redis is stopped exits within timeout + 1 s; the leases recover the tasks once Redis returns', async () => {
    const shutdownTimeout = 2000;
    const leaseDuration = 2000;
    const persistence = ['--appendonly', 'yes', '--appendfsync', 'always'];
    let redis = await startRedisServer({ args: persistence });
    const { port, dir } = redis;
    const prefix = uniquePrefix('s3');
    const worker = spawnWorker({
      redisUrl: redis.url,
      prefix,
      queues: { default: 1 },
      concurrency: 5,
      shutdownTimeout,
      leaseDuration,
      run: { health: { port: 0 } },
    });
    try {
      const producer = createRedisBroker({ url: redis.url, prefix });
      const running = await worker.waitForLine(isWorkerRunning);
      await new Client({ broker: producer }).enqueueMany(
        Array.from({ length: 5 }, () => ({
          type: 'work',
          payload: { ms: 60_000 },
          options: { maxRetry: 3 },
        })),
      );
      await vi.waitFor(() => expect(worker.count(isTaskStarted)).toBe(5), { timeout: 5000, interval: 20 });
      await producer.close();

      await redis.stop({ keepData: true });
      // The worker notices, says so on its health endpoint, and keeps its tasks running.
      const stoppedAt = Date.now();
      await vi.waitFor(
        async () => {
          const response = await fetch(`${String(running.health)}/healthz`);
          expect(response.status).toBe(503);
          expect(((await response.json()) as { reasons: string[] }).reasons).toContainEqual(
            expect.stringMatching(/broker is unreachable/),
          );
        },
        { timeout: 10_000, interval: 100 },
      );
      reportFigure(
        'S3',
        `/healthz reported the broker unreachable ${Date.now() - stoppedAt} ms after Redis stopped`,
      );
      const sentAt = worker.send('SIGTERM');
      const exit = await worker.exited;
      const elapsed = exit.at - sentAt;
      reportFigure(
        'S3',
        `exit code ${exit.code} ${elapsed} ms after SIGTERM with Redis down (timeout ${shutdownTimeout} ms)`,
      );
      expect(elapsed).toBeLessThan(shutdownTimeout + 1000 + timingAllowanceMs);
      expect(exit.signal).toBeNull();

      // Redis returns with the same data: another server's recoverer takes the tasks whose lease ended.
      const returnedAt = Date.now();
      redis = await startRedisServer({ port, dir, args: persistence });
      const broker = createRedisBroker({ url: redis.url, prefix });
      const recovered: string[] = [];
      const rescuer = new Server({
        broker,
        queues: { default: 1 },
        concurrency: 5,
        leaseDuration,
        recovererInterval: 500,
        delayedTaskCheckInterval: 200,
        retryDelay: () => 0,
      });
      await rescuer.start((task) => {
        recovered.push(task.id);
      });
      try {
        await vi.waitFor(() => expect(recovered).toHaveLength(5), { timeout: 15_000, interval: 100 });
        reportFigure(
          'S3',
          `all 5 tasks recovered and run ${Date.now() - returnedAt} ms after Redis returned`,
        );
        const stats = await broker.queueStats('default', Date.now());
        expect(stats).toMatchObject({ active: 0, pending: 0 });
      } finally {
        await rescuer.shutdown({ timeout: 1000 });
        await broker.close();
      }
    } finally {
      worker.kill();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
