/**
 * R9: a Redis Cluster of three masters; R1 at reduced scale over three queues (three slots), plus the
 * slot of one queue moved to another master mid-load, so that clients meet ASK, TRYAGAIN and MOVED.
 * Pass: no CROSSSLOT error, nothing lost, every duplicate traced to a kill.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisCluster } from '../../../test/redis-cluster';
import { reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';
import { migrateSlot } from '../src/slot-migration';
import { killWorkersAtRandom } from '../src/worker-kills';

const size = sized({
  ci: { tasks: 900, rate: 90 },
  full: { tasks: 3000, rate: 100 },
});

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('R9: Redis Cluster, R1 at reduced scale with a slot moved mid-load', () => {
  it(
    'has no CROSSSLOT error, loses nothing, and handles MOVED and ASK',
    async () => {
      const cluster = await startRedisCluster();
      cleanup.push(() => cluster.stop());
      const queues = ['r9a', 'r9b', 'r9c'];
      const scenario = await Scenario.create({ target: { cluster: { nodes: cluster.nodes } }, queues });
      cleanup.push(() => scenario.dispose());
      await Promise.all([scenario.startWorker('w1'), scenario.startWorker('w2')]);
      const producer = scenario.startProducer({ count: size.tasks, rate: size.rate });
      const produced = scenario.producerDone(producer, timeLimit(120_000));
      const migration = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 3000));
        return migrateSlot(
          cluster.nodes.map((node) => node.port),
          `${scenario.prefix}:{r9a}:pending`,
        );
      })();
      const kills = await killWorkersAtRandom(scenario, ['w1', 'w2'], produced);
      const moved = await migration;
      const { acked, failed, errors } = await produced;
      await scenario.waitForDrain(acked, 60_000);
      const audit = await scenario.audit();
      const lines = scenario.workerLines().map((line) => JSON.stringify(line));
      const crossSlot = lines.filter((line) => line.includes('CROSSSLOT'));
      const figures = {
        masters: cluster.nodes.length,
        tasks: size.tasks,
        acked,
        enqueueFailures: failed,
        enqueueErrors: errors,
        kills: kills.length,
        slotMoved: moved,
        crossSlotErrors: crossSlot.length,
        movedOrAskErrorsSurfaced: lines.filter((line) => /\b(MOVED|ASK|TRYAGAIN)\b/.test(line)).length,
        lost: audit.lost.length,
        tasksRunTwice: audit.tasksRunTwice,
        unexplainedDuplicates: audit.unexplainedDuplicates.length,
      };
      reportFigures('R9', figures);
      expect(crossSlot).toEqual([]);
      expect(audit.lost).toEqual([]);
      expect(failed).toBe(0);
      expect(audit.unexplainedDuplicates).toEqual([]);
    },
    timeLimit(180_000),
  );
});
