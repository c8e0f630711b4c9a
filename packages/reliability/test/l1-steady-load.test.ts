/**
 * L1: steady load over two workers: 1,000 tasks/s for 5 minutes in docs/reliability.md. Pass: p99
 * enqueue-to-start under 250 ms; Redis memory flat; worker RSS drift under 10 %, and the heap left after a
 * full collection (the workers run with --expose-gc and collect before each memory report) flat too: that is
 * what a leak grows, without V8's lazy heap sizing that makes RSS climb in the first seconds of a run.
 * Sizes: `npm test` 200 tasks/s for 15 s; `pnpm test:faults` 1,000 tasks/s for 60 s; the full five
 * minutes by hand: `Q_L1_SECONDS=300 pnpm test:faults -t L1`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RestartableRedis } from '../src/redis-tools';
import { percentile, reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';

const size = sized({
  ci: { rate: 200, seconds: 15 },
  full: { rate: 1000, seconds: Number(process.env.Q_L1_SECONDS ?? 60) },
});

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const mean = (values: readonly number[]): number =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

/** Mean of the samples in the second quarter of the run against the mean of those in the last quarter. */
function drift(samples: readonly { at: number; value: number }[], from: number, to: number) {
  const span = to - from;
  const early = samples.filter((sample) => sample.at >= from + span / 4 && sample.at < from + span / 2);
  const late = samples.filter((sample) => sample.at >= from + (3 * span) / 4);
  const before = mean(early.map((sample) => sample.value));
  const after = mean(late.map((sample) => sample.value));
  return {
    before: Math.round(before),
    after: Math.round(after),
    percent: Math.round(((after - before) / before) * 1000) / 10,
  };
}

describe('L1: steady load over two workers', () => {
  it(
    'starts tasks within 250 ms at p99, with flat Redis memory and worker RSS',
    async () => {
      const redis = await RestartableRedis.start();
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: ['l1'] });
      cleanup.push(() => scenario.dispose());
      const workers = await Promise.all(
        ['w1', 'w2'].map((name) =>
          scenario.startWorker(name, { concurrency: 16, memoryReportInterval: 1000 }),
        ),
      );
      const count = size.rate * size.seconds;
      const startedAt = Date.now();
      const producer = scenario.startProducer({ count, rate: size.rate, workMs: [1, 5], retention: null });
      const produced = scenario.producerDone(producer, timeLimit(size.seconds * 1000 + 60_000));
      const redisMemory: { at: number; value: number }[] = [];
      let finished = false;
      void produced.finally(() => (finished = true)).catch(() => undefined);
      while (!finished) {
        const info = await redis.cli(['INFO', 'memory']);
        const used = /used_memory:(\d+)/.exec(info);
        if (used) redisMemory.push({ at: Date.now(), value: Number(used[1]) });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const endedAt = Date.now();
      const { acked, failed } = await produced;
      await scenario.waitForDrain(0, 60_000);
      const runs = await scenario.ledger.runs();
      const acknowledged = await scenario.ledger.acked();
      const neverRan = [...acknowledged.keys()].filter((id) => !runs.has(id));
      const latencies = [...runs.values()].map((list) => list[0]!.latency ?? 0);
      const rss = workers.map((worker) =>
        drift(
          worker.lines
            .filter((line) => line.event === 'memory')
            .map((line) => ({ at: line.time, value: Number(line.rss) })),
          startedAt,
          endedAt,
        ),
      );
      const heap = workers.map((worker) =>
        drift(
          worker.lines
            .filter((line) => line.event === 'memory')
            .map((line) => ({ at: line.time, value: Number(line.heapAfterGc) })),
          startedAt,
          endedAt,
        ),
      );
      const memory = drift(redisMemory, startedAt, endedAt);
      const figures = {
        rate: size.rate,
        seconds: size.seconds,
        acked,
        enqueueFailures: failed,
        achievedRate: Math.round(acked / ((endedAt - startedAt) / 1000)),
        p50StartMs: percentile(latencies, 50),
        p99StartMs: percentile(latencies, 99),
        maxStartMs: percentile(latencies, 100),
        redisUsedMemory: memory,
        workerRss: rss,
        workerHeapAfterGc: heap,
        neverRan: neverRan.length,
      };
      reportFigures('L1', figures);
      expect(neverRan).toEqual([]);
      expect(figures.p99StartMs).toBeLessThan(250);
      // Flat: under 10 % growth, with 512 kB of slack for counters and allocator noise on a small base.
      expect(memory.after - memory.before).toBeLessThan(memory.before * 0.1 + 512 * 1024);
      for (const worker of rss) expect(worker.percent).toBeLessThan(10);
      // A leak of 100 bytes per task grows the heap by 1.5 MB between the two quarters at full size.
      for (const worker of heap)
        expect(worker.after - worker.before).toBeLessThan(worker.before * 0.05 + 512 * 1024);
    },
    timeLimit(size.seconds * 1000 + 120_000),
  );
});
