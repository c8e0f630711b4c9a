/**
 * Golden tests: the eight scenarios the fixtures recorded from Go Asynq (v0.24.1 and v0.26.0), replayed
 * through this broker on a Redis of their own, must leave the same keys, types, TTLs, hash fields, list
 * orders, zset members and scores (relative to the time of the run), and msg bytes.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../../../test/redis-server';
import {
  dumpKeys,
  fixtureBytes,
  readFixture,
  type Fixture,
  type FixtureKey,
} from '../test/redis-test-context';
import { createRedisBroker } from './create-redis-broker';
import type { RedisBroker } from './redis-broker';
import { decodeSchedulerEnqueueEvent, decodeSchedulerEntry } from './scheduler-entry-codec';
import { decodeServerInfo, decodeWorkerInfo } from './server-state-codec';
import { decodeTaskMessage } from './task-message-codec';
import type { TaskMessage } from '@q/core';

const versions = ['asynq-v0.24.1', 'asynq-v0.26.0'] as const;
type Version = (typeof versions)[number];

let server: RedisServerHandle;
let nextDatabase = 0;

beforeAll(async () => {
  server = await startRedisServer({ args: ['--databases', '32'] });
});

afterAll(async () => {
  await server.stop();
});

/** A broker and a reader on an empty database of the dedicated server, with the default prefix. */
function freshDatabase(): { broker: RedisBroker; redis: Redis; close(): Promise<void> } {
  const db = nextDatabase++;
  const broker = createRedisBroker({ url: server.url, db });
  const redis = new Redis({ host: server.host, port: server.port, db });
  return {
    broker,
    redis,
    async close() {
      await broker.close();
      await redis.quit();
    },
  };
}

function hashField(entry: FixtureKey | undefined, field: string): Uint8Array {
  return fixtureBytes((entry?.value as Record<string, unknown>)[field]);
}

function fixtureMessage(fixture: Fixture, queue: string, taskId: string): TaskMessage {
  return decodeTaskMessage(hashField(fixture[`asynq:{${queue}}:t:${taskId}`], 'msg'));
}

/** The message as the client first enqueued it, before any failure was recorded. */
function asEnqueued(message: TaskMessage): TaskMessage {
  return { ...message, retried: 0, errorMessage: '', lastFailedAtUnixSeconds: 0, completedAtUnixSeconds: 0 };
}

function zsetScore(fixture: Fixture, key: string, member: string): number {
  const entries = fixture[key]!.value as { member: { text: string }; score: number }[];
  return entries.find((entry) => entry.member.text === member)!.score;
}

const datePattern = /:(processed|failed):\d{4}-\d{2}-\d{2}$/;

interface Times {
  /** The Unix second the scenario's times are measured from, in the fixture and in our run. */
  fixtureNow: number;
  ourNow: number;
}

function relativeMessage(bytes: Uint8Array, now: number): TaskMessage {
  const message = decodeTaskMessage(bytes);
  const relative = (seconds: number): number => (seconds === 0 ? 0 : seconds - now);
  return {
    ...message,
    lastFailedAtUnixSeconds: relative(message.lastFailedAtUnixSeconds),
    completedAtUnixSeconds: relative(message.completedAtUnixSeconds),
  };
}

interface Leniency {
  /** Zsets whose scores are not compared (times the scenario cannot reproduce). */
  looseScores?: string[];
  /** Zsets whose members are compared by the caller (members holding times). */
  looseMembers?: string[];
}

