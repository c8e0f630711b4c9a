/**
 * R5: one worker is cut from Redis (a TCP proxy stops moving bytes, connections stay open) for longer
 * than its lease, while its handlers finish and try to record their outcome. Another worker recovers and
 * runs the tasks. When the cut heals, the first worker's held-up writes reach Redis late.
 * Pass: nothing lost; the late completions are refused (lease token fencing); the cut worker runs a new
 * task within 3 s of the heal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@q/client';
import { RestartableRedis } from '../src/redis-tools';
import { reportFigures, Scenario } from '../src/scenario';
import { timeLimit } from '../src/scale';
import { startTcpProxy } from '../src/tcp-proxy';
import { timingAllowanceMs } from '../../../test/timing-allowance';

const cutMs = 8000;
const taskMs = 3000;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function runsOf(scenario: Scenario, id: string) {
  return (await scenario.ledger.runs()).get(id) ?? [];
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('R5: a worker cut from Redis for longer than its lease', () => {
  it(
    'refuses its late completions, loses nothing, and it resumes within 3 s of the heal',
    async () => {
      const redis = await RestartableRedis.start();
      cleanup.push(() => redis.stop());
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
      cleanup.push(() => proxy.close());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: ['r5', 'r5-a'] });
      cleanup.push(() => scenario.dispose());
      const cutWorker = await scenario.startWorker('cut', {
        target: { ...scenario.target, url: proxy.url },
        queues: { r5: 1, 'r5-a': 1 },
        concurrency: 4,
      });
      const client = new Client({ broker: scenario.broker });
      const tasks = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          client.enqueue(
            'fault',
            { n, ms: taskMs, enqueuedAt: Date.now() },
            { queue: 'r5', retention: '1h' },
          ),
        ),
      );
      for (const task of tasks) await scenario.ledger.recordAck('r5', task.id);
      await until(
        async () =>
          (await Promise.all(tasks.map((task) => runsOf(scenario, task.id)))).every(
            (runs) => runs.length === 1,
          ),
        'the cut worker to start all four',
        15_000,
      );
      const cutAt = Date.now();
      proxy.cut();
      await scenario.startWorker('other', { queues: { r5: 1 } });
      await new Promise((resolve) => setTimeout(resolve, cutAt + cutMs - Date.now()));
      const rerunByOther = (await Promise.all(tasks.map((task) => runsOf(scenario, task.id)))).filter(
        (runs) => runs.some((run) => run.worker === 'other'),
      ).length;
      proxy.heal();
      const healedAt = Date.now();
      scenario.recordFault({
        kind: 'network cut',
        at: cutAt,
        until: healedAt,
        pid: cutWorker.pid,
        worker: 'cut',
      });
      const probe = await client.enqueue(
        'fault',
        { n: 5, ms: 10, enqueuedAt: Date.now() },
        { queue: 'r5-a', retention: '1h' },
      );
      await scenario.ledger.recordAck('r5-a', probe.id);
      await until(async () => (await runsOf(scenario, probe.id)).length > 0, 'the probe', 15_000);
      const probeStartedAt = (await runsOf(scenario, probe.id))[0]!.at;
      await scenario.waitForDrain(5, 30_000);
      const audit = await scenario.audit();
      const refused = cutWorker.lines.filter((line) => /late outcome write was refused/.test(line.msg));
      const accepted = cutWorker.lines.filter((line) =>
        /late outcome write reached the broker and was accepted/.test(line.msg),
      );
      const figures = {
        cutMs,
        leaseMs: 5000,
        tasksRerunByOtherWorkerDuringCut: rerunByOther,
        lateCompletionsRefused: refused.length,
        lateCompletionsAccepted: accepted.length,
        lost: audit.lost.length,
        unexplainedDuplicates: audit.unexplainedDuplicates.length,
        resumeMsAfterHeal: probeStartedAt - healedAt,
      };
      reportFigures('R5', figures);
      expect(audit.lost).toEqual([]);
      expect(audit.unexplainedDuplicates).toEqual([]);
      expect(rerunByOther).toBe(4);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(accepted).toEqual([]);
      expect(figures.resumeMsAfterHeal).toBeLessThan(3000 + timingAllowanceMs);
    },
    timeLimit(60_000),
  );
});
