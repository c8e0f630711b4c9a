/**
 * R3: Redis without persistence is restarted (`redis-cli SHUTDOWN NOSAVE`, then started again, empty).
 * Pass: the worker keeps running, logs that Redis's data is gone, and runs a new task within 3 s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@q/client';
import { RestartableRedis } from '../src/redis-tools';
import { reportFigures, Scenario } from '../src/scenario';
import { timeLimit } from '../src/scale';
import { timingAllowanceMs } from '../../../test/timing-allowance';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('R3: Redis restarted with no persistence', () => {
  it(
    'keeps the worker running, says the data is gone, and processes new tasks within 3 s',
    async () => {
      const redis = await RestartableRedis.start();
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: ['r3'] });
      cleanup.push(() => scenario.dispose());
      const worker = await scenario.startWorker('w1');
      const client = new Client({ broker: scenario.broker });
      const before = await client.enqueue('fault', { n: 0, ms: 10, enqueuedAt: Date.now() }, { queue: 'r3' });
      await waitForRun(scenario, before.id);
      // Tasks in flight when Redis goes: they vanish with its data.
      for (let n = 1; n <= 20; n += 1) {
        await client.enqueue('fault', { n, ms: 2000, enqueuedAt: Date.now() }, { queue: 'r3' });
      }
      await redis.shutdownNoSave();
      await redis.restart();
      const back = Date.now();
      const dataGone = await worker.waitForLine((line) => /data is gone/.test(line.msg), 15_000);
      const after = await enqueueWhenReachable(client);
      const ran = await waitForRun(scenario, after.id);
      const figures = {
        dataGoneLoggedMsAfterReturn: dataGone.time - back,
        newTaskStartedMsAfterReturn: ran - back,
        workerRunning: worker.running,
        workerErrorsOtherThanDataGone: worker.lines.filter(
          (line) => line.level === 'error' && !/data is gone|unreachable/.test(line.msg),
        ).length,
      };
      reportFigures('R3', figures);
      expect(worker.running).toBe(true);
      expect(figures.newTaskStartedMsAfterReturn).toBeLessThan(3000 + timingAllowanceMs);
    },
    timeLimit(30_000),
  );
});

async function enqueueWhenReachable(client: Client) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await client.enqueue('fault', { n: 99, ms: 10, enqueuedAt: Date.now() }, { queue: 'r3' });
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function waitForRun(scenario: Scenario, id: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const runs = (await scenario.ledger.runs()).get(id);
    if (runs?.[0]) return runs[0].at;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`task ${id} did not run within 15 s`);
}
