/**
 * `ServerState` and `WorkerState` to and from Asynq's `ServerInfo` and `WorkerInfo` messages. @q's
 * lifecycle details travel in ServerInfo field 1000, which Go's decoder skips as an unknown field.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { ServerLifecycle, ServerState, WorkerState } from '@q/core';
import {
  QServerLifecycleSchema,
  ServerInfoSchema,
  WorkerInfoSchema,
  type QServerLifecycle,
} from './gen/asynq_pb';
import { fromTimestamp, toTimestamp } from './protobuf-time';

function encodeLifecycle(lifecycle: ServerLifecycle): QServerLifecycle {
  const encoded = create(QServerLifecycleSchema, {
    state: lifecycle.state,
    stateSince: toTimestamp(lifecycle.stateSince),
    lastSignal: lifecycle.lastSignal ?? '',
    overdueTaskIds: lifecycle.overdueTaskIds ?? [],
    version: lifecycle.version ?? '',
  });
  if (lifecycle.lastSignalAt !== undefined) encoded.lastSignalAt = toTimestamp(lifecycle.lastSignalAt);
  if (lifecycle.lastFetchAt !== undefined) encoded.lastFetchAt = toTimestamp(lifecycle.lastFetchAt);
  if (lifecycle.brokerReachable !== undefined) encoded.brokerReachable = lifecycle.brokerReachable;
  return encoded;
}

function decodeLifecycle(lifecycle: QServerLifecycle): ServerLifecycle {
  const decoded: ServerLifecycle = {
    state: lifecycle.state,
    stateSince: fromTimestamp(lifecycle.stateSince),
  };
  if (lifecycle.lastSignal) decoded.lastSignal = lifecycle.lastSignal;
  if (lifecycle.lastSignalAt) decoded.lastSignalAt = fromTimestamp(lifecycle.lastSignalAt);
  if (lifecycle.lastFetchAt) decoded.lastFetchAt = fromTimestamp(lifecycle.lastFetchAt);
  if (lifecycle.overdueTaskIds.length > 0) decoded.overdueTaskIds = [...lifecycle.overdueTaskIds];
  if (lifecycle.brokerReachable !== undefined) decoded.brokerReachable = lifecycle.brokerReachable;
  if (lifecycle.version) decoded.version = lifecycle.version;
  return decoded;
}

export function encodeServerInfo(server: ServerState): Uint8Array {
  const info = create(ServerInfoSchema, {
    host: server.host,
    pid: server.pid,
    serverId: server.serverId,
    concurrency: server.concurrency,
    queues: server.queues,
    strictPriority: server.strictPriority,
    status: server.status,
    startTime: toTimestamp(server.startedAt),
    activeWorkerCount: server.activeWorkerCount,
  });
  if (server.lifecycle) info.qLifecycle = encodeLifecycle(server.lifecycle);
  return toBinary(ServerInfoSchema, info);
}

/** Throws when the bytes are not a ServerInfo. */
export function decodeServerInfo(bytes: Uint8Array): ServerState {
  const info = fromBinary(ServerInfoSchema, bytes);
  const server: ServerState = {
    host: info.host,
    pid: info.pid,
    serverId: info.serverId,
    concurrency: info.concurrency,
    queues: { ...info.queues },
    strictPriority: info.strictPriority,
    status: info.status,
    startedAt: fromTimestamp(info.startTime),
    activeWorkerCount: info.activeWorkerCount,
  };
  if (info.qLifecycle) server.lifecycle = decodeLifecycle(info.qLifecycle);
  return server;
}

export function encodeWorkerInfo(worker: WorkerState): Uint8Array {
  return toBinary(
    WorkerInfoSchema,
    create(WorkerInfoSchema, {
      host: worker.host,
      pid: worker.pid,
      serverId: worker.serverId,
      taskId: worker.taskId,
      taskType: worker.taskType,
      taskPayload: worker.payload,
      queue: worker.queue,
      startTime: toTimestamp(worker.startedAt),
      deadline: toTimestamp(worker.deadline),
    }),
  );
}

/** Throws when the bytes are not a WorkerInfo. */
export function decodeWorkerInfo(bytes: Uint8Array): WorkerState {
  const info = fromBinary(WorkerInfoSchema, bytes);
  return {
    host: info.host,
    pid: info.pid,
    serverId: info.serverId,
    taskId: info.taskId,
    taskType: info.taskType,
    payload: new Uint8Array(info.taskPayload),
    queue: info.queue,
    startedAt: fromTimestamp(info.startTime),
    deadline: fromTimestamp(info.deadline),
  };
}
