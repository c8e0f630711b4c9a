/**
 * The checks behind `diagnose()`. Each reads the context gathered once and returns findings; none
 * throws for a problem it finds.
 */
import type { FlowState, QueueAdmin, QueueStats, StoreInfo, TaskInfo, TaskState } from '@q/core';
import { describeDuration } from './describe-duration';
import { describeFlowRate } from './queue-limits';
import type { Finding, FindingAction } from './diagnosis';
import { serverStateOf, type ServerInfo, type WorkerInfo } from './server-info';
import { similarNames } from './similar-names';

export interface ServerReading {
  info: ServerInfo;
  /** Milliseconds the store still keeps the server's state, when the broker tells. */
  remainingTtl?: number;
  /** Our clock when the servers were read. */
  readAt: number;
}

export interface DiagnosisSettings {
  sampleInterval: number;
  stalledAfter: number;
  longRunningAfter: number;
  clockSkewTolerance: number;
  failureSampleSize: number;
}

export interface DiagnosisContext {
  broker: QueueAdmin;
  now: number;
  /** The queues examined. */
  scope: string[];
  stats: Map<string, QueueStats>;
  allQueues: string[];
  servers: ServerReading[];
  /** `offset` is our clock minus the store's, in milliseconds. */
  store: { info: StoreInfo; offset: number; roundTrip: number } | undefined;
  settings: DiagnosisSettings;
  /** The queue asked about, when one was. */
  queueFilter: string | undefined;
  secondReading?: { stats: Map<string, QueueStats>; elapsed: number };
  /** Flow limits of the queues that have any (brokers with flow control). */
  flow: Map<string, FlowState>;
  listTasks(queue: string, state: TaskState, pageSize: number): Promise<TaskInfo[]>;
}

/** Asynq servers publish their state for 10 s; @q servers tell the store's remaining TTL instead. */
const asynqServerTtl = 10_000;
/**
 * @q's default lease (Go Asynq's is 30 s, recovered 30 s after it ends): a skew beyond it makes one
 * server recover tasks another is still running.
 */
const leaseDuration = 3000;
/** A shutdown that has lasted longer than this is stuck rather than in progress. */
const stuckShutdownAfter = 30_000;

const serves = (server: ServerInfo, queue: string): boolean => Object.hasOwn(server.queues, queue);
const isRunning = (server: ServerInfo): boolean => serverStateOf(server) === 'running';
const label = (server: ServerInfo): string => `${server.host}:${server.pid}`;
const busySlots = (server: ServerInfo): number =>
  Math.max(server.activeWorkerCount, server.activeWorkers.length);
const isSaturated = (server: ServerInfo): boolean =>
  server.concurrency > 0 && busySlots(server) >= server.concurrency;
const signal = (server: ServerInfo, name: 'SIGCONT' | 'SIGTERM' | 'SIGKILL'): FindingAction => ({
  kind: 'send-signal',
  signal: name,
  pid: server.pid,
  host: server.host,
  server: server.id,
});
const ago = (now: number, time: Date): string =>
  `${time.toISOString()} (${describeDuration(now - time.getTime())} ago)`;

function describeQueues(server: ServerInfo): string {
  const entries = Object.entries(server.queues).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  return entries.length > 0 ? entries.map(([name, weight]) => `${name}:${weight}`).join(', ') : '(none)';
}

