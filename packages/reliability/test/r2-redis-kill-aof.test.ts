/**
 * R2: Redis with AOF `appendfsync always` is killed with `kill -9` three times under load, down 2 s each.
 * Pass: no acknowledged task lost; workers run tasks again within 3 s of Redis returning; no worker exits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RestartableRedis } from '../src/redis-tools';
import { reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';
import { timingAllowanceMs } from '../../../test/timing-allowance';

const size = sized({
  ci: { tasks: 1200, rate: 100, killsAtMs: [2500, 6000, 9500] },
  full: { tasks: 6000, rate: 150, killsAtMs: [8000, 18_000, 28_000] },
});
const downMs = 2000;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('R2: kill -9 Redis (AOF always) three times under load', () => {
  it(
    'loses no acknowledged task, and the workers resume within 3 s of each return',
    async () => {
      const redis = await RestartableRedis.start(['--appendonly', 'yes', '--appendfsync', 'always']);
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: ['r2'] });
      cleanup.push(() => scenario.dispose());
      const [w1, w2] = await Promise.all([scenario.startWorker('w1'), scenario.startWorker('w2')]);
      const startedAt = Date.now();
      const producer = scenario.startProducer({ count: size.tasks, rate: size.rate });
      const produced = scenario.producerDone(producer, timeLimit(120_000));
      const returns: number[] = [];
      for (const killAt of size.killsAtMs) {
        await new Promise((resolve) => setTimeout(resolve, startedAt + killAt - Date.now()));
        const at = Date.now();
        await redis.kill9();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        await redis.restart();
        returns.push(Date.now());
        scenario.recordFault({ kind: 'redis kill -9', at, until: Date.now() + 10_000 });
      }
      const { acked, failed, errors } = await produced;
      await scenario.waitForDrain(acked, 60_000);
      const audit = await scenario.audit();
      const runs = [...(await scenario.ledger.runs()).values()].flat();
      const resumeMs = returns.map(
        (back) => Math.min(...runs.filter((run) => run.at >= back).map((run) => run.at)) - back,
      );
      const figures = {
        tasks: size.tasks,
        acked,
        enqueueFailures: failed,
        enqueueErrors: errors,
        redisKills: returns.length,
        lost: audit.lost.length,
        tasksRunTwice: audit.tasksRunTwice,
        resumeMsAfterReturn: resumeMs,
        workersAlive: [w1, w2].filter((worker) => worker.running).length,
      };
      reportFigures('R2', figures);
      expect(audit.lost).toEqual([]);
      expect(figures.workersAlive).toBe(2);
      for (const ms of resumeMs) expect(ms).toBeLessThan(3000 + timingAllowanceMs);
    },
    timeLimit(180_000),
  );
});
