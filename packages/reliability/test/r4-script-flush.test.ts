/**
 * R4: `SCRIPT FLUSH` every 2 s under load (every Lua script must be reloaded after each).
 * Pass: no failed operation (enqueue or worker), nothing lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RestartableRedis } from '../src/redis-tools';
import { reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';

const size = sized({
  ci: { tasks: 1000, rate: 100, flushEveryMs: 1000 },
  full: { tasks: 9000, rate: 150, flushEveryMs: 2000 },
});

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('R4: SCRIPT FLUSH under load', () => {
  it(
    'fails no operation and loses nothing',
    async () => {
      const redis = await RestartableRedis.start();
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: ['r4'] });
      cleanup.push(() => scenario.dispose());
      await Promise.all([scenario.startWorker('w1'), scenario.startWorker('w2')]);
      const producer = scenario.startProducer({ count: size.tasks, rate: size.rate });
      let done = false;
      const produced = scenario.producerDone(producer, timeLimit(120_000)).finally(() => (done = true));
      let flushes = 0;
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, size.flushEveryMs));
        expect(await redis.cli(['SCRIPT', 'FLUSH'])).toBe('OK');
        flushes += 1;
      }
      const { acked, failed } = await produced;
      await scenario.waitForDrain(acked, 60_000);
      const audit = await scenario.audit();
      const failedWorkerOperations = scenario
        .workerLines()
        .filter((line) => line.level === 'error' || /could not|NOSCRIPT|refused/i.test(line.msg));
      const figures = {
        tasks: size.tasks,
        flushes,
        acked,
        enqueueFailures: failed,
        failedWorkerOperations: failedWorkerOperations.length,
        lost: audit.lost.length,
        tasksRunTwice: audit.tasksRunTwice,
      };
      reportFigures('R4', figures);
      expect(failed).toBe(0);
      expect(failedWorkerOperations.map((line) => line.msg)).toEqual([]);
      expect(audit.lost).toEqual([]);
      expect(audit.tasksRunTwice).toBe(0);
    },
    timeLimit(120_000),
  );
});
