/**
 * R6: malformed task records written straight into Redis, among good tasks being produced: random bytes
 * for `msg`, a hash without `msg`, a record that is not a hash, an id with no record at all.
 * Pass: every malformed record archived with a reason; at least 99.9 % of good tasks done; no crash and
 * no unhandled rejection.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RestartableRedis } from '../src/redis-tools';
import { reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';

const size = sized({
  ci: { good: 1000, bad: 100, rate: 125 },
  full: { good: 10_000, bad: 1000, rate: 250 },
});
const kinds = ['random-msg', 'no-msg', 'not-a-hash', 'no-record'] as const;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('R6: malformed records among good tasks', () => {
  it(
    'archives every malformed record with a reason and keeps processing',
    async () => {
      const redis = await RestartableRedis.start();
      cleanup.push(() => redis.stop());
      const queue = 'r6';
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: [queue] });
      cleanup.push(() => scenario.dispose());
      const workers = await Promise.all([scenario.startWorker('w1'), scenario.startWorker('w2')]);
      const producer = scenario.startProducer({ count: size.good, rate: size.rate });
      const produced = scenario.producerDone(producer, timeLimit(120_000));
      const connection = scenario.broker.connection;
      const key = (suffix: string) => `${scenario.prefix}:{${queue}}:${suffix}`;
      const badIds: string[] = [];
      const spread = (size.good / size.rate) * 1000;
      for (let index = 0; index < size.bad; index += 1) {
        const id = `bad-${index}`;
        const kind = kinds[index % kinds.length]!;
        const record = key(`t:${id}`);
        if (kind === 'random-msg') await connection.hset(record, 'msg', randomBytes(40), 'state', 'pending');
        if (kind === 'no-msg') await connection.hset(record, 'state', 'pending');
        if (kind === 'not-a-hash') await connection.set(record, 'not a task');
        await connection.lpush(key('pending'), id);
        badIds.push(id);
        if (index % 10 === 9) await new Promise((resolve) => setTimeout(resolve, (spread / size.bad) * 10));
      }
      const { acked, failed } = await produced;
      await scenario.waitForDrain(acked + size.bad, 60_000);
      const audit = await scenario.audit();
      const archivedWithReason = (
        await Promise.all(
          badIds.map((id) =>
            scenario.broker.getTask(queue, id).then(
              (task) => task.state === 'archived' && task.message.errorMessage.length > 0,
              () => false,
            ),
          ),
        )
      ).filter(Boolean).length;
      const crashes = scenario
        .workerLines()
        .filter((line) => line.event === 'unhandled-rejection' || /failed unexpectedly/.test(line.msg));
      const figures = {
        good: size.good,
        malformed: size.bad,
        acked,
        enqueueFailures: failed,
        malformedArchivedWithReason: archivedWithReason,
        goodDonePercent: Math.round((audit.completed / acked) * 100_000) / 1000,
        lost: audit.lost.length,
        workersAlive: workers.filter((worker) => worker.running).length,
        crashesOrUnhandledRejections: crashes.length,
      };
      reportFigures('R6', figures);
      expect(archivedWithReason).toBe(size.bad);
      expect(audit.completed / acked).toBeGreaterThanOrEqual(0.999);
      expect(figures.workersAlive).toBe(2);
      expect(crashes).toEqual([]);
      for (const worker of workers) expect(worker.stderr()).toBe('');
    },
    timeLimit(120_000),
  );
});
