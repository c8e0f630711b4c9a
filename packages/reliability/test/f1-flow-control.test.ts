/**
 * F1: flow control across real worker processes (docs/reliability.md). Limits are set in Redis by the
 * test, the way `q queue limit` sets them, and every worker process obeys them. Each check reads the
 * ledger: when every handler run started and ended, in which process.
 */
import { Client } from '@q/client';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../../test/redis-server';
import { timingAllowanceMs } from '../../../test/timing-allowance';
import type { LedgerRun } from '../src/ledger';
import type { FaultPayload } from '../src/process-config';
import { reportFigures, Scenario } from '../src/scenario';
import { timeLimit } from '../src/scale';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** @q's default lease, sweep and the cutoff the recoverer waits past a lease's end. */
const leaseDuration = 3000;
const recoveryBound = leaseDuration + 1000 + 1000;

interface Interval {
  id: string;
  pid: number;
  start: number;
  end: number;
}

async function scenarioWithWorkers(queue: string, workers: number, concurrency = 10): Promise<Scenario> {
  const redis = await startRedisServer();
  cleanup.push(() => redis.stop());
  const scenario = await Scenario.create({ target: { url: redis.url }, queues: [queue] });
  cleanup.push(() => scenario.dispose());
  await Promise.all(
    Array.from({ length: workers }, (_unused, index) =>
      scenario.startWorker(`w${index + 1}`, { concurrency, leaseDuration, recordEnds: true }),
    ),
  );
  return scenario;
}

async function enqueue(scenario: Scenario, queue: string, count: number, ms: number): Promise<void> {
  const client = new Client({ broker: scenario.broker });
  for (let n = 0; n < count; n += 1) {
    const payload: FaultPayload = { n, ms, enqueuedAt: Date.now() };
    // Kept as completed for an hour, so that the drain can be seen.
    const info = await client.enqueue('fault', payload, { queue, maxRetry: 25, retention: '1h' });
    await scenario.ledger.recordAck(queue, info.id);
  }
}

/** Every run with its end (runs cut short by a kill end at `endOf(pid)`, or now). */
async function intervals(scenario: Scenario, endOf: (pid: number) => number = Date.now): Promise<Interval[]> {
  const [runs, ends] = await Promise.all([scenario.ledger.runs(), scenario.ledger.ends()]);
  const result: Interval[] = [];
  for (const [id, list] of runs) {
    const taskEnds = [...(ends.get(id) ?? [])];
    for (const run of [...list].sort((a, b) => a.at - b.at)) {
      const index = taskEnds.findIndex((end) => end.pid === run.pid && end.at >= run.at);
      const end = index >= 0 ? taskEnds.splice(index, 1)[0]!.at : endOf(run.pid);
      result.push({ id, pid: run.pid, start: run.at, end });
    }
  }
  return result;
}

/** The most runs that overlapped at one instant. */
function mostAtOnce(runs: readonly Interval[]): number {
  const events = runs.flatMap((run) => [
    { at: run.start, change: 1 },
    { at: run.end, change: -1 },
  ]);
  // Ends before starts at the same millisecond: a slot given back and taken again is not an overlap.
  events.sort((a, b) => a.at - b.at || a.change - b.change);
  let current = 0;
  let most = 0;
  for (const event of events) {
    current += event.change;
    most = Math.max(most, current);
  }
  return most;
}

