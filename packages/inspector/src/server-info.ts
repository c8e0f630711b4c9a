import type { ServerSnapshot, WorkerState } from '@q/core';

/** A task a server is running (Asynq's `WorkerInfo`). */
export interface WorkerInfo {
  taskId: string;
  taskType: string;
  payload: Uint8Array;
  queue: string;
  startedAt: Date;
  /** When the handler's time runs out. */
  deadline: Date;
}

/** What a process published about the signals it received and its shutdown (@q servers only). */
export interface ServerLifecycleInfo {
  /** `running`, `quiet`, `draining`, `forced` or `closed`. */
  state: string;
  stateSince: Date;
  lastSignal?: string;
  lastSignalAt?: Date;
  /** The last time the server's fetch loop ran. */
  lastFetchAt?: Date;
  /** Tasks whose handler overran its timeout and has not settled: they still hold a slot. */
  overdueTaskIds: string[];
  /** Whether the server could reach the broker when it last published. */
  brokerReachable?: boolean;
  version?: string;
}

/** A live server (Asynq's `ServerInfo`), with the tasks it is running. */
export interface ServerInfo {
  /** `<host>:<pid>:<serverId>`, unique among live servers. */
  id: string;
  serverId: string;
  host: string;
  pid: number;
  concurrency: number;
  /** Queue name to priority. */
  queues: Record<string, number>;
  strictPriority: boolean;
  /** Asynq's status word: `active`, `stopped` (quiet) or `closed`. */
  status: string;
  startedAt: Date;
  /** How many slots are busy, as the server counted them at its last heartbeat. */
  activeWorkerCount: number;
  activeWorkers: WorkerInfo[];
  /** Absent for servers written by Go Asynq. */
  lifecycle?: ServerLifecycleInfo;
  /** When the published state expires unless the server refreshes it (by the server's clock). */
  expiresAt: Date;
}

function toWorkerInfo(worker: WorkerState): WorkerInfo {
  return {
    taskId: worker.taskId,
    taskType: worker.taskType,
    payload: worker.payload,
    queue: worker.queue,
    startedAt: new Date(worker.startedAt),
    deadline: new Date(worker.deadline),
  };
}

const optionalDate = (value: number | undefined): Date | undefined =>
  value === undefined || value <= 0 ? undefined : new Date(value);

export function toServerInfo(snapshot: ServerSnapshot): ServerInfo {
  const { server } = snapshot;
  const info: ServerInfo = {
    id: `${server.host}:${server.pid}:${server.serverId}`,
    serverId: server.serverId,
    host: server.host,
    pid: server.pid,
    concurrency: server.concurrency,
    queues: { ...server.queues },
    strictPriority: server.strictPriority,
    status: server.status,
    startedAt: new Date(server.startedAt),
    activeWorkerCount: server.activeWorkerCount,
    activeWorkers: snapshot.workers
      .map(toWorkerInfo)
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime()),
    expiresAt: new Date(snapshot.expiresAt),
  };
  const lifecycle = server.lifecycle;
  if (lifecycle) {
    const details: ServerLifecycleInfo = {
      state: lifecycle.state,
      stateSince: new Date(lifecycle.stateSince),
      overdueTaskIds: [...(lifecycle.overdueTaskIds ?? [])],
    };
    if (lifecycle.lastSignal) details.lastSignal = lifecycle.lastSignal;
    const lastSignalAt = optionalDate(lifecycle.lastSignalAt);
    if (lastSignalAt) details.lastSignalAt = lastSignalAt;
    const lastFetchAt = optionalDate(lifecycle.lastFetchAt);
    if (lastFetchAt) details.lastFetchAt = lastFetchAt;
    if (lifecycle.brokerReachable !== undefined) details.brokerReachable = lifecycle.brokerReachable;
    if (lifecycle.version) details.version = lifecycle.version;
    info.lifecycle = details;
  }
  return info;
}

/**
 * The server's state in @q's words: its lifecycle state when it publishes one, otherwise derived from
 * Asynq's status (`active` is running, `stopped` is quiet, `closed` is draining).
 */
export function serverStateOf(server: Pick<ServerInfo, 'status' | 'lifecycle'>): string {
  if (server.lifecycle) return server.lifecycle.state;
  if (server.status === 'active') return 'running';
  if (server.status === 'stopped') return 'quiet';
  if (server.status === 'closed') return 'draining';
  return server.status;
}
