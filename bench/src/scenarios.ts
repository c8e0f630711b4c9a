/**
 * The scenarios of the bench: what each measures, with which sizes, and which figure goes in the table.
 * A scenario has rows (one per size or setting); a row is one measurement per system and round, and
 * shows one or more metrics.
 */
import type { MeasurementRequest, SystemName } from './measurement';

export interface BenchSizes {
  /** Tasks enqueued one call at a time. */
  enqueueCount: number;
  enqueueInFlight: number;
  /** Tasks enqueued in batches. */
  bulkCount: number;
  bulkBatchSize: number;
  /** Pending tasks drained at concurrency 10 and 50. */
  drainCount: number;
  pickupSamples: number;
  pickupGapMs: number;
  /** Pending tasks whose memory is measured; the figure is per task. */
  memoryCount: number;
  /** Tasks in each of the three weighted queues. */
  weightedPerQueue: number;
  /** Backlog sizes drained at concurrency 50. */
  backlogSizes: number[];
  /** Tasks spread over the queues of the queue-count scenario. */
  queueScalingTotal: number;
  queueCounts: number[];
}

export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** The target for @q / BullMQ: at least this when higher is better, at most this when lower is. */
  goal?: number;
}

export interface ScenarioRow {
  id: string;
  label: string;
  request: MeasurementRequest;
  metrics: MetricSpec[];
  systems: SystemName[];
}

export interface Scenario {
  name: string;
  description: string;
  rows: ScenarioRow[];
}

const allSystems: SystemName[] = ['q', 'bullmq', 'floor'];
const throughput: MetricSpec = {
  key: 'tasksPerSecond',
  label: 'throughput',
  unit: 'tasks/s',
  better: 'higher',
  goal: 2,
};
/**
 * CPU per task of the measuring process (the worker, or the producer) and of redis-server: steadier
 * than throughput on a busy machine, and they say which side a difference comes from.
 */
const cpuCost: MetricSpec[] = [
  { key: 'nodeCpuUsecPerTask', label: 'Node CPU per task', unit: 'µs', better: 'lower' },
  { key: 'redisCpuUsecPerTask', label: 'Redis CPU per task', unit: 'µs', better: 'lower' },
];
const drainConcurrencies = [10, 50];
/** The larger payload of the memory scenario: past Redis' 64-byte listpack limit for every system. */
const largePayloadBytes = 500;
const backlogConcurrency = 50;
const queueScalingConcurrency = 50;
/** The queue concurrency limit of the `limits` row: far above the worker's 50 slots, so never reached. */
const unreachedConcurrencyLimit = 1000;

export function countLabel(count: number): string {
  if (count >= 1_000_000 && count % 1_000_000 === 0) return `${count / 1_000_000}M`;
  if (count >= 1000 && count % 1000 === 0) return `${count / 1000}k`;
  return String(count);
}

function drainRequest(
  queueCount: number,
  perQueue: number,
  concurrency: number,
  concurrencyLimit?: number,
): MeasurementRequest {
  const queues: Record<string, number> = {};
  for (let index = 0; index < queueCount; index++) {
    queues[queueCount === 1 ? 'default' : `queue-${index}`] = 1;
  }
  return concurrencyLimit === undefined
    ? { kind: 'drain', queues, perQueue, concurrency }
    : { kind: 'drain', queues, perQueue, concurrency, concurrencyLimit };
}