function describeCounts(stats: QueueStats): string {
  const parts: string[] = [];
  if (stats.pending > 0) {
    parts.push(
      stats.latency > 0
        ? `${stats.pending} pending (oldest waiting ${describeDuration(stats.latency)})`
        : `${stats.pending} pending`,
    );
  }
  for (const state of ['active', 'scheduled', 'retry', 'aggregating'] as const) {
    if (stats[state] > 0) parts.push(`${stats[state]} ${state}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'no task waiting';
}

interface TroubledTask {
  worker: WorkerInfo;
  overdue: boolean;
}

/** Tasks past their deadline (or reported overdue by the server), and tasks running for long. */
function troubledTasks(context: DiagnosisContext, server: ServerInfo): TroubledTask[] {
  const reported = new Set(server.lifecycle?.overdueTaskIds ?? []);
  const troubled: TroubledTask[] = [];
  for (const worker of server.activeWorkers) {
    const overdue = reported.has(worker.taskId) || worker.deadline.getTime() < context.now - 1000;
    const longRunning = context.now - worker.startedAt.getTime() > context.settings.longRunningAfter;
    if (overdue || longRunning) troubled.push({ worker, overdue });
  }
  // Overdue tasks the server reports but no longer lists as workers still hold a slot.
  for (const taskId of reported) {
    if (!server.activeWorkers.some((worker) => worker.taskId === taskId)) {
      troubled.push({
        worker: {
          taskId,
          taskType: '?',
          payload: new Uint8Array(0),
          queue: '?',
          startedAt: new Date(Number.NaN),
          deadline: new Date(Number.NaN),
        },
        overdue: true,
      });
    }
  }
  return troubled;
}

function describeTask(context: DiagnosisContext, { worker, overdue }: TroubledTask): string {
  const started = worker.startedAt.getTime();
  if (Number.isNaN(started)) return `task ${worker.taskId}: overdue (reported by the server)`;
  const running = `running for ${describeDuration(context.now - started)}`;
  const deadline = worker.deadline.getTime();
  const late = overdue
    ? deadline < context.now
      ? `${describeDuration(context.now - deadline)} past its deadline`
      : 'overdue'
    : `deadline in ${describeDuration(deadline - context.now)}`;
  return `task ${worker.taskId} (${worker.taskType}, queue ${worker.queue}): ${running}, ${late}`;
}

// -----------------------------------------------------------------------------------------------------
// Servers

export function checkServers(context: DiagnosisContext): {
  findings: Finding[];
  saturatedQueues: Set<string>;
} {
  const findings: Finding[] = [];
  const relevant = context.servers
    .map((reading) => reading.info)
    .filter((server) => context.queueFilter === undefined || serves(server, context.queueFilter));

  for (const server of relevant) {
    const state = serverStateOf(server);
    if (state !== 'running') findings.push(serverNotRunning(context, server, state));
    if (server.lifecycle?.brokerReachable === false) {
      findings.push({
        code: 'server-store-unreachable',
        severity: 'error',
        server: server.id,
        summary: `Server ${label(server)} reported that it cannot reach the store.`,
        evidence: [`Published state: ${state}, brokerReachable false`],
        actions: [{ kind: 'restore-store-connection', server: server.id, host: server.host }],
        data: { server: server.id, state },
      });
    }
  }

  // All slots busy, for every running server of a queue that has tasks waiting.
  const saturatedQueues = new Set<string>();
  const reportedServers = new Set<string>();
  for (const queue of context.scope) {
    const stats = context.stats.get(queue);
    if (!stats || stats.pending === 0 || stats.paused) continue;
    const running = relevant.filter((server) => serves(server, queue) && isRunning(server));
    if (running.length === 0 || !running.every(isSaturated)) continue;
    saturatedQueues.add(queue);
    const evidence = [`${describeCounts(stats)} in queue "${queue}"`];
    const stuck: string[] = [];
    let anyOverdue = false;
    for (const server of running) {
      reportedServers.add(server.id);
      evidence.push(`Server ${label(server)}: ${busySlots(server)}/${server.concurrency} slots busy`);
      for (const task of troubledTasks(context, server)) {
        anyOverdue ||= task.overdue;
        stuck.push(task.worker.taskId);
        evidence.push(`  ${describeTask(context, task)}`);
      }
    }
    findings.push({
      code: 'workers-saturated',
      severity: anyOverdue ? 'error' : 'warning',
      queue,
      summary:
        stuck.length > 0
          ? `Every slot serving "${queue}" is taken, ${anyOverdue ? 'some by overdue tasks' : 'some by long-running tasks'}; ${stats.pending} tasks wait.`
          : `Every slot serving "${queue}" is busy; ${stats.pending} tasks wait for a free one.`,
      evidence,
      actions:
        stuck.length > 0
          ? [
              { kind: 'cancel-tasks', taskIds: stuck.slice(0, 3) },
              { kind: 'honour-abort-signal', taskIds: stuck.slice(0, 3) },
              { kind: 'add-capacity', queue },
            ]
          : [{ kind: 'add-capacity', queue }],
      data: {
        queue,
        pending: stats.pending,
        servers: running.map((server) => server.id),
        stuckTaskIds: stuck,
      },
    });
  }

  for (const server of relevant) {
    if (reportedServers.has(server.id)) continue;
    const overdue = troubledTasks(context, server).filter((task) => task.overdue);
    if (overdue.length === 0) continue;
    findings.push({
      code: 'tasks-overdue',
      severity: 'warning',
      server: server.id,
      summary: `Server ${label(server)} runs ${overdue.length} task(s) past their deadline; each still holds a slot.`,
      evidence: overdue.map((task) => describeTask(context, task)),
      actions: [
        { kind: 'honour-abort-signal', taskIds: overdue.slice(0, 3).map((task) => task.worker.taskId) },
        { kind: 'cancel-tasks', taskIds: overdue.slice(0, 3).map((task) => task.worker.taskId) },
      ],
      data: { server: server.id, taskIds: overdue.map((task) => task.worker.taskId) },
    });
  }
  return { findings, saturatedQueues };
}

function serverNotRunning(context: DiagnosisContext, server: ServerInfo, state: string): Finding {
  const { lifecycle } = server;
  const evidence: string[] = [];
  const since = lifecycle?.stateSince;
  evidence.push(
    since ? `State: ${state} since ${ago(context.now, since)}` : `Asynq status: ${server.status}`,
  );
  if (lifecycle?.lastSignal) {
    evidence.push(
      `Last signal: ${lifecycle.lastSignal}${lifecycle.lastSignalAt ? ` at ${ago(context.now, lifecycle.lastSignalAt)}` : ''}`,
    );
  } else if (!lifecycle) {
    evidence.push('A Go Asynq server: it publishes no signal details.');
  }
  evidence.push(`Queues: ${describeQueues(server)}`);
  evidence.push(`Running tasks: ${busySlots(server)}/${server.concurrency}`);
  const lasted = since ? context.now - since.getTime() : 0;
  const replacements = Object.keys(server.queues)
    .sort()
    .map((queue): FindingAction => ({ kind: 'start-server', queue }));
  let actions: FindingAction[];
  let summary: string;
  if (state === 'quiet') {
    summary = lifecycle
      ? `Server ${label(server)} is quiet: it finishes its running tasks but fetches no new ones.`
      : `Server ${label(server)} is stopped: a stopped Go Asynq server fetches no new tasks and cannot resume.`;
    actions = lifecycle
      ? [signal(server, 'SIGCONT'), signal(server, 'SIGTERM')]
      : [signal(server, 'SIGTERM'), ...replacements];
  } else if (lasted > stuckShutdownAfter) {
    summary = `Server ${label(server)} has been ${state} for ${describeDuration(lasted)}: its shutdown is stuck, waiting for tasks that ignore their abort signal.`;
    actions = [signal(server, 'SIGKILL'), ...replacements];
  } else {
    summary = `Server ${label(server)} is shutting down (${state}) and fetches no new tasks.`;
    actions = replacements;
  }
  return {
    code: 'server-not-running',
    severity: 'warning',
    server: server.id,
    summary,
    evidence,
    actions,
    data: {
      server: server.id,
      state,
      status: server.status,
      lastSignal: lifecycle?.lastSignal,
      lastSignalAt: lifecycle?.lastSignalAt?.toISOString(),
      stateSince: since?.toISOString(),
    },
  };
}

// -----------------------------------------------------------------------------------------------------
// Queues

export function checkQueueServed(context: DiagnosisContext, queue: string): Finding[] {
  const stats = context.stats.get(queue);
  if (!stats) return [];
  const waiting = stats.pending + stats.active + stats.scheduled + stats.retry + stats.aggregating;
  if (waiting === 0) return [];
  const servers = context.servers.map((reading) => reading.info);
  const serving = servers.filter((server) => serves(server, queue));
  if (serving.some(isRunning)) return [];

  const servedNames = new Set(servers.filter(isRunning).flatMap((server) => Object.keys(server.queues)));
  const similar = similarNames(queue, servedNames);
  const evidence = [`Queue "${queue}": ${describeCounts(stats)}`];
  if (servers.length === 0) {
    evidence.push('No live server at all: none has published a heartbeat recently.');
  } else if (serving.length === 0) {
    for (const server of servers)
      evidence.push(`Server ${label(server)} (${serverStateOf(server)}) serves ${describeQueues(server)}`);
  } else {
    for (const server of serving) {
      const since = server.lifecycle?.stateSince;
      evidence.push(
        `Server ${label(server)} lists "${queue}" but is ${serverStateOf(server)}${since ? ` since ${ago(context.now, since)}` : ''}`,
      );
    }
  }
  const severity = stats.pending > 0 || stats.active > 0 ? 'error' : 'warning';
  if (similar.length > 0) {
    evidence.push(`Servers listen on ${similar.map((name) => `"${name}"`).join(', ')}, not on "${queue}"`);
    return [
      {
        code: 'queue-name-mismatch',
        severity,
        queue,
        summary: `Queue "${queue}" has tasks but no server listens on it, while servers listen on ${similar.map((name) => `"${name}"`).join(' or ')}: a typo?`,
        evidence,
        actions: [{ kind: 'use-one-queue-name', queue, similar: similar[0]! }],
        data: { queue, similar, waiting, pending: stats.pending },
      },
    ];
  }
  return [
    {
      code: 'queue-unserved',
      severity,
      queue,
      summary:
        serving.length > 0
          ? `Queue "${queue}" has tasks, and the servers that list it are not fetching (${[...new Set(serving.map(serverStateOf))].join(', ')}).`
          : `No running server serves queue "${queue}": its tasks wait for nobody.`,
      evidence,
      actions: [
        ...serving
          .filter((server) => server.lifecycle && serverStateOf(server) === 'quiet')
          .map((server) => signal(server, 'SIGCONT')),
        { kind: 'start-server', queue },
      ],
      data: { queue, waiting, pending: stats.pending, servers: serving.map((server) => server.id) },
    },
  ];
}

export function checkQueuePaused(context: DiagnosisContext, queue: string): Finding[] {
  const stats = context.stats.get(queue);
  if (!stats?.paused) return [];
  return [
    {
      code: 'queue-paused',
      severity: 'warning',
      queue,
      summary: `Queue "${queue}" is paused: servers take none of its tasks.`,
      evidence: [`Queue "${queue}": ${describeCounts(stats)}`],
      actions: [{ kind: 'resume-queue', queue }],
      data: { queue, pending: stats.pending },
    },
  ];
}

/**
 * A backlog held back by the queue's own flow limits: reported as such (info: the limits work as set),
 * and not as a stalled queue.
 */
export function checkFlowLimits(context: DiagnosisContext, queue: string): Finding[] {
  const stats = context.stats.get(queue);
  const flow = context.flow.get(queue);
  if (!stats || !flow) return [];
  const { concurrency, rate } = flow.limits;
  const findings: Finding[] = [];
  const goServers = context.servers
    .map((reading) => reading.info)
    .filter((server) => serves(server, queue) && server.lifecycle === undefined);
  if (
    goServers.length > 0 &&
    (concurrency !== undefined || rate !== undefined || flow.limits.perKey !== undefined)
  ) {
    findings.push({
      code: 'flow-limits-ignored',
      severity: 'warning',
      queue,
      summary: `Queue "${queue}" has flow limits, but Go Asynq servers also serve it, and they do not obey them.`,
      evidence: goServers.map(
        (server) => `Server ${label(server)} publishes no @q lifecycle: a Go Asynq server`,
      ),
      actions: [
        {
          kind: 'serve-with-q-servers-only',
          queue,
          servers: goServers.map((server) => server.id),
        },
      ],
      data: { queue, goServers: goServers.map((server) => server.id) },
    });
  }
  if (stats.pending === 0) return findings;
  const counts = `Queue "${queue}": ${describeCounts(stats)}`;
  if (flow.pausedUntil !== undefined || (rate !== undefined && flow.startedInWindow >= rate.limit)) {
    const evidence = [counts];
    if (rate !== undefined) {
      evidence.push(
        `Rate limit ${describeFlowRate(rate)}: ${flow.startedInWindow} started in the last ${describeDuration(rate.period)}`,
      );
    }
    if (flow.pausedUntil !== undefined) {
      evidence.push(
        `A handler said "rate limited, come back later": the queue waits until ${new Date(flow.pausedUntil).toISOString()} (${describeDuration(flow.pausedUntil - flow.timestamp)} from now)`,
      );
    }
    findings.push({
      code: 'queue-rate-limited',
      severity: 'info',
      queue,
      summary: `Tasks of "${queue}" wait on the queue's rate limit, not on a stalled server.`,
      evidence,
      actions:
        rate !== undefined
          ? [
              { kind: 'change-queue-limits', queue, limit: 'rate' },
              { kind: 'clear-queue-limits', queue },
            ]
          : [
              { kind: 'none', reason: 'pause-ends-on-its-own' },
              { kind: 'clear-queue-limits', queue },
            ],
      data: {
        queue,
        pending: stats.pending,
        rate,
        startedInWindow: flow.startedInWindow,
        pausedUntil: flow.pausedUntil,
      },
    });
  }
  if (concurrency !== undefined && flow.running >= concurrency) {
    findings.push({
      code: 'queue-at-concurrency-limit',
      severity: 'info',
      queue,
      summary: `Tasks of "${queue}" wait for one of its ${concurrency} concurrency slots (${flow.running} running across all servers).`,
      evidence: [
        counts,
        `Concurrency limit ${concurrency}: ${flow.running} tasks of the queue are leased now`,
      ],
      actions: [
        { kind: 'change-queue-limits', queue, limit: 'concurrency' },
        { kind: 'clear-queue-limits', queue },
      ],
      data: { queue, pending: stats.pending, concurrency, running: flow.running },
    });
  }
  findings.push(...checkFlowKeyLimits(queue, flow, counts));
  return findings;
}

