/**
 * Prometheus metrics under Asynq's names (its `x/metrics` QueueMetricsCollector), so existing dashboards
 * and alerts keep working, plus @q's server metrics. Values are read from the store at scrape time.
 */
import { QError, silentLogger, type Logger } from '@q/core';
import { Counter, Gauge, register as globalRegistry, type Registry } from 'prom-client';
import type { Inspector } from './inspector';
import type { QueueInfo } from './queue-info';
import { serverStateOf, type ServerInfo } from './server-info';

export interface QueueMetricsCollectorOptions {
  /** Where the figures come from. */
  inspector: Pick<Inspector, 'queues' | 'getQueueInfo' | 'servers'>;
  /** The registry to add the metrics to. @default prom-client's global `register` */
  registry?: Registry;
  /** Reports scrapes that failed to read the store. @default silentLogger */
  logger?: Logger;
  /**
   * One reading of the store serves every metric of a scrape; a scrape within this many milliseconds
   * of the last reading reuses it.
   * @default 1000
   */
  cacheFor?: number;
}

export interface QueueMetricsCollector {
  readonly registry: Registry;
  /** Removes the metrics from the registry. */
  unregister(): void;
}

interface Reading {
  queues: QueueInfo[];
  servers: ServerInfo[];
}

/** Task states reported by `asynq_tasks_enqueued_total`; `aggregating` is @q's addition. */
const reportedStates = [
  'active',
  'pending',
  'scheduled',
  'retry',
  'archived',
  'completed',
  'aggregating',
] as const;
const serverLabels = ['server_id', 'host', 'pid'] as const;

type Emit = (labels: Record<string, string | number>, value: number) => void;

interface MetricDefinition {
  kind: 'gauge' | 'counter';
  name: string;
  help: string;
  labelNames: readonly string[];
  fill: (emit: Emit, reading: Reading) => void;
}

const eachQueue =
  (value: (info: QueueInfo) => number) =>
  (emit: Emit, { queues }: Reading): void => {
    for (const info of queues) emit({ queue: info.queue }, value(info));
  };

const eachServer =
  (value: (server: ServerInfo) => number) =>
  (emit: Emit, { servers }: Reading): void => {
    for (const server of servers) emit(serverLabelValues(server), value(server));
  };

const metricDefinitions: MetricDefinition[] = [
  {
    kind: 'gauge',
    name: 'asynq_tasks_enqueued_total',
    help: 'Number of tasks enqueued; broken down by queue and state.',
    labelNames: ['queue', 'state'],
    fill: (emit, { queues }) => {
      for (const info of queues)
        for (const state of reportedStates) emit({ queue: info.queue, state }, info[state]);
    },
  },
  {
    kind: 'gauge',
    name: 'asynq_queue_size',
    help: 'Number of tasks in a queue',
    labelNames: ['queue'],
    fill: eachQueue((info) => info.size),
  },
  {
    kind: 'gauge',
    name: 'asynq_queue_latency_seconds',
    help: 'Number of seconds the oldest pending task is waiting in pending state to be processed.',
    labelNames: ['queue'],
    fill: eachQueue((info) => info.latency / 1000),
  },
  {
    kind: 'gauge',
    name: 'asynq_queue_memory_usage_approx_bytes',
    help: 'Number of memory used by a given queue (approximated number by sampling).',
    labelNames: ['queue'],
    fill: eachQueue((info) => info.memoryUsage),
  },
  {
    kind: 'counter',
    name: 'asynq_tasks_processed_total',
    help: 'Number of tasks processed (both succeeded and failed); broken down by queue',
    labelNames: ['queue'],
    fill: eachQueue((info) => info.processedTotal),
  },
  {
    kind: 'counter',
    name: 'asynq_tasks_failed_total',
    help: 'Number of tasks failed; broken down by queue',
    labelNames: ['queue'],
    fill: eachQueue((info) => info.failedTotal),
  },
  {
    kind: 'gauge',
    name: 'asynq_queue_paused_total',
    help: 'Number of queues paused',
    labelNames: ['queue'],
    fill: eachQueue((info) => (info.paused ? 1 : 0)),
  },
  {
    kind: 'gauge',
    name: 'q_servers',
    help: 'Number of live servers; broken down by state (running, quiet, draining, forced, closed).',
    labelNames: ['state'],
    fill: (emit, { servers }) => {
      const counts = new Map<string, number>();
      for (const server of servers)
        counts.set(serverStateOf(server), (counts.get(serverStateOf(server)) ?? 0) + 1);
      for (const [state, count] of counts) emit({ state }, count);
    },
  },
  {
    kind: 'gauge',
    name: 'q_server_info',
    help: 'A live server (always 1), with its state and Asynq status.',
    labelNames: [...serverLabels, 'state', 'status'],
    fill: (emit, { servers }) => {
      for (const server of servers) {
        emit({ ...serverLabelValues(server), state: serverStateOf(server), status: server.status }, 1);
      }
    },
  },
  {
    kind: 'gauge',
    name: 'q_server_active_workers',
    help: 'Number of tasks a server is running.',
    labelNames: serverLabels,
    fill: eachServer((server) => Math.max(server.activeWorkerCount, server.activeWorkers.length)),
  },
  {
    kind: 'gauge',
    name: 'q_server_concurrency',
    help: 'Number of tasks a server may run at once.',
    labelNames: serverLabels,
    fill: eachServer((server) => server.concurrency),
  },
  {
    kind: 'gauge',
    name: 'q_server_overdue_tasks',
    help: 'Number of tasks a server runs past their deadline (handlers that ignore their abort signal).',
    labelNames: serverLabels,
    fill: eachServer((server) => server.lifecycle?.overdueTaskIds.length ?? 0),
  },
  {
    kind: 'gauge',
    name: 'q_server_last_signal_timestamp_seconds',
    help: 'When a server last received a signal, Unix seconds; broken down by signal.',
    labelNames: [...serverLabels, 'signal'],
    fill: (emit, { servers }) => {
      for (const server of servers) {
        const { lastSignal, lastSignalAt } = server.lifecycle ?? {};
        if (lastSignal && lastSignalAt)
          emit({ ...serverLabelValues(server), signal: lastSignal }, lastSignalAt.getTime() / 1000);
      }
    },
  },
];

