/**
 * R10: Redis at its `maxmemory` with `noeviction` refuses enqueues with a clear error, and nothing is
 * silently dropped (every acknowledged task is stored); a server on a Redis whose policy evicts keys says
 * so loudly at start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RestartableRedis } from '../src/redis-tools';
import { reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';

const size = sized({ ci: { attempts: 8000 }, full: { attempts: 40_000 } });

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('R10: maxmemory', () => {
  it(
    'noeviction: enqueue fails with a clear out-of-memory error and every acknowledged task is kept',
    async () => {
      const redis = await RestartableRedis.start(['--maxmemory', '3mb', '--maxmemory-policy', 'noeviction']);
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: ['r10'] });
      cleanup.push(() => scenario.dispose());
      // No worker: tasks pile up until Redis is full. Each carries about 1 kB.
      const producer = scenario.startProducer({ count: size.attempts, rate: 4000, canary: 'x'.repeat(1000) });
      const { acked, failed, errors } = await scenario.producerDone(producer, timeLimit(60_000));
      const stored = await scenario.broker.connection.llen(`${scenario.prefix}:{r10}:pending`);
      const ledgerAcked = await scenario.ledger.ackedCount();
      const messages = Object.keys(errors);
      const figures = {
        attempts: size.attempts,
        acked,
        refused: failed,
        storedPending: stored,
        silentlyDropped: ledgerAcked - stored,
        errorMessages: messages,
      };
      reportFigures('R10 noeviction', figures);
      expect(failed).toBeGreaterThan(0);
      expect(acked + failed).toBe(size.attempts);
      expect(stored).toBe(ledgerAcked);
      // One message per script that met the full Redis (a lone enqueue, or a coalesced batch).
      expect(messages.length).toBeGreaterThan(0);
      for (const message of messages) expect(message).toMatch(/out of memory.*raise maxmemory/);
    },
    timeLimit(60_000),
  );

  it(
    'an evicting policy: the server warns loudly at start',
    async () => {
      const redis = await RestartableRedis.start([
        '--maxmemory',
        '64mb',
        '--maxmemory-policy',
        'allkeys-lru',
      ]);
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: ['r10'] });
      cleanup.push(() => scenario.dispose());
      const startedAt = Date.now();
      const worker = await scenario.startWorker('w1');
      const warning = await worker.waitForLine(
        (line) => /maxmemory-policy allkeys-lru/.test(line.msg),
        10_000,
      );
      reportFigures('R10 evicting policy', {
        level: warning.level,
        msAfterSpawn: warning.time - startedAt,
        message: warning.msg,
      });
      expect(warning.level).toBe('error');
      expect(warning.msg).toMatch(/tasks can vanish.*noeviction/);
    },
    timeLimit(30_000),
  );
});