/** Tasks parked because their flow key is at its per-key limit: the same findings, per key. */
function checkFlowKeyLimits(queue: string, flow: FlowState, counts: string): Finding[] {
  const limits = flow.limits.perKey ?? {};
  const perKey = flow.perKey;
  if (!perKey || perKey.parked === 0) return [];
  const findings: Finding[] = [];
  const more = perKey.parkedKeys > perKey.keys.length ? perKey.parkedKeys - perKey.keys.length : 0;
  const parked = `${perKey.parked} tasks of ${perKey.parkedKeys} flow keys wait aside on their key's limit (counted as pending)`;
  const { concurrency, rate } = limits;
  const atConcurrency =
    concurrency === undefined ? [] : perKey.keys.filter((key) => key.running >= concurrency);
  if (concurrency !== undefined && atConcurrency.length > 0) {
    findings.push({
      code: 'queue-at-concurrency-limit',
      severity: 'info',
      queue,
      summary: `Tasks of "${queue}" wait for a slot of their flow key (${concurrency} per key): ${atConcurrency.map((key) => `"${key.key}"`).join(', ')}${more > 0 ? ` and ${more} more keys` : ''}.`,
      evidence: [
        counts,
        parked,
        ...atConcurrency.map(
          (key) =>
            `Flow key "${key.key}": ${key.running} running of ${concurrency} allowed per key, ${key.parked} waiting`,
        ),
      ],
      actions: [
        { kind: 'change-queue-limits', queue, limit: 'concurrency', perKey: true },
        { kind: 'clear-queue-limits', queue },
      ],
      data: {
        queue,
        key: atConcurrency[0]!.key,
        keys: atConcurrency.map((key) => ({ key: key.key, running: key.running, parked: key.parked })),
        perKeyConcurrency: concurrency,
        parked: perKey.parked,
      },
    });
  }
  const paused = perKey.keys.filter((key) => key.pausedUntil !== undefined);
  if (paused.length > 0) {
    findings.push({
      code: 'queue-rate-limited',
      severity: 'info',
      queue,
      summary: `Tasks of "${queue}" wait because a handler said "rate limited, come back later" for their flow key: ${paused.map((key) => `"${key.key}"`).join(', ')}.`,
      evidence: [
        counts,
        parked,
        ...paused.map(
          (key) =>
            `Flow key "${key.key}" waits until ${new Date(key.pausedUntil!).toISOString()} (${describeDuration(key.pausedUntil! - flow.timestamp)} from now), ${key.parked} waiting`,
        ),
      ],
      actions: [
        { kind: 'none', reason: 'pause-ends-on-its-own' },
        { kind: 'clear-queue-limits', queue },
      ],
      data: {
        queue,
        key: paused[0]!.key,
        keys: paused.map((key) => ({ key: key.key, pausedUntil: key.pausedUntil, parked: key.parked })),
        parked: perKey.parked,
      },
    });
  }
  const rateHeld =
    rate === undefined
      ? []
      : perKey.keys.filter((key) => key.pausedUntil === undefined && key.startedInWindow >= rate.limit);
  if (rate !== undefined && rateHeld.length > 0) {
    findings.push({
      code: 'queue-rate-limited',
      severity: 'info',
      queue,
      summary: `Tasks of "${queue}" wait on their flow key's rate limit (${describeFlowRate(rate)} per key): ${rateHeld.map((key) => `"${key.key}"`).join(', ')}.`,
      evidence: [
        counts,
        parked,
        ...rateHeld.map(
          (key) =>
            `Flow key "${key.key}": ${key.startedInWindow} started in the last ${describeDuration(rate.period)}, ${key.parked} waiting`,
        ),
      ],
      actions: [
        { kind: 'change-queue-limits', queue, limit: 'rate', perKey: true },
        { kind: 'clear-queue-limits', queue },
      ],
      data: {
        queue,
        key: rateHeld[0]!.key,
        keys: rateHeld.map((key) => ({
          key: key.key,
          startedInWindow: key.startedInWindow,
          parked: key.parked,
        })),
        perKeyRate: rate,
        parked: perKey.parked,
      },
    });
  }
  return findings;
}