/** Registers the metrics and returns a handle to remove them. */
export function createQueueMetricsCollector(options: QueueMetricsCollectorOptions): QueueMetricsCollector {
  const { inspector } = options;
  const registry = options.registry ?? globalRegistry;
  const logger = options.logger ?? silentLogger;
  const cacheFor = options.cacheFor ?? 1000;
  let last: { at: number; reading: Promise<Reading | undefined> } | undefined;

  const read = (): Promise<Reading | undefined> => {
    const now = Date.now();
    if (last && now - last.at < cacheFor) return last.reading;
    const reading = readAll(inspector).catch((error: unknown) => {
      logger.warn({ error }, 'metrics: could not read queues and servers from the store');
      return undefined;
    });
    last = { at: now, reading };
    return reading;
  };

  const registers = [registry];
  const names: string[] = [];
  for (const definition of metricDefinitions) {
    const configuration = {
      name: definition.name,
      help: definition.help,
      labelNames: definition.labelNames,
      registers,
    };
    names.push(definition.name);
    if (definition.kind === 'gauge') {
      new Gauge({
        ...configuration,
        async collect() {
          const reading = await read();
          this.reset();
          if (reading) definition.fill((labels, value) => this.set(labels, value), reading);
        },
      });
    } else {
      new Counter({
        ...configuration,
        async collect() {
          const reading = await read();
          this.reset();
          if (reading) definition.fill((labels, value) => this.inc(labels, value), reading);
        },
      });
    }
  }
  names.push('q_scrape_success');
  new Gauge({
    name: 'q_scrape_success',
    help: 'Whether the last scrape could read the store (1) or not (0).',
    registers,
    async collect() {
      this.set((await read()) ? 1 : 0);
    },
  });

  return {
    registry,
    unregister() {
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

function serverLabelValues(server: ServerInfo): Record<(typeof serverLabels)[number], string> {
  return { server_id: server.serverId, host: server.host, pid: String(server.pid) };
}

async function readAll(inspector: QueueMetricsCollectorOptions['inspector']): Promise<Reading> {
  const [names, servers] = await Promise.all([inspector.queues(), inspector.servers()]);
  const infos = await Promise.all(
    names.map((name) =>
      inspector.getQueueInfo(name).catch((error: unknown) => {
        // Removed between listing and reading.
        if (QError.is(error) && error.code === 'Q_QUEUE_NOT_FOUND') return undefined;
        throw error;
      }),
    ),
  );
  return { queues: infos.filter((info): info is QueueInfo => info !== undefined), servers };
}
