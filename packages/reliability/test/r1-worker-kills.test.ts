/**
 * R1: two worker processes (concurrency 8) take tasks of 5-50 ms while one of them, at random, is SIGKILLed
 * every 2-5 s and started again. Pass: nothing acknowledged is lost, every duplicate's first run was on a
 * killed process, and the queue drains within 7 s of the last kill (lease 5 s, sweep 1 s).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RestartableRedis } from '../src/redis-tools';
import { reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';
import { killWorkersAtRandom } from '../src/worker-kills';
import { timingAllowanceMs } from '../../../test/timing-allowance';

const size = sized({
  ci: { tasks: 1200, rate: 100 },
  full: { tasks: 10_000, rate: 167 },
});

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('R1: SIGKILL a random worker every 2-5 s', () => {
  it(
    'loses nothing, traces every duplicate to a kill, and drains within 7 s of the last kill',
    async () => {
      const redis = await RestartableRedis.start();
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: ['r1'] });
      cleanup.push(() => scenario.dispose());
      await Promise.all([scenario.startWorker('w1'), scenario.startWorker('w2')]);
      const producer = scenario.startProducer({ count: size.tasks, rate: size.rate });
      const produced = scenario.producerDone(producer, timeLimit(120_000));
      const kills = await killWorkersAtRandom(scenario, ['w1', 'w2'], produced);
      const { acked, failed } = await produced;
      const drainedAt = await scenario.waitForDrain(acked, 60_000);
      const audit = await scenario.audit();
      const figures = {
        tasks: size.tasks,
        acked,
        enqueueFailures: failed,
        kills: kills.length,
        lost: audit.lost.length,
        runs: audit.runs,
        tasksRunTwice: audit.tasksRunTwice,
        unexplainedDuplicates: audit.unexplainedDuplicates.length,
        drainMsAfterLastKill: drainedAt - kills.at(-1)!,
      };
      reportFigures('R1', figures);
      expect(audit.lost).toEqual([]);
      expect(failed).toBe(0);
      expect(audit.unexplainedDuplicates).toEqual([]);
      expect(figures.drainMsAfterLastKill).toBeLessThan(7000 + timingAllowanceMs);
    },
    timeLimit(180_000),
  );
});
