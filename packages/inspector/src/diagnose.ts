import {
  hasFlowControl,
  QError,
  toMilliseconds,
  ValidationError,
  type Duration,
  type FlowState,
  type Logger,
  type QueueAdmin,
  type QueueStats,
  type StoreInfo,
} from '@q/core';
import { toTaskInfo } from '@q/core/internal';
import {
  checkBacklogStalled,
  checkClockSkew,
  checkFlowLimits,
  checkHandlerNotFound,
  checkOrphanedTasks,
  checkQueuePaused,
  checkQueueServed,
  checkScheduledLater,
  checkServers,
  checkStore,
  type DiagnosisContext,
  type ServerReading,
} from './diagnosis-checks';
import { compareFindings, type Diagnosis, type Finding } from './diagnosis';
import { similarNames } from './similar-names';
import { toServerInfo } from './server-info';

export interface DiagnoseOptions {
  /**
   * Read the queues a second time after this long, to see whether backlogs move. With 0, a backlog is
   * judged by how long its oldest task has waited.
   * @default 0
   */
  sampleInterval?: Duration;
  /** A pending task that waited this long while nothing runs means the queue is stuck. @default '1m' */
  stalledAfter?: Duration;
  /** A task running this long counts as long-running when slots are all busy. @default '5m' */
  longRunningAfter?: Duration;
  /** Clocks further apart than this are reported. @default '2s' */
  clockSkewTolerance?: Duration;
  /** How many retry and archived tasks per queue are read to look for missing handlers. @default 100 */
  failureSampleSize?: number;
}

export interface DiagnoseInput {
  broker: QueueAdmin;
  logger: Logger;
  now: () => number;
  queue: string | undefined;
  options: DiagnoseOptions;
}

const diagnoseOptionKeys = [
  'sampleInterval',
  'stalledAfter',
  'longRunningAfter',
  'clockSkewTolerance',
  'failureSampleSize',
];

/** Runs every check. See `Inspector.diagnose`. */
export async function diagnose(input: DiagnoseInput): Promise<Diagnosis> {
  const { broker, logger, now, queue } = input;
  const settings = readSettings(input.options);
  const checkedAt = now();
  const skipped: string[] = [];
  const findings: Finding[] = [];

  const [allQueues, servers, store] = await Promise.all([
    broker.listQueues(),
    readServers(broker, now),
    readStore(broker, now).catch((error: unknown) => {
      skipped.push(`store checks (eviction policy, memory, clocks): ${describeError(error)}`);
      logger.warn({ error }, 'diagnose: could not read store facts');
      return undefined;
    }),
  ]);
  if (!store && skipped.length === 0) {
    skipped.push('store checks (eviction policy, memory, clocks): the broker does not report store facts');
  }

  let scope = [...allQueues].sort();
  if (queue !== undefined) {
    if (!allQueues.includes(queue)) {
      findings.push(queueNotFound(queue, allQueues, servers));
      scope = [];
    } else {
      scope = [queue];
    }
  }

  const [stats, flow] = await Promise.all([readStats(broker, scope, now()), readFlow(broker, scope)]);
  const context: DiagnosisContext = {
    flow,
    broker,
    now: now(),
    scope: [...stats.keys()],
    stats,
    allQueues,
    servers,
    store,
    settings,
    queueFilter: queue,
    listTasks: async (name, state, pageSize) =>
      (await broker.listTasks(name, state, { page: 1, pageSize })).map((task) => toTaskInfo(task)),
  };

  if (settings.sampleInterval > 0) {
    const busy = context.scope.filter((name) => (stats.get(name)?.pending ?? 0) > 0);
    if (busy.length > 0) {
      const first = now();
      await new Promise((resolve) => setTimeout(resolve, settings.sampleInterval));
      context.secondReading = { stats: await readStats(broker, busy, now()), elapsed: now() - first };
    }
  }

  const serverFindings = checkServers(context);
  findings.push(...serverFindings.findings);
  for (const name of context.scope) {
    const queueFindings: Finding[] = [];
    queueFindings.push(...checkQueueServed(context, name));
    queueFindings.push(...checkQueuePaused(context, name));
    const limited = checkFlowLimits(context, name);
    queueFindings.push(...limited);
    const saturated = serverFindings.saturatedQueues.has(name);
    if (
      !queueFindings.some((finding) => finding.severity === 'error') &&
      !saturated &&
      limited.length === 0
    ) {
      queueFindings.push(...checkBacklogStalled(context, name));
    }
    queueFindings.push(...(await checkHandlerNotFound(context, name)));
    queueFindings.push(...(await checkOrphanedTasks(context, name)));
    queueFindings.push(...(await checkScheduledLater(context, name)));
    findings.push(...queueFindings);
  }
  findings.push(...checkStore(context));
  findings.push(...checkClockSkew(context));

  findings.sort(compareFindings);
  return {
    checkedAt: new Date(checkedAt),
    queues: context.scope,
    servers: servers.length,
    findings,
    skipped,
    healthy: !findings.some((finding) => finding.severity !== 'info'),
  };
}