export function buildScenarios(sizes: BenchSizes): Scenario[] {
  return [
    {
      name: 'enqueue',
      description: `Enqueue ${sizes.enqueueCount} tasks with one call per task (Client.enqueue, Queue.add), ${sizes.enqueueInFlight} calls in flight.`,
      rows: [
        {
          id: 'enqueue-each',
          label: `enqueue one at a time, ${sizes.enqueueInFlight} in flight`,
          request: { kind: 'enqueue-each', count: sizes.enqueueCount, inFlight: sizes.enqueueInFlight },
          metrics: [throughput, ...cpuCost],
          systems: allSystems,
        },
      ],
    },
    {
      name: 'bulk',
      description: `Enqueue ${sizes.bulkCount} tasks in batches of ${sizes.bulkBatchSize} (Client.enqueueMany, Queue.addBulk), one batch at a time.`,
      rows: [
        {
          id: 'enqueue-bulk',
          label: `bulk enqueue, batches of ${sizes.bulkBatchSize}`,
          request: { kind: 'enqueue-bulk', count: sizes.bulkCount, batchSize: sizes.bulkBatchSize },
          // The engine's target for batches: three times BullMQ's addBulk.
          metrics: [{ ...throughput, goal: 3 }, ...cpuCost],
          systems: allSystems,
        },
      ],
    },
    {
      name: 'drain',
      description: `Drain ${sizes.drainCount} pending no-op tasks with one worker process at concurrency ${drainConcurrencies.join(' and ')}, timed from worker start until the last task is acknowledged.`,
      rows: drainConcurrencies.map((concurrency) => ({
        id: `drain-c${concurrency}`,
        label: `drain ${countLabel(sizes.drainCount)}, concurrency ${concurrency}`,
        request: drainRequest(1, sizes.drainCount, concurrency),
        metrics: [throughput, ...cpuCost],
        systems: allSystems,
      })),
    },
    {
      name: 'pickup',
      description: `On an idle worker (concurrency 10), enqueue one task at a time, ${sizes.pickupGapMs} ms apart, and time from the enqueue call to the handler's start; ${sizes.pickupSamples} samples per round after a warm-up.`,
      rows: [
        {
          id: 'pickup',
          label: 'pickup latency, idle worker',
          request: {
            kind: 'pickup',
            samples: sizes.pickupSamples,
            gapMs: sizes.pickupGapMs,
            concurrency: 10,
          },
          metrics: [
            { key: 'p50Ms', label: 'p50', unit: 'ms', better: 'lower' },
            { key: 'p99Ms', label: 'p99', unit: 'ms', better: 'lower', goal: 1 },
          ],
          systems: allSystems,
        },
      ],
    },
    {
      name: 'memory',
      description: `Redis used_memory grown by ${sizes.memoryCount} pending tasks (enqueued in batches), divided by their number; with the small payload and with a ${largePayloadBytes}-byte one.`,
      rows: [0, largePayloadBytes].map((payloadBytes) => ({
        id: payloadBytes === 0 ? 'memory' : `memory-${payloadBytes}b`,
        label: `Redis memory, ${countLabel(sizes.memoryCount)} pending, ${payloadBytes === 0 ? '60' : payloadBytes}-byte payload`,
        request: { kind: 'memory', count: sizes.memoryCount, payloadBytes },
        metrics: [{ key: 'bytesPerTask', label: 'per task', unit: 'bytes', better: 'lower', goal: 1 }],
        systems: allSystems,
      })),
    },
    {
      name: 'weighted',
      description: `Drain three queues of ${sizes.weightedPerQueue} tasks each, weighted 6/3/1, at concurrency 10 (BullMQ: a worker per queue with concurrency 6, 3 and 1).`,
      rows: [
        {
          id: 'weighted',
          label: `drain 3 queues weighted 6/3/1, ${countLabel(3 * sizes.weightedPerQueue)}`,
          request: {
            kind: 'drain',
            queues: { critical: 6, default: 3, low: 1 },
            perQueue: sizes.weightedPerQueue,
            concurrency: 10,
          },
          metrics: [throughput],
          systems: ['q', 'bullmq'],
        },
      ],
    },
    {
      name: 'limits',
      description: `The cost of checking flow limits: drain ${sizes.drainCount} pending tasks at concurrency ${backlogConcurrency} with a queue concurrency limit of ${unreachedConcurrencyLimit} held in Redis (never reached); compare with the drain row at concurrency ${backlogConcurrency}, which has no limit. BullMQ: setGlobalConcurrency(${unreachedConcurrencyLimit}).`,
      rows: [
        {
          id: `limits-c${backlogConcurrency}`,
          label: `drain ${countLabel(sizes.drainCount)}, concurrency ${backlogConcurrency}, queue limit ${unreachedConcurrencyLimit} (unreached)`,
          request: drainRequest(1, sizes.drainCount, backlogConcurrency, unreachedConcurrencyLimit),
          metrics: [throughput, ...cpuCost],
          systems: ['q', 'bullmq'],
        },
      ],
    },
    {
      name: 'backlog',
      description: `Drain a backlog of ${sizes.backlogSizes.map(countLabel).join(', ')} pending tasks at concurrency ${backlogConcurrency}: does throughput hold as the backlog grows?`,
      rows: sizes.backlogSizes.map((size) => ({
        id: `backlog-${countLabel(size)}`,
        label: `drain backlog of ${countLabel(size)}, concurrency ${backlogConcurrency}`,
        request: drainRequest(1, size, backlogConcurrency),
        metrics: [throughput],
        systems: allSystems,
      })),
    },
    {
      name: 'queues',
      description: `Drain ${sizes.queueScalingTotal} tasks spread evenly over ${sizes.queueCounts.join(', ')} queues at total concurrency ${queueScalingConcurrency} (BullMQ: a worker per queue, the concurrency split among them).`,
      rows: sizes.queueCounts.map((queueCount) => ({
        id: `queues-${queueCount}`,
        label: `drain ${countLabel(sizes.queueScalingTotal)} over ${queueCount} queue${queueCount === 1 ? '' : 's'}, concurrency ${queueScalingConcurrency}`,
        request: drainRequest(
          queueCount,
          Math.ceil(sizes.queueScalingTotal / queueCount),
          queueScalingConcurrency,
        ),
        metrics: [throughput],
        systems: allSystems,
      })),
    },
  ];
}

export const scenarioNames = [
  'enqueue',
  'bulk',
  'drain',
  'pickup',
  'memory',
  'weighted',
  'limits',
  'backlog',
  'queues',
] as const;