export function checkBacklogStalled(context: DiagnosisContext, queue: string): Finding[] {
  const stats = context.stats.get(queue);
  if (!stats || stats.pending === 0 || stats.paused) return [];
  const running = context.servers
    .map((reading) => reading.info)
    .filter((server) => serves(server, queue) && isRunning(server));
  if (running.length === 0) return [];

  const evidence: string[] = [];
  const second = context.secondReading?.stats.get(queue);
  let stalled = false;
  if (second && context.secondReading) {
    const processed = second.processedTotal - stats.processedTotal;
    if (processed <= 0 && second.pending >= stats.pending) {
      stalled = true;
      evidence.push(
        `In ${describeDuration(context.secondReading.elapsed)} the backlog went from ${stats.pending} to ${second.pending} pending and no task was processed`,
      );
    }
  }
  if (stats.latency > context.settings.stalledAfter) {
    stalled = true;
    evidence.push(
      `The oldest pending task has waited ${describeDuration(stats.latency)} (${stats.pending} pending, ${stats.active} active)`,
    );
  }
  if (!stalled) return [];

  const starved: string[] = [];
  for (const server of running) {
    const lastFetch = server.lifecycle?.lastFetchAt;
    const fetch = lastFetch
      ? context.now - lastFetch.getTime() > context.settings.stalledAfter
        ? `its fetch loop last ran ${ago(context.now, lastFetch)}: it looks stuck`
        : `its fetch loop last ran ${describeDuration(context.now - lastFetch.getTime())} ago`
      : 'a Go Asynq server (no fetch details)';
    evidence.push(`Server ${label(server)} (${busySlots(server)}/${server.concurrency} busy): ${fetch}`);
    if (server.strictPriority) {
      const weight = server.queues[queue] ?? 0;
      const busier = Object.entries(server.queues)
        .filter(([name, other]) => other > weight && (context.stats.get(name)?.pending ?? 0) > 0)
        .map(([name]) => name);
      if (busier.length > 0) {
        starved.push(server.id);
        evidence.push(`  strict priority: it serves ${busier.join(', ')} first, and they have pending tasks`);
      }
    }
  }
  return [
    {
      code: 'backlog-stalled',
      severity: 'error',
      queue,
      summary: `Tasks pile up in "${queue}" while running servers list it, and none is being processed.`,
      evidence,
      actions: [
        { kind: 'check-server-logs', servers: running.map((server) => server.id) },
        ...(starved.length > 0
          ? [
              { kind: 'turn-off-strict-priority' as const, servers: starved },
              { kind: 'add-capacity' as const, queue },
            ]
          : []),
      ],
      data: {
        queue,
        pending: stats.pending,
        latency: stats.latency,
        servers: running.map((server) => server.id),
      },
    },
  ];
}