function expectSameLayout(ours: Fixture, theirs: Fixture, times: Times, leniency: Leniency = {}): void {
  const normalize = (key: string): string => key.replace(datePattern, ':$1:<date>');
  const ourKeys = new Map(Object.entries(ours).map(([key, value]) => [normalize(key), value]));
  const theirKeys = new Map(Object.entries(theirs).map(([key, value]) => [normalize(key), value]));
  expect([...ourKeys.keys()].sort()).toEqual([...theirKeys.keys()].sort());
  for (const [key, their] of theirKeys) {
    const our = ourKeys.get(key)!;
    expect(our.type, key).toBe(their.type);
    if (their.ttl === -1) expect(our.ttl, `${key} ttl`).toBe(-1);
    else
      expect(Math.abs(our.ttl - their.ttl), `${key} ttl ${our.ttl} vs ${their.ttl}`).toBeLessThanOrEqual(25);
    if (their.type === 'hash') {
      const ourHash = our.value as Record<string, unknown>;
      const theirHash = their.value as Record<string, unknown>;
      // `lease_owner` is @q's lease token on an active task (fencing), an extension Go Asynq ignores.
      const ourFields = Object.keys(ourHash).filter((field) => field !== 'lease_owner');
      expect(ourFields.sort(), `${key} fields`).toEqual(Object.keys(theirHash).sort());
      for (const field of Object.keys(theirHash)) {
        const ourValue = fixtureBytes(ourHash[field]);
        const theirValue = fixtureBytes(theirHash[field]);
        if (field === 'pending_since') {
          expect(new TextDecoder().decode(ourValue)).toMatch(/^\d{19}$/);
        } else if (field === 'msg' && key.includes(':t:')) {
          expect(relativeMessage(ourValue, times.ourNow), `${key} msg`).toEqual(
            relativeMessage(theirValue, times.fixtureNow),
          );
        } else if (key.includes(':workers:')) {
          const ourWorker = decodeWorkerInfo(ourValue);
          const theirWorker = decodeWorkerInfo(theirValue);
          expect({ ...ourWorker, startedAt: 0, deadline: 0 }).toEqual({
            ...theirWorker,
            startedAt: 0,
            deadline: 0,
          });
        } else {
          expect(Buffer.from(ourValue).toString('base64'), `${key}.${field}`).toBe(
            Buffer.from(theirValue).toString('base64'),
          );
        }
      }
    } else if (their.type === 'zset') {
      const ourEntries = our.value as { member: unknown; score: number }[];
      const theirEntries = their.value as { member: unknown; score: number }[];
      expect(ourEntries, `${key} size`).toHaveLength(theirEntries.length);
      if (!leniency.looseMembers?.includes(key)) {
        expect(
          ourEntries.map((entry) => entry.member),
          `${key} members`,
        ).toEqual(theirEntries.map((entry) => entry.member));
      }
      if (leniency.looseScores?.includes(key)) continue;
      theirEntries.forEach((entry, index) => {
        const ourOffset = ourEntries[index]!.score - times.ourNow;
        const theirOffset = entry.score - times.fixtureNow;
        expect(
          Math.abs(ourOffset - theirOffset),
          `${key} score offset ${ourOffset} vs ${theirOffset}`,
        ).toBeLessThanOrEqual(2);
      });
    } else if (their.type === 'string' && key.includes(':servers:')) {
      const ourServer = decodeServerInfo(fixtureBytes(our.value));
      expect(ourServer).toEqual(decodeServerInfo(fixtureBytes(their.value)));
    } else {
      expect(our.value, key).toEqual(their.value);
    }
  }
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe.each(versions)('the Redis layout matches what Go Asynq %s wrote', (version: Version) => {
  it('01: pending tasks with options, a deadline and defaults', async () => {
    const fixture = readFixture(version, '01-pending');
    const { broker, redis, close } = freshDatabase();
    try {
      const ourNow = nowSeconds();
      for (const id of ['t-pending', 't-deadline', 't-defaults']) {
        await broker.enqueue({ message: fixtureMessage(fixture, 'default', id) });
      }
      expectSameLayout(await dumpKeys(redis, 'asynq'), fixture, { fixtureNow: 0, ourNow });
      // Byte for byte: the stored msg is the one Go stored.
      expect(await redis.hgetBuffer('asynq:{default}:t:t-pending', 'msg')).toEqual(
        Buffer.from(hashField(fixture['asynq:{default}:t:t-pending'], 'msg')),
      );
    } finally {
      await close();
    }
  });

  it('02: a scheduled task, a unique task and a unique scheduled task', async () => {
    const fixture = readFixture(version, '02-scheduled-unique');
    const { broker, redis, close } = freshDatabase();
    try {
      const now = Date.now();
      await broker.enqueue({
        message: fixtureMessage(fixture, 'critical', 't-scheduled'),
        processAt: now + 3_600_000,
      });
      await broker.enqueue({
        message: fixtureMessage(fixture, 'critical', 't-unique'),
        uniqueTtl: 3_600_000,
      });
      await broker.enqueue({
        message: fixtureMessage(fixture, 'critical', 't-unique-later'),
        processAt: now + 600_000,
        uniqueTtl: 3_600_000,
      });
      const fixtureNow = zsetScore(fixture, 'asynq:{critical}:scheduled', 't-unique-later') - 600;
      expectSameLayout(await dumpKeys(redis, 'asynq'), fixture, {
        fixtureNow,
        ourNow: Math.floor(now / 1000),
      });
      for (const id of ['t-unique', 't-unique-later']) {
        expect(await redis.hgetBuffer(`asynq:{critical}:t:${id}`, 'msg')).toEqual(
          Buffer.from(hashField(fixture[`asynq:{critical}:t:${id}`], 'msg')),
        );
      }
    } finally {
      await close();
    }
  });

  it('03: aggregating tasks of a group', async () => {
    const fixture = readFixture(version, '03-group');
    const { broker, redis, close } = freshDatabase();
    try {
      const ourNow = nowSeconds();
      for (const id of ['t-group-1', 't-group-2']) {
        await broker.enqueue({ message: fixtureMessage(fixture, 'low', id) });
      }
      const fixtureNow = zsetScore(fixture, 'asynq:{low}:g:user42', 't-group-1');
      expectSameLayout(await dumpKeys(redis, 'asynq'), fixture, { fixtureNow, ourNow });
    } finally {
      await close();
    }
  });

  it('04: a task that failed once and waits to be retried', async () => {
    const fixture = readFixture(version, '04-retry');
    const { broker, redis, close } = freshDatabase();
    try {
      const failed = fixtureMessage(fixture, 'default', 't-retry');
      await broker.enqueue({ message: asEnqueued(failed) });
      const now = Date.now();
      const { tasks } = await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
      await broker.retry(tasks[0]!.message, {
        processAt: now + 3_600_000,
        errorMessage: failed.errorMessage,
        isFailure: true,
      });
      const fixtureNow = zsetScore(fixture, 'asynq:{default}:retry', 't-retry') - 3600;
      expectSameLayout(await dumpKeys(redis, 'asynq'), fixture, {
        fixtureNow,
        ourNow: Math.floor(now / 1000),
      });
    } finally {
      await close();
    }
  });

  it('05: an archived task and a failed task with retention', async () => {
    const fixture = readFixture(version, '05-archived-completed');
    const { broker, redis, close } = freshDatabase();
    try {
      const archived = fixtureMessage(fixture, 'default', 't-archived');
      const kept = fixtureMessage(fixture, 'default', 't-completed');
      await broker.enqueue({ message: asEnqueued(archived) });
      await broker.enqueue({ message: asEnqueued(kept) });
      const now = Date.now();
      const fixtureNow = zsetScore(fixture, 'asynq:{default}:archived', 't-archived');
      // Go's default retry delay is random; replay the one it drew.
      const retryDelay = zsetScore(fixture, 'asynq:{default}:retry', 't-completed') - fixtureNow;
      const { tasks } = await broker.dequeue(['default'], { count: 2, leaseDuration: 30_000 });
      expect(tasks.map((task) => task.message.id)).toEqual(['t-archived', 't-completed']);
      await broker.archive(tasks[0]!.message, archived.errorMessage);
      await broker.retry(tasks[1]!.message, {
        processAt: now + retryDelay * 1000,
        errorMessage: kept.errorMessage,
        isFailure: true,
      });
      expectSameLayout(await dumpKeys(redis, 'asynq'), fixture, {
        fixtureNow,
        ourNow: Math.floor(now / 1000),
      });
    } finally {
      await close();
    }
  });

  it('06: an active task and the server running it', async () => {
    const fixture = readFixture(version, '06-active-server');
    const { broker, redis, close } = freshDatabase();
    try {
      const serverKey = Object.keys(fixture).find((key) => key.startsWith('asynq:servers:{'))!;
      const workersKey = serverKey.replace('asynq:servers:', 'asynq:workers:');
      const serverState = decodeServerInfo(fixtureBytes(fixture[serverKey]!.value));
      const workerState = decodeWorkerInfo(hashField(fixture[workersKey], 't-active'));
      await broker.enqueue({ message: fixtureMessage(fixture, 'default', 't-active') });
      const now = Date.now();
      await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
      await broker.writeServerState(serverState, [workerState], 10_000);
      const fixtureNow = zsetScore(fixture, 'asynq:{default}:lease', 't-active') - 30;
      expectSameLayout(await dumpKeys(redis, 'asynq'), fixture, {
        fixtureNow,
        ourNow: Math.floor(now / 1000),
      });
    } finally {
      await close();
    }
  });

  it('07: the active task requeued by a server that shut down', async () => {
    const fixture = readFixture(version, '07-after-shutdown-requeued');
    const { broker, redis, close } = freshDatabase();
    try {
      const server = { host: 'vm', pid: 1, serverId: randomUUID() };
      await broker.enqueue({ message: fixtureMessage(fixture, 'default', 't-active') });
      const { tasks } = await broker.dequeue(['default'], { count: 1, leaseDuration: 30_000 });
      await broker.writeServerState(
        {
          ...server,
          concurrency: 1,
          queues: { default: 1 },
          strictPriority: false,
          status: 'closed',
          startedAt: Date.now(),
          activeWorkerCount: 1,
        },
        [],
        10_000,
      );
      await broker.requeue(tasks[0]!.message);
      await broker.clearServerState(server);
      expectSameLayout(await dumpKeys(redis, 'asynq'), fixture, { fixtureNow: 0, ourNow: 0 });
    } finally {
      await close();
    }
  });

  it('08: a scheduler, its entry, its history and the tasks it enqueued', async () => {
    const fixture = readFixture(version, '08-scheduler');
    const { broker, redis, close } = freshDatabase();
    try {
      const entriesKey = Object.keys(fixture).find((key) => key.startsWith('asynq:schedulers:{'))!;
      const historyKey = Object.keys(fixture).find((key) => key.startsWith('asynq:scheduler_history:'))!;
      const [host, pid, schedulerId] = entriesKey.slice(entriesKey.indexOf('{') + 1, -1).split(':');
      const entry = decodeSchedulerEntry(fixtureBytes((fixture[entriesKey]!.value as unknown[])[0]));
      const history = fixture[historyKey]!.value as { member: unknown; score: number }[];
      const fixtureNow = history[0]!.score;
      const now = Date.now();
      for (const { member, score } of history) {
        const event = decodeSchedulerEnqueueEvent(fixtureBytes(member));
        await broker.enqueue({ message: fixtureMessage(fixture, 'default', event.taskId) });
        await broker.recordSchedulerEnqueue(entry.id, {
          taskId: event.taskId,
          enqueuedAt: now + (score - fixtureNow) * 1000,
        });
      }
      const scheduler = { host: host!, pid: Number(pid), schedulerId: schedulerId! };
      await broker.writeSchedulerEntries(scheduler, [entry], version === 'asynq-v0.24.1' ? 5_000 : 20_000);
      const ours = await dumpKeys(redis, 'asynq');
      expectSameLayout(
        ours,
        fixture,
        { fixtureNow, ourNow: Math.floor(now / 1000) },
        { looseScores: ['asynq:schedulers'], looseMembers: [historyKey] },
      );
      const ourEvents = (ours[historyKey]!.value as { member: unknown }[]).map(
        (event) => decodeSchedulerEnqueueEvent(fixtureBytes(event.member)).taskId,
      );
      expect(ourEvents).toEqual(
        history.map((event) => decodeSchedulerEnqueueEvent(fixtureBytes(event.member)).taskId),
      );
    } finally {
      await close();
    }
  });
});
