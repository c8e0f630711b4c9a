/**
 * Test helpers: a broker and a plain ioredis connection on the throwaway redis-server of the global setup,
 * each test under its own key prefix, plus the readers of the Asynq fixtures in `fixtures/`.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Fixture, FixtureKey, FixtureValue } from '../../../test/asynq-fixtures';
import { inject } from 'vitest';
import { type TaskMessage } from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';
import { createRedisBroker } from '../src/create-redis-broker';
import type { RedisBroker } from '../src/redis-broker';
import type { RedisBrokerOptions } from '../src/redis-broker-options';

export interface TestContext {
  broker: RedisBroker;
  /** A separate connection for looking at (and tampering with) what the broker wrote. */
  redis: Redis;
  prefix: string;
  close(): Promise<void>;
}

export function uniquePrefix(): string {
  return `qtest-${randomUUID().slice(0, 8)}`;
}

export function redisUrl(): string {
  return inject('redisUrl');
}

export function createTestContext(options: Partial<RedisBrokerOptions> = {}): TestContext {
  const prefix = options.prefix ?? uniquePrefix();
  const broker = createRedisBroker({ url: redisUrl(), ...options, prefix });
  // The admin user under Q_TEST_ACL=1: tests tamper with what the broker wrote (KEYS, RESTORE, DEBUG).
  const redis = new Redis(inject('redisAdminUrl'));
  return {
    broker,
    redis,
    prefix,
    async close() {
      await broker.close();
      await redis.quit();
    },
  };
}

export function taskMessage(overrides: Partial<TaskMessage> = {}): TaskMessage {
  return {
    ...emptyTaskMessage(),
    id: randomUUID(),
    type: 'email:send',
    payload: new TextEncoder().encode('{"to":"a@example.com"}'),
    queue: 'default',
    maxRetry: 25,
    timeoutSeconds: 1800,
    ...overrides,
  };
}

export { fixtureBytes, readFixture } from '../../../test/asynq-fixtures';
export type { Fixture, FixtureKey, FixtureValue } from '../../../test/asynq-fixtures';

/** Every key under `prefix` in the fixtures' shape (values as text or base64), with `prefix` as `asynq`. */
export async function dumpKeys(redis: Redis, prefix: string): Promise<Fixture> {
  const keys = (await redis.keys(`${prefix}:*`)).sort();
  const dump: Fixture = {};
  const value = (bytes: Buffer): FixtureValue => {
    const text = bytes.toString('utf8');
    return /^[\x20-\x7e]*$/.test(text) ? { text } : { base64: bytes.toString('base64') };
  };
  for (const key of keys) {
    const type = (await redis.type(key)) as FixtureKey['type'];
    const ttl = await redis.ttl(key);
    let content: unknown;
    if (type === 'string') content = value((await redis.getBuffer(key))!);
    else if (type === 'list') content = (await redis.lrangeBuffer(key, 0, -1)).map(value);
    else if (type === 'set') content = (await redis.smembers(key)).sort();
    else if (type === 'hash') {
      const hash = await redis.hgetallBuffer(key);
      content = Object.fromEntries(Object.entries(hash).map(([field, bytes]) => [field, value(bytes)]));
    } else {
      const flat = await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
      const members: { member: FixtureValue; score: number }[] = [];
      for (let index = 0; index < flat.length; index += 2) {
        members.push({ member: value(flat[index]!), score: Number(flat[index + 1]!.toString()) });
      }
      content = members;
    }
    dump[`asynq${key.slice(prefix.length)}`] = { type, ttl, value: content };
  }
  return dump;
}

/** A decoded protobuf message with every Timestamp's nanoseconds cut to whole milliseconds. */
export function withMillisecondTimes<Message extends object>(message: Message): Message {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return value;
    const record = value as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(record)) copy[key] = visit(field);
    if (record.$typeName === 'google.protobuf.Timestamp' && typeof record.nanos === 'number') {
      copy.nanos = record.nanos - (record.nanos % 1_000_000);
    }
    return copy;
  };
  return visit(message) as Message;
}
