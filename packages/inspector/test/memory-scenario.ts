/**
 * Situations for the inspector's unit tests, built on the memory broker (which passes the conformance
 * suite) through the broker's own roles, as clients and servers would build them: tasks in each state,
 * published servers and their running tasks. The manual clock starts at `now` and stands still.
 */
import { createManualClock, createMemoryBroker, type ManualClock, type MemoryBroker } from '@q/broker-memory';
import type { ServerState, WorkerState } from '@q/core';
import { Inspector } from '../src/inspector';
import { taskMessage } from './populate-queue';

export const now = Date.UTC(2026, 10, 26, 12, 0, 0);

export interface Scenario {
  broker: MemoryBroker<ManualClock>;
  clock: ManualClock;
  inspector: Inspector;
}

export function createScenario(): Scenario {
  const clock = createManualClock({ now });
  const broker = createMemoryBroker({ clock });
  return { broker, clock, inspector: new Inspector({ broker, now: clock.now }) };
}

export interface TaskCounts {
  pending?: number;
  active?: number;
  scheduled?: number;
  retry?: number;
  archived?: number;
  completed?: number;
}

export interface TaskValues {
  type?: string;
  /** The last error of retry and archived tasks. */
  errorMessage?: string;
  /** When scheduled and retry tasks are due. @default an hour from now */
  processAt?: number;
  /** Ids to give the tasks, in the order they are made (pending first, as in `TaskCounts`). */
  ids?: string[];
}

let sequence = 0;

/** Adds tasks in each state to `queue`, through enqueue, dequeue and the outcome writes. */
export async function addTasks(
  broker: MemoryBroker,
  queue: string,
  counts: TaskCounts,
  values: TaskValues = {},
): Promise<void> {
  const ids = [...(values.ids ?? [])];
  const message = (extra: Parameters<typeof taskMessage>[2] = {}) => {
    sequence += 1;
    return taskMessage(queue, ids.shift() ?? `task-${sequence}`, {
      type: values.type ?? 'email:send',
      ...extra,
    });
  };
  const time = broker.clock.now();
  const processAt = values.processAt ?? time + 3_600_000;
  const errorMessage = values.errorMessage ?? 'smtp: connection reset';
  const taken = (counts.active ?? 0) + (counts.retry ?? 0) + (counts.archived ?? 0) + (counts.completed ?? 0);
  // Tasks that a server takes first, so that the pending ones stay pending.
  const processed = Array.from({ length: taken }, () => message({ retentionSeconds: 3600 }));
  for (const each of processed) await broker.enqueue({ message: each });
  // The dequeue takes the oldest pending tasks first: those already waiting go back to the head after.
  const waiting = (await broker.listQueues()).includes(queue)
    ? (await broker.queueStats(queue, time)).pending - processed.length
    : 0;
  const dequeued = await broker.dequeue([queue], { count: waiting + taken, leaseDuration: 3_600_000 });
  for (const { message: other } of dequeued.tasks.slice(0, waiting).reverse()) await broker.requeue(other);
  const tasks = dequeued.tasks.slice(waiting);
  let next = counts.active ?? 0;
  for (const { message: leased } of tasks.slice(next, next + (counts.retry ?? 0))) {
    await broker.retry(leased, { processAt, errorMessage, isFailure: true });
  }
  next += counts.retry ?? 0;
  for (const { message: leased } of tasks.slice(next, next + (counts.archived ?? 0))) {
    await broker.archive(leased, errorMessage);
  }
  next += counts.archived ?? 0;
  for (const { message: leased } of tasks.slice(next)) await broker.markComplete(leased, time);
  for (let index = 0; index < (counts.pending ?? 0); index += 1) await broker.enqueue({ message: message() });
  for (let index = 0; index < (counts.scheduled ?? 0); index += 1) {
    await broker.enqueue({ message: message(), processAt });
  }
}

/** Publishes a server as its heartbeat would, with its running tasks. */
export async function publishServer(
  broker: MemoryBroker,
  values: Partial<ServerState> & { serverId: string },
  workers: Partial<WorkerState>[] = [],
  ttl = 8000,
): Promise<void> {
  const time = broker.clock.now();
  const server: ServerState = {
    host: 'worker-1',
    pid: 100,
    concurrency: 4,
    queues: { default: 1 },
    strictPriority: false,
    status: 'active',
    startedAt: time - 3_600_000,
    activeWorkerCount: workers.length,
    ...values,
  };
  await broker.writeServerState(
    server,
    workers.map((worker, index) => ({
      host: server.host,
      pid: server.pid,
      serverId: server.serverId,
      taskId: `task-${index}`,
      taskType: 'email:send',
      payload: new Uint8Array(0),
      queue: 'default',
      startedAt: time - 1000,
      deadline: time + 60_000,
      ...worker,
    })),
    ttl,
  );
}
