/**
 * HUP: a closed terminal must not kill tasks mid-flight. The worker runs in a real terminal (`script`
 * gives it a pseudo-terminal); killing `script` closes the terminal, so the kernel sends the worker
 * SIGHUP and every write to its stdout fails with EIO from then on. Pass: the running tasks complete,
 * nothing is requeued or retried, and the process ends within the shutdown timeout + 1 s.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import { describe, expect, inject, it, vi } from 'vitest';
import {
  isTaskStarted,
  isWorkerRunning,
  reportFigure,
  shellQuote,
  spawnWorker,
  uniquePrefix,
} from './worker-harness';
import { timingAllowanceMs } from '../../../test/timing-allowance';

const redisUrl = inject('redisUrl');
const scriptAvailable =
  process.platform === 'linux' && spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
if (!scriptAvailable) process.stdout.write('[skip] HUP: util-linux `script` is needed for a real terminal\n');

/** Whether `pid` still runs. An exited process that its new parent has not reaped yet counts as gone. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('a closed terminal', () => {
  it.runIf(scriptAvailable)(
    'HUP from a closed terminal: running tasks complete, nothing requeued, exit within timeout + 1 s',
    async () => {
      const shutdownTimeout = 5000;
      const prefix = uniquePrefix('hup');
      const broker = createRedisBroker({ url: redisUrl, prefix });
      const client = new Client({ broker });
      const worker = spawnWorker(
        { redisUrl, prefix, queues: { default: 1 }, concurrency: 5, shutdownTimeout },
        {
          wrapCommand: (command) => [
            'script',
            '-qefc',
            `exec ${command.map(shellQuote).join(' ')}`,
            '/dev/null',
          ],
        },
      );
      let workerPid = 0;
      try {
        const running = await worker.waitForLine(isWorkerRunning);
        workerPid = Number(running.pid);
        await client.enqueueMany(Array.from({ length: 3 }, () => ({ type: 'work', payload: { ms: 2500 } })));
        await vi.waitFor(() => expect(worker.count(isTaskStarted)).toBe(3), { timeout: 5000, interval: 20 });

        // Closing the terminal: the worker gets SIGHUP from the kernel, and its writes fail from now on.
        const closedAt = Date.now();
        worker.kill();
        await vi.waitFor(() => expect(isAlive(workerPid)).toBe(false), { timeout: 15_000, interval: 25 });
        const elapsed = Date.now() - closedAt;
        const stats = await broker.queueStats('default', Date.now());
        reportFigure(
          'HUP',
          `worker ended ${elapsed} ms after its terminal closed; ${stats.processedTotal} of 3 tasks completed`,
        );

        expect(stats).toMatchObject({ processedTotal: 3, pending: 0, active: 0, retry: 0, archived: 0 });
        expect(elapsed).toBeGreaterThan(1000);
        expect(elapsed).toBeLessThan(shutdownTimeout + 1000 + timingAllowanceMs);
      } finally {
        worker.kill();
        if (workerPid > 0 && isAlive(workerPid)) process.kill(workerPid, 'SIGKILL');
        await broker.close();
      }
    },
  );
});