const handlerNotFoundPattern = /handler not found|no handler (?:registered |found )?for|unknown task type/i;

export async function checkHandlerNotFound(context: DiagnosisContext, queue: string): Promise<Finding[]> {
  const stats = context.stats.get(queue);
  if (!stats || stats.retry + stats.archived === 0) return [];
  const sample: TaskInfo[] = [];
  for (const state of ['retry', 'archived'] as const) {
    if (stats[state] > 0)
      sample.push(...(await context.listTasks(queue, state, context.settings.failureSampleSize)));
  }
  const byType = new Map<string, { count: number; error: string; states: Set<string> }>();
  for (const task of sample) {
    if (!task.lastError || !handlerNotFoundPattern.test(task.lastError)) continue;
    const entry = byType.get(task.type) ?? { count: 0, error: task.lastError, states: new Set<string>() };
    entry.count += 1;
    entry.states.add(task.state);
    byType.set(task.type, entry);
  }
  if (byType.size === 0) return [];
  const types = [...byType.keys()].sort();
  return [
    {
      code: 'handler-not-found',
      severity: 'error',
      queue,
      summary: `Tasks of type ${types.map((type) => `"${type}"`).join(', ')} in "${queue}" fail because no server has a handler for them.`,
      evidence: types.map((type) => {
        const entry = byType.get(type)!;
        return `${type}: ${entry.count} task(s) in ${[...entry.states].join(' and ')}, last error "${entry.error}"`;
      }),
      actions: [
        { kind: 'register-handler', queue, taskTypes: types },
        ...(['archived', 'retry'] as const)
          .filter((state) => stats[state] > 0)
          .map((state): FindingAction => ({ kind: 'run-all-tasks', queue, state })),
      ],
      data: { queue, types, sampled: sample.length },
    },
  ];
}

