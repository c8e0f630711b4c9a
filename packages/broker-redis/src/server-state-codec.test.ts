import { fromBinary } from '@bufbuild/protobuf';
import type { ServerState, WorkerState } from '@q/core';
import { describe, expect, it } from 'vitest';
import { fixtureBytes, readFixture } from '../test/redis-test-context';
import { ServerInfoSchema, WorkerInfoSchema } from './gen/asynq_pb';
import { withMillisecondTimes } from '../test/redis-test-context';
import { decodeServerInfo, decodeWorkerInfo, encodeServerInfo, encodeWorkerInfo } from './server-state-codec';

function fixtureServer(version: 'asynq-v0.24.1' | 'asynq-v0.26.0') {
  const fixture = readFixture(version, '06-active-server');
  const serverKey = Object.keys(fixture).find((key) => key.startsWith('asynq:servers:{'))!;
  const workersKey = Object.keys(fixture).find((key) => key.startsWith('asynq:workers:{'))!;
  const workers = fixture[workersKey]!.value as Record<string, unknown>;
  return {
    serverKey,
    serverBytes: fixtureBytes(fixture[serverKey]!.value),
    workerBytes: fixtureBytes(workers['t-active']),
  };
}

describe('ServerInfo and WorkerInfo', () => {
  for (const version of ['asynq-v0.24.1', 'asynq-v0.26.0'] as const) {
    it(`decodes the server and worker Go Asynq ${version.slice(6)} published, and re-encodes them`, () => {
      const { serverKey, serverBytes, workerBytes } = fixtureServer(version);
      const server = decodeServerInfo(serverBytes);
      expect(server).toMatchObject({
        host: 'vm',
        concurrency: 4,
        queues: { default: 3, critical: 6, low: 1 },
        strictPriority: false,
        status: 'active',
        activeWorkerCount: 1,
      });
      expect(serverKey).toBe(`asynq:servers:{vm:${server.pid}:${server.serverId}}`);
      expect(server.startedAt).toBeGreaterThan(Date.UTC(2026, 0, 1));
      expect(server.lifecycle).toBeUndefined();

      const worker = decodeWorkerInfo(workerBytes);
      expect(worker).toMatchObject({
        host: 'vm',
        pid: server.pid,
        serverId: server.serverId,
        taskId: 't-active',
        taskType: 'slow',
        queue: 'default',
      });
      expect(new TextDecoder().decode(worker.payload)).toBe('{"n":1}');
      expect(worker.deadline).toBeGreaterThan(worker.startedAt);
      // Go's times carry nanoseconds and ours milliseconds: equal once Go's are cut to milliseconds.
      expect(withMillisecondTimes(fromBinary(WorkerInfoSchema, encodeWorkerInfo(worker)))).toEqual(
        withMillisecondTimes(fromBinary(WorkerInfoSchema, workerBytes)),
      );
      expect(withMillisecondTimes(fromBinary(ServerInfoSchema, encodeServerInfo(server)))).toEqual(
        withMillisecondTimes(fromBinary(ServerInfoSchema, serverBytes)),
      );
      expect(decodeServerInfo(encodeServerInfo(server))).toEqual(server);
    });
  }

  it('carries the @q lifecycle in field 1000, invisible to a decoder that does not know it', () => {
    const server: ServerState = {
      host: 'web-1',
      pid: 42,
      serverId: 'server-1',
      concurrency: 10,
      queues: { default: 1 },
      strictPriority: true,
      status: 'stopped',
      startedAt: 1_795_703_732_123,
      activeWorkerCount: 0,
      lifecycle: {
        state: 'draining',
        stateSince: 1_795_703_800_000,
        lastSignal: 'SIGTERM',
        lastSignalAt: 1_795_703_799_000,
        lastFetchAt: 1_795_703_799_500,
        overdueTaskIds: ['t-1'],
        brokerReachable: false,
        version: '0.1.0',
      },
    };
    const bytes = encodeServerInfo(server);
    expect(decodeServerInfo(bytes)).toEqual(server);
    // Field 1000, wire type 2: tag varint (1000 << 3 | 2) = c2 3e.
    expect(Buffer.from(bytes).toString('hex')).toContain('c23e');
    // A decoder without the field (what Go Asynq has) keeps it aside as unknown and reads the rest.
    const plain = fromBinary(ServerInfoSchema, bytes, { readUnknownFields: false });
    expect(plain.host).toBe('web-1');
    const { lifecycle, ...withoutLifecycle } = server;
    expect(lifecycle).toBeDefined();
    expect(decodeServerInfo(encodeServerInfo(withoutLifecycle))).toEqual(withoutLifecycle);
  });

  it('keeps millisecond precision of times', () => {
    const worker: WorkerState = {
      host: 'h',
      pid: 1,
      serverId: 's',
      taskId: 't',
      taskType: 'x',
      payload: new Uint8Array([1, 2]),
      queue: 'q',
      startedAt: 1_795_703_732_987,
      deadline: 1_795_705_532_001,
    };
    expect(decodeWorkerInfo(encodeWorkerInfo(worker))).toEqual(worker);
  });
});