/** The most starts in any window of `period` ms, [start, start + period). */
function mostStartsInWindow(starts: readonly number[], period: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while (sorted[last]! - sorted[first]! >= period) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

const allRuns = async (scenario: Scenario): Promise<LedgerRun[]> =>
  [...(await scenario.ledger.runs()).values()].flat();

describe('F1: flow control across worker processes', () => {
  it(
    'concurrency limit 3 with 3 servers of concurrency 10: never more than 3 running',
    async () => {
      const queue = 'f1-concurrency';
      const scenario = await scenarioWithWorkers(queue, 3);
      await scenario.broker.setFlowLimits(queue, { concurrency: 3 });
      await enqueue(scenario, queue, 60, 60);
      await scenario.waitForDrain(60, 30_000);
      const runs = await intervals(scenario);
      const pids = new Set(runs.map((run) => run.pid));
      const most = mostAtOnce(runs);
      reportFigures('F1 concurrency', {
        tasks: 60,
        runs: runs.length,
        mostAtOnce: most,
        processes: pids.size,
      });
      expect(runs).toHaveLength(60);
      expect(most).toBe(3);
      expect(pids.size).toBeGreaterThan(1);
    },
    timeLimit(30_000),
  );

  it(
    'rate 50/s with 3 servers: no 1-second window holds more than 50 starts, and at least 90 % of the rate is reached',
    async () => {
      const queue = 'f1-rate';
      const scenario = await scenarioWithWorkers(queue, 3);
      await scenario.broker.setFlowLimits(queue, { rate: { limit: 50, period: 1000 } });
      // The limit governs the moment a task is taken (leased, its state becomes active), on Redis's clock:
      // the broker logs each in the queue's start log, kept for a period; reading it every 100 ms sees all.
      const takenAt = new Map<string, number>();
      const startLog = `${scenario.prefix}:{${queue}}:flow:starts`;
      const readLog = async (): Promise<void> => {
        const entries = await scenario.broker.connection.zrange(startLog, 0, -1, 'WITHSCORES');
        for (let index = 0; index + 1 < entries.length; index += 2) {
          takenAt.set(entries[index]!, Number(entries[index + 1]));
        }
      };
      const poller = setInterval(() => void readLog().catch(() => undefined), 100);
      cleanup.push(() => {
        clearInterval(poller);
        return Promise.resolve();
      });
      await enqueue(scenario, queue, 150, 5);
      await scenario.waitForDrain(150, 30_000);
      clearInterval(poller);
      await readLog();
      const taken = [...takenAt.values()].sort((a, b) => a - b);
      const handlerStarts = (await allRuns(scenario)).map((run) => run.at).sort((a, b) => a - b);
      const most = mostStartsInWindow(taken, 1000);
      // 150 tasks at 50 per second fill three windows: the last one opens 2 s after the first.
      const span = taken.at(-1)! - taken[0]!;
      const achieved = (taken.length / (span + 1000)) * 1000;
      reportFigures('F1 rate', {
        tasks: 150,
        mostTakenIn1s: most,
        // Handlers start a few ms after their task is taken, so their windows can hold a few more.
        mostHandlerStartsIn1s: mostStartsInWindow(handlerStarts, 1000),
        spanMs: span,
        achievedPerSecond: Number(achieved.toFixed(1)),
      });
      expect(taken).toHaveLength(150);
      expect(handlerStarts).toHaveLength(150);
      expect(most).toBeLessThanOrEqual(50);
      expect(achieved).toBeGreaterThanOrEqual(45);
    },
    timeLimit(30_000),
  );

  it(
    'two tenants, as queues with a limit each, one with 10x the backlog of the other: both progress',
    async () => {
      // A queue per tenant, each with its own limit: servers rotate between their queues by weight.
      const big = 'f1-tenant-big';
      const small = 'f1-tenant-small';
      const redis = await startRedisServer();
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: [big, small] });
      cleanup.push(() => scenario.dispose());
      await scenario.broker.setFlowLimits(big, { concurrency: 4 });
      await scenario.broker.setFlowLimits(small, { concurrency: 4 });
      // The big tenant's burst is enqueued first, all of it older than the small tenant's tasks.
      await enqueue(scenario, big, 200, 30);
      await enqueue(scenario, small, 20, 30);
      await Promise.all(
        ['w1', 'w2', 'w3'].map((name) =>
          scenario.startWorker(name, { concurrency: 10, leaseDuration, recordEnds: true }),
        ),
      );
      await scenario.waitForDrain(220, 30_000);
      const acked = await scenario.ledger.acked();
      const runs = await scenario.ledger.runs();
      const startsOf = (queue: string): number[] =>
        [...runs]
          .filter(([id]) => acked.get(id) === queue)
          .map(([, list]) => list[0]!.at)
          .sort((a, b) => a - b);
      const bigStarts = startsOf(big);
      const smallStarts = startsOf(small);
      const smallDoneAt = smallStarts.at(-1)!;
      const bigBefore = bigStarts.filter((at) => at <= smallDoneAt).length;
      reportFigures('F1 tenants', {
        bigTasks: bigStarts.length,
        smallTasks: smallStarts.length,
        bigStartedBeforeSmallFinished: bigBefore,
      });
      expect(smallStarts).toHaveLength(20);
      expect(bigStarts).toHaveLength(200);
      // The small tenant finished while most of the big one's backlog still waited.
      expect(bigBefore).toBeLessThan(100);
    },
    timeLimit(30_000),
  );

  it(
    'two flow keys in one queue, one with 10x the tasks, per-key concurrency 2 over 3 servers: both progress, never more than 2 per key',
    async () => {
      const queue = 'f1-keys';
      const scenario = await scenarioWithWorkers(queue, 3);
      await scenario.broker.setFlowLimits(queue, { perKey: { concurrency: 2 } });
      const client = new Client({ broker: scenario.broker });
      const keyOf = new Map<string, string>();
      const enqueueKeyed = async (flowKey: string, count: number): Promise<void> => {
        for (let n = 0; n < count; n += 1) {
          const payload: FaultPayload = { n, ms: 20, enqueuedAt: Date.now() };
          const info = await client.enqueue('fault', payload, {
            queue,
            flowKey,
            maxRetry: 25,
            retention: '1h',
          });
          keyOf.set(info.id, flowKey);
          await scenario.ledger.recordAck(queue, info.id);
        }
      };
      // The big key's burst is enqueued first, all of it older than the small key's tasks.
      await enqueueKeyed('big', 200);
      await enqueueKeyed('small', 20);
      await scenario.waitForDrain(220, 30_000);
      const runs = await intervals(scenario);
      const runsOf = (flowKey: string): Interval[] => runs.filter((run) => keyOf.get(run.id) === flowKey);
      const bigRuns = runsOf('big');
      const smallRuns = runsOf('small');
      const smallDoneAt = Math.max(...smallRuns.map((run) => run.end));
      const bigBefore = bigRuns.filter((run) => run.start <= smallDoneAt).length;
      const pids = new Set(runs.map((run) => run.pid));
      reportFigures('F1 flow keys', {
        bigTasks: bigRuns.length,
        smallTasks: smallRuns.length,
        bigStartedBeforeSmallFinished: bigBefore,
        mostAtOnceBig: mostAtOnce(bigRuns),
        mostAtOnceSmall: mostAtOnce(smallRuns),
        processes: pids.size,
      });
      expect(bigRuns).toHaveLength(200);
      expect(smallRuns).toHaveLength(20);
      expect(mostAtOnce(bigRuns)).toBeLessThanOrEqual(2);
      expect(mostAtOnce(smallRuns)).toBeLessThanOrEqual(2);
      // Both keys ran side by side: the small key finished while most of the big one's backlog waited.
      expect(bigBefore).toBeLessThan(100);
      expect(pids.size).toBeGreaterThan(1);
    },
    timeLimit(30_000),
  );

  it(
    'SIGKILL a server holding slots: the slots come back within the lease recovery time',
    async () => {
      const queue = 'f1-kill';
      const redis = await startRedisServer();
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: [queue] });
      cleanup.push(() => scenario.dispose());
      await scenario.broker.setFlowLimits(queue, { concurrency: 3 });
      const options = { concurrency: 10, leaseDuration, recordEnds: true };
      const first = await scenario.startWorker('w1', options);
      await enqueue(scenario, queue, 6, 60_000);
      // w1 takes the three slots; w2 starts afterwards and finds none.
      await waitUntil(async () => (await allRuns(scenario)).length === 3, 'w1 to hold the three slots');
      await scenario.startWorker('w2', options);
      const killedAt = Date.now();
      await scenario.killWorker('w1');
      await waitUntil(
        async () => (await allRuns(scenario)).filter((run) => run.worker === 'w2').length === 3,
        'w2 to take the three slots',
        recoveryBound + timingAllowanceMs + 5000,
      );
      const w2Runs = (await allRuns(scenario)).filter((run) => run.worker === 'w2');
      const returnedAfter = Math.max(...w2Runs.map((run) => run.at)) - killedAt;
      const runs = await intervals(scenario, (pid) => (pid === first.pid ? killedAt : Date.now()));
      reportFigures('F1 kill', {
        slotsReturnedAfterMs: returnedAfter,
        boundMs: recoveryBound,
        mostAtOnce: mostAtOnce(runs),
      });
      expect(returnedAfter).toBeLessThan(recoveryBound + timingAllowanceMs);
      expect(mostAtOnce(runs)).toBe(3);
      expect((await scenario.broker.flowState(queue)).running).toBe(3);
    },
    timeLimit(40_000),
  );

  it(
    "SIGKILL a server holding a flow key's slots: they come back to that key within the lease recovery time",
    async () => {
      const queue = 'f1-key-kill';
      const redis = await startRedisServer();
      cleanup.push(() => redis.stop());
      const scenario = await Scenario.create({ target: { url: redis.url }, queues: [queue] });
      cleanup.push(() => scenario.dispose());
      await scenario.broker.setFlowLimits(queue, { perKey: { concurrency: 2 } });
      const options = { concurrency: 10, leaseDuration, recordEnds: true };
      const first = await scenario.startWorker('w1', options);
      const client = new Client({ broker: scenario.broker });
      for (let n = 0; n < 4; n += 1) {
        const payload: FaultPayload = { n, ms: 60_000, enqueuedAt: Date.now() };
        const info = await client.enqueue('fault', payload, { queue, flowKey: 'acme', maxRetry: 25 });
        await scenario.ledger.recordAck(queue, info.id);
      }
      // w1 takes the key's two slots; the other two tasks wait aside for them.
      await waitUntil(async () => (await allRuns(scenario)).length === 2, "w1 to hold the key's two slots");
      await scenario.startWorker('w2', options);
      const killedAt = Date.now();
      await scenario.killWorker('w1');
      await waitUntil(
        async () => (await allRuns(scenario)).filter((run) => run.worker === 'w2').length === 2,
        "w2 to take the key's two slots",
        recoveryBound + timingAllowanceMs + 5000,
      );
      const w2Runs = (await allRuns(scenario)).filter((run) => run.worker === 'w2');
      const returnedAfter = Math.max(...w2Runs.map((run) => run.at)) - killedAt;
      const runs = await intervals(scenario, (pid) => (pid === first.pid ? killedAt : Date.now()));
      reportFigures('F1 key kill', {
        slotsReturnedAfterMs: returnedAfter,
        boundMs: recoveryBound,
        mostAtOnce: mostAtOnce(runs),
      });
      expect(returnedAfter).toBeLessThan(recoveryBound + timingAllowanceMs);
      expect(mostAtOnce(runs)).toBe(2);
      const state = await scenario.broker.flowState(queue);
      expect(state.perKey?.keys).toEqual([{ key: 'acme', parked: 2, running: 2, startedInWindow: 0 }]);
    },
    timeLimit(40_000),
  );

  it(
    'a limit changed at run time takes effect within a second on every server',
    async () => {
      const queue = 'f1-change';
      // Concurrency 2 each: six at once needs every one of the three servers.
      const scenario = await scenarioWithWorkers(queue, 3, 2);
      await scenario.broker.setFlowLimits(queue, { concurrency: 1 });
      await enqueue(scenario, queue, 12, 4000);
      await waitUntil(async () => (await allRuns(scenario)).length === 1, 'the first task');
      const raisedAt = Date.now();
      await scenario.broker.setFlowLimits(queue, { concurrency: 6 });
      await waitUntil(async () => (await allRuns(scenario)).length === 6, 'six tasks at once', 10_000);
      const runs = await allRuns(scenario);
      const tookMs = Math.max(...runs.map((run) => run.at)) - raisedAt;
      const workers = new Set(runs.map((run) => run.worker));
      reportFigures('F1 change', { raisedTo: 6, tookMs, workers: workers.size });
      expect(tookMs).toBeLessThan(1000 + timingAllowanceMs);
      expect(workers.size).toBe(3);
      // Lowered back: nothing new starts while six run.
      await scenario.broker.setFlowLimits(queue, { concurrency: 2 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await allRuns(scenario)).toHaveLength(6);
    },
    timeLimit(30_000),
  );
});

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