export async function checkOrphanedTasks(context: DiagnosisContext, queue: string): Promise<Finding[]> {
  const stats = context.stats.get(queue);
  if (!stats || stats.active === 0) return [];
  const active = await context.listTasks(queue, 'active', 100);
  const orphaned = active.filter((task) => task.isOrphaned);
  if (orphaned.length === 0) return [];
  const served = context.servers.some(({ info }) => serves(info, queue) && isRunning(info));
  return [
    {
      code: 'tasks-orphaned',
      severity: 'warning',
      queue,
      summary: `${orphaned.length} active task(s) in "${queue}" have an expired lease: the worker running them died.`,
      evidence: orphaned.slice(0, 10).map((task) => `task ${task.id} (${task.type})`),
      actions: served ? [{ kind: 'none', reason: 'recovers-on-its-own' }] : [{ kind: 'start-server', queue }],
      data: { queue, taskIds: orphaned.map((task) => task.id) },
    },
  ];
}

export async function checkScheduledLater(context: DiagnosisContext, queue: string): Promise<Finding[]> {
  const stats = context.stats.get(queue);
  if (!stats || stats.pending > 0 || stats.active > 0 || stats.scheduled + stats.retry === 0) return [];
  const next: TaskInfo[] = [];
  for (const state of ['scheduled', 'retry'] as const) {
    if (stats[state] > 0) next.push(...(await context.listTasks(queue, state, 1)));
  }
  const due = next
    .filter((task) => task.nextProcessAt !== undefined)
    .sort((a, b) => a.nextProcessAt!.getTime() - b.nextProcessAt!.getTime());
  const first = due[0];
  const evidence = [`Queue "${queue}": ${describeCounts(stats)}`];
  if (!first?.nextProcessAt) return [];
  const served = context.servers.some(({ info }) => serves(info, queue) && isRunning(info));
  if (!served) return []; // queue-unserved says it already.
  const wait = first.nextProcessAt.getTime() - context.now;
  const dueState = first.state === 'retry' ? 'retry' : 'scheduled';
  const late = -wait > context.settings.stalledAfter;
  evidence.push(
    `Next due: task ${first.id} (${first.type}, ${first.state}) at ${first.nextProcessAt.toISOString()} (${wait >= 0 ? `in ${describeDuration(wait)}` : `${describeDuration(-wait)} ago`})`,
  );
  return [
    late
      ? {
          code: 'tasks-scheduled-later',
          severity: 'warning',
          queue,
          summary: `Tasks in "${queue}" were due ${describeDuration(-wait)} ago and are still not pending.`,
          evidence,
          actions: [
            {
              kind: 'check-server-logs',
              servers: context.servers
                .map(({ info }) => info)
                .filter((server) => serves(server, queue) && isRunning(server))
                .map((server) => server.id),
            },
            { kind: 'run-all-tasks', queue, state: dueState },
          ],
          data: { queue, nextTaskId: first.id, nextProcessAt: first.nextProcessAt.toISOString() },
        }
      : {
          code: 'tasks-scheduled-later',
          severity: 'info',
          queue,
          summary: `Nothing in "${queue}" is due yet: ${stats.scheduled + stats.retry} task(s) wait for their time, the next in ${describeDuration(Math.max(wait, 0))}.`,
          evidence,
          actions: [
            { kind: 'none', reason: 'as-scheduled' },
            { kind: 'run-all-tasks', queue, state: dueState },
          ],
          data: { queue, nextTaskId: first.id, nextProcessAt: first.nextProcessAt.toISOString() },
        },
  ];
}

