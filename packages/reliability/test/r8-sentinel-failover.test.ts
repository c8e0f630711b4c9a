/**
 * R8: Sentinel with a primary, a replica and three sentinels; the primary is killed (`kill -9`) under load
 * and the sentinels promote the replica. Pass: every worker runs tasks from the new primary within 10 s
 * of the kill; none stays stuck on READONLY. Tasks acknowledged by the old primary but not yet
 * replicated can be lost (replication is asynchronous): counted, not a failure of @q.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';
import { startSentinelGroup } from '../src/sentinel-group';

const size = sized({
  ci: { tasks: 1500, rate: 100, killAtMs: 4000 },
  full: { tasks: 6000, rate: 150, killAtMs: 15_000 },
});

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('R8: Sentinel failover under load', () => {
  it(
    'follows the new primary within 10 s, none stuck on READONLY',
    async () => {
      const group = await startSentinelGroup();
      cleanup.push(() => group.stop());
      const scenario = await Scenario.create({
        target: { sentinel: { sentinels: group.sentinels, name: group.name } },
        queues: ['r8'],
      });
      cleanup.push(() => scenario.dispose());
      const workers = await Promise.all([scenario.startWorker('w1'), scenario.startWorker('w2')]);
      const startedAt = Date.now();
      const producer = scenario.startProducer({ count: size.tasks, rate: size.rate });
      const produced = scenario.producerDone(producer, timeLimit(120_000));
      await new Promise((resolve) => setTimeout(resolve, startedAt + size.killAtMs - Date.now()));
      const killedAt = Date.now();
      await group.primary.kill9();
      scenario.recordFault({ kind: 'primary kill -9', at: killedAt, until: killedAt + 30_000 });
      while ((await group.masterPort()) !== group.replica.port) {
        if (Date.now() - killedAt > 30_000) throw new Error('the sentinels did not promote the replica');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const promotedAt = Date.now();
      const { acked, failed, errors } = await produced;
      await scenario.waitForDrain(0, 60_000);
      const audit = await scenario.audit();
      const runs = [...(await scenario.ledger.runs()).values()].flat();
      const followMs = workers.map(
        (worker) =>
          Math.min(
            ...runs.filter((run) => run.pid === worker.pid && run.at > promotedAt).map((run) => run.at),
          ) - killedAt,
      );
      const readonly = scenario.workerLines().filter((line) => JSON.stringify(line).includes('READONLY'));
      const readonlyLate = readonly.filter((line) => line.time > killedAt + 10_000);
      const figures = {
        tasks: size.tasks,
        acked,
        enqueueFailures: failed,
        enqueueErrors: errors,
        promotedMsAfterKill: promotedAt - killedAt,
        workersFollowedMsAfterKill: followMs,
        readonlyLogLines: readonly.length,
        readonlyLogLinesAfter10s: readonlyLate.length,
        lostUnreplicated: audit.lost.length,
        workersAlive: workers.filter((worker) => worker.running).length,
      };
      reportFigures('R8', figures);
      for (const ms of followMs) expect(ms).toBeLessThan(10_000);
      expect(readonlyLate).toEqual([]);
      expect(figures.workersAlive).toBe(2);
    },
    timeLimit(180_000),
  );
});