function readSettings(options: DiagnoseOptions): DiagnosisContext['settings'] {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('diagnose(queue, options): options must be an object.');
  }
  const unknown = Object.keys(options).filter((key) => !diagnoseOptionKeys.includes(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `Unknown diagnose option ${unknown.map((key) => `"${key}"`).join(', ')}; the accepted ones are ${diagnoseOptionKeys.join(', ')}.`,
    );
  }
  const failureSampleSize = options.failureSampleSize ?? 100;
  if (!Number.isSafeInteger(failureSampleSize) || failureSampleSize < 1) {
    throw new ValidationError(
      `failureSampleSize must be a positive integer, got ${String(failureSampleSize)}.`,
    );
  }
  return {
    sampleInterval: toMilliseconds(options.sampleInterval ?? 0, 'sampleInterval'),
    stalledAfter: toMilliseconds(options.stalledAfter ?? '1m', 'stalledAfter'),
    longRunningAfter: toMilliseconds(options.longRunningAfter ?? '5m', 'longRunningAfter'),
    clockSkewTolerance: toMilliseconds(options.clockSkewTolerance ?? '2s', 'clockSkewTolerance'),
    failureSampleSize,
  };
}

async function readServers(broker: QueueAdmin, now: () => number): Promise<ServerReading[]> {
  const before = now();
  const snapshots = await broker.listServers();
  const readAt = (before + now()) / 2;
  return snapshots.map((snapshot) => {
    const reading: ServerReading = { info: toServerInfo(snapshot), readAt };
    if (snapshot.remainingTtl !== undefined) reading.remainingTtl = snapshot.remainingTtl;
    return reading;
  });
}

async function readStore(broker: QueueAdmin, now: () => number): Promise<DiagnosisContext['store']> {
  if (typeof broker.storeInfo !== 'function') return undefined;
  const before = now();
  const info: StoreInfo = await broker.storeInfo();
  const after = now();
  // The store's clock read half-way through the round trip, against ours.
  return { info, offset: (before + after) / 2 - info.time, roundTrip: after - before };
}

async function readStats(
  broker: QueueAdmin,
  queues: string[],
  now: number,
): Promise<Map<string, QueueStats>> {
  const results = await Promise.all(
    queues.map((name) =>
      broker.queueStats(name, now).catch((error: unknown) => {
        // Removed between listing and reading: nothing to diagnose.
        if (QError.is(error) && error.code === 'Q_QUEUE_NOT_FOUND') return undefined;
        throw error;
      }),
    ),
  );
  const stats = new Map<string, QueueStats>();
  results.forEach((result, index) => {
    if (result) stats.set(queues[index]!, result);
  });
  return stats;
}

/** The flow limits of the queues that have any; empty for a broker without flow control. */
async function readFlow(broker: QueueAdmin, queues: string[]): Promise<Map<string, FlowState>> {
  const flow = new Map<string, FlowState>();
  if (!hasFlowControl(broker)) return flow;
  const states = await Promise.all(queues.map((name) => broker.flowState(name)));
  for (const state of states) {
    const { concurrency, rate, perKey } = state.limits;
    if (
      concurrency !== undefined ||
      rate !== undefined ||
      perKey !== undefined ||
      (state.perKey?.parked ?? 0) > 0 ||
      state.pausedUntil !== undefined
    ) {
      flow.set(state.queue, state);
    }
  }
  return flow;
}

function queueNotFound(queue: string, allQueues: string[], servers: ServerReading[]): Finding {
  const served = servers.flatMap((server) => Object.keys(server.info.queues));
  const similar = similarNames(queue, new Set([...allQueues, ...served]));
  const servedBy = servers
    .filter((server) => Object.hasOwn(server.info.queues, queue))
    .map((server) => server.info.id);
  const evidence = [
    allQueues.length > 0
      ? `Queues in the store: ${[...allQueues].sort().join(', ')}`
      : 'The store holds no queue at all: nothing was ever enqueued here.',
  ];
  if (servedBy.length > 0) evidence.push(`Servers listening on "${queue}": ${servedBy.join(', ')}`);
  if (similar.length > 0) evidence.push(`Similar names: ${similar.join(', ')}`);
  return {
    code: 'queue-not-found',
    severity: 'error',
    queue,
    summary:
      similar.length > 0
        ? `Queue "${queue}" does not exist; did you mean ${similar.map((name) => `"${name}"`).join(' or ')}?`
        : `Queue "${queue}" does not exist: no task was ever enqueued to it.`,
    evidence,
    actions:
      similar.length > 0
        ? [{ kind: 'use-one-queue-name', queue, similar: similar[0]! }]
        : allQueues.length > 0
          ? [{ kind: 'check-queue-name', queue }]
          : [{ kind: 'check-queue-name', queue }, { kind: 'check-store-address' }],
    data: { queue, similar, servedBy },
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