// -----------------------------------------------------------------------------------------------------
// Store and clocks

export function checkStore(context: DiagnosisContext): Finding[] {
  const store = context.store?.info;
  if (!store) return [];
  const findings: Finding[] = [];
  const policy = store.evictionPolicy;
  if (policy && policy !== 'noeviction') {
    const allKeys = policy.startsWith('allkeys');
    findings.push({
      code: 'store-evicts-keys',
      severity: allKeys ? 'error' : 'warning',
      summary: allKeys
        ? `The store evicts keys when full (policy ${policy}): tasks can vanish without a trace.`
        : `The store evicts keys that have a time to live when full (policy ${policy}): uniqueness locks and server heartbeats can vanish.`,
      evidence: [
        `Eviction policy: ${policy}`,
        `Memory limit: ${store.maxMemory ? `${store.maxMemory} bytes` : 'none'}; used: ${store.usedMemory ?? '?'} bytes`,
      ],
      actions: [{ kind: 'stop-store-eviction', policy }],
      data: { evictionPolicy: policy, maxMemory: store.maxMemory, usedMemory: store.usedMemory },
    });
  }
  if (store.maxMemory && store.usedMemory !== undefined && store.usedMemory / store.maxMemory >= 0.9) {
    const percent = Math.round((store.usedMemory / store.maxMemory) * 100);
    findings.push({
      code: 'store-memory-high',
      severity: 'warning',
      summary: `The store uses ${percent}% of its memory limit.`,
      evidence: [`Used ${store.usedMemory} of ${store.maxMemory} bytes`],
      actions: [
        { kind: 'add-store-memory' },
        { kind: 'delete-all-tasks', state: 'archived' },
        { kind: 'delete-all-tasks', state: 'completed' },
      ],
      data: { maxMemory: store.maxMemory, usedMemory: store.usedMemory },
    });
  }
  return findings;
}

export function checkClockSkew(context: DiagnosisContext): Finding[] {
  const tolerance = context.settings.clockSkewTolerance;
  const store = context.store;
  const reference = store ? 'the store' : 'this machine';
  const offsetOfOurs = store?.offset ?? 0;
  const measured: { subject: string; offset: number; exact: boolean; server?: string; host?: string }[] = [];

  if (store && Math.abs(store.offset) > tolerance + store.roundTrip / 2) {
    measured.push({ subject: 'this machine (where the inspector runs)', offset: store.offset, exact: true });
  }
  for (const reading of context.servers) {
    const server = reading.info;
    // The reference clock when the servers were read.
    const referenceNow = reading.readAt - offsetOfOurs;
    const subject = `server ${label(server)}`;
    const estimates: { offset: number; exact: boolean }[] = [];
    if (reading.remainingTtl !== undefined) {
      // expiresAt is the server's clock plus its TTL; the store counts the same TTL on its own clock.
      estimates.push({
        offset: server.expiresAt.getTime() - (referenceNow + reading.remainingTtl),
        exact: true,
      });
    } else if (!server.lifecycle) {
      // A Go Asynq server publishes its state for 10 s: an expiry further away means a clock ahead.
      estimates.push({
        offset: Math.max(0, server.expiresAt.getTime() - referenceNow - asynqServerTtl),
        exact: false,
      });
    }
    // A fetch "in the future" is a clock ahead, however the state was written.
    const lastFetch = server.lifecycle?.lastFetchAt?.getTime();
    if (lastFetch !== undefined && lastFetch > referenceNow)
      estimates.push({ offset: lastFetch - referenceNow, exact: false });
    const worst = estimates.sort((a, b) => Math.abs(b.offset) - Math.abs(a.offset))[0];
    if (worst) measured.push({ subject, ...worst, server: server.id, host: server.host });
  }
  const skewed = measured.filter((entry) => Math.abs(entry.offset) > tolerance);
  if (skewed.length === 0) return [];
  const worst = Math.max(...skewed.map((entry) => Math.abs(entry.offset)));
  return [
    {
      code: 'clock-skew',
      severity: worst > leaseDuration ? 'error' : 'warning',
      summary: `Clocks disagree by up to ${describeDuration(worst)}: ${skewed.map((entry) => entry.subject).join(', ')} ${skewed.length === 1 ? 'is' : 'are'} off from ${reference}.`,
      evidence: skewed.map(
        (entry) =>
          `${entry.subject}: ${entry.exact ? '' : 'at least '}${describeDuration(entry.offset)} ${entry.offset > 0 ? 'ahead of' : 'behind'} ${reference}`,
      ),
      actions: [
        {
          kind: 'synchronise-clocks',
          hosts: [...new Set(skewed.map((entry) => entry.host ?? 'this machine'))],
          leaseMs: leaseDuration,
        },
      ],
      data: {
        reference,
        offsets: skewed.map((entry) => ({
          subject: entry.subject,
          server: entry.server,
          offsetMs: Math.round(entry.offset),
          exact: entry.exact,
        })),
      },
    },
  ];
}
