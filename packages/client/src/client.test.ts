import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import {
  BatchAbortedError,
  BrokerOutOfMemoryError,
  BrokerUnavailableError,
  defineTask,
  DuplicateTaskError,
  PayloadEncodingError,
  type QError,
  queueNameRule,
  TaskIdConflictError,
  ValidationError,
  type Broker,
} from '@q/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { startRedisServer } from '../../../test/redis-server';
import { Client } from './client';
import type { EnqueueInterceptor, OutgoingTask } from './enqueue-interceptor';

const url = inject('redisUrl');
const prefix = `client-test-${randomUUID().slice(0, 8)}`;
let broker: Broker;
let client: Client;
let redis: Redis;

beforeAll(() => {
  broker = createRedisBroker({ url, prefix });
  client = new Client({ broker });
  // Looks at and tampers with what the client wrote: the admin user (KEYS, SCRIPT FLUSH) under Q_TEST_ACL=1.
  redis = new Redis(inject('redisAdminUrl'));
});

afterAll(async () => {
  await broker.close();
  redis.disconnect();
});

const uniqueQueue = (): string => `q-${randomUUID().slice(0, 8)}`;
const keysOf = async (queue: string): Promise<string[]> =>
  (await redis.keys(`${prefix}:{${queue}}:*`)).sort();
const decode = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('Client.enqueue', () => {
  it("applies Asynq's defaults", async () => {
    const before = Date.now();
    const info = await client.enqueue('email:send', { to: 'a@example.com' });
    expect(info).toMatchObject({
      queue: 'default',
      type: 'email:send',
      state: 'pending',
      maxRetry: 25,
      retried: 0,
      timeout: 30 * 60 * 1000,
      retention: 0,
      isOrphaned: false,
    });
    expect(info.deadline).toBeUndefined();
    expect(decode(info.payload)).toEqual({ to: 'a@example.com' });
    expect(info.nextProcessAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(info.id).toMatch(/^[0-9a-f-]{36}$/);
    const stored = await broker.getTask('default', info.id);
    expect(stored.state).toBe('pending');
    expect(stored.message.timeoutSeconds).toBe(1800);
  });

  it('stores every option with the wire units', async () => {
    const queue = uniqueQueue();
    const deadline = new Date(Date.now() + 3_600_000);
    const info = await client.enqueue(
      'report:build',
      { id: 7 },
      {
        queue,
        maxRetry: 5,
        timeout: '90s',
        deadline,
        taskId: 'report-7',
        retention: '2h',
        headers: { tenant: 'acme' },
      },
    );
    expect(info).toMatchObject({ id: 'report-7', queue, maxRetry: 5, timeout: 90_000, retention: 7_200_000 });
    expect(info.headers).toEqual({ tenant: 'acme' });
    const { message } = await broker.getTask(queue, 'report-7');
    expect(message).toMatchObject({
      timeoutSeconds: 90,
      deadlineUnixSeconds: Math.ceil(deadline.getTime() / 1000),
      retentionSeconds: 7200,
      maxRetry: 5,
      headers: { tenant: 'acme' },
    });
  });

  it('rounds a deadline up to the next whole second, so that it is never earlier than given', async () => {
    const queue = uniqueQueue();
    const fixed = new Client({ broker, now: () => Date.parse('2030-01-02T03:04:00.000Z') });
    const onFraction = await fixed.enqueue('x', 1, { queue, deadline: new Date('2030-01-02T03:04:06.653Z') });
    expect(onFraction.deadline).toEqual(new Date('2030-01-02T03:04:07.000Z'));
    expect((await broker.getTask(queue, onFraction.id)).message.deadlineUnixSeconds).toBe(
      Date.parse('2030-01-02T03:04:07.000Z') / 1000,
    );
    const onSecond = await fixed.enqueue('x', 2, { queue, deadline: Date.parse('2030-01-02T03:04:06.000Z') });
    expect(onSecond.deadline).toEqual(new Date('2030-01-02T03:04:06.000Z'));
  });

  it.each([
    ['1500ms', 2],
    [1999, 2],
    ['500ms', 1],
    [1, 1],
    ['2s', 2],
    [2000, 2],
    ['1m0.5s', 61],
  ] as const)('rounds the timeout %j up to %d whole seconds', async (timeout, seconds) => {
    const queue = uniqueQueue();
    const info = await client.enqueue('x', 1, { queue, timeout });
    expect(info.timeout).toBe(seconds * 1000);
    expect((await broker.getTask(queue, info.id)).message.timeoutSeconds).toBe(seconds);
  });

  it('rounds a retention up to whole seconds', async () => {
    const queue = uniqueQueue();
    const info = await client.enqueue('x', 1, { queue, retention: '1500ms' });
    expect(info.retention).toBe(2000);
    expect((await broker.getTask(queue, info.id)).message.retentionSeconds).toBe(2);
  });

  it('accepts a queue name with an inner space, as Go Asynq does', async () => {
    const queue = `bad queue ${randomUUID().slice(0, 8)}`;
    const info = await client.enqueue('x', 1, { queue });
    expect(info.queue).toBe(queue);
    expect(await redis.lrange(`${prefix}:{${queue}}:pending`, 0, -1)).toEqual([info.id]);
  });

  it('keeps no timeout when only a deadline is given', async () => {
    const queue = uniqueQueue();
    const info = await client.enqueue('x', 1, { queue, deadline: Date.now() + 60_000 });
    expect(info.timeout).toBe(0);
    expect(info.deadline).toBeInstanceOf(Date);
  });

  it('schedules future tasks and enqueues past ones at once', async () => {
    const queue = uniqueQueue();
    const later = await client.enqueue('x', 1, { queue, processIn: '10m' });
    expect(later.state).toBe('scheduled');
    expect(later.nextProcessAt!.getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    const at = await client.enqueue('x', 2, { queue, processAt: new Date(Date.now() + 60_000) });
    expect(at.state).toBe('scheduled');
    const past = await client.enqueue('x', 3, { queue, processAt: Date.now() - 60_000 });
    expect(past.state).toBe('pending');
    expect(await redis.zcard(`${prefix}:{${queue}}:scheduled`)).toBe(2);
    expect(await redis.llen(`${prefix}:{${queue}}:pending`)).toBe(1);
  });

  it('carries the flow key in the q-flow-key header and beside the task in Redis', async () => {
    const queue = uniqueQueue();
    const info = await client.enqueue('sync', { n: 1 }, { queue, flowKey: 'tenant-42' });
    expect(info.headers).toEqual({ 'q-flow-key': 'tenant-42' });
    expect(await redis.hget(`${prefix}:{${queue}}:t:${info.id}`, 'flow_key')).toBe('tenant-42');
  });

  it('puts grouped tasks in their group', async () => {
    const queue = uniqueQueue();
    const info = await client.enqueue('digest', { n: 1 }, { queue, group: 'user42' });
    expect(info.state).toBe('aggregating');
    expect(info.group).toBe('user42');
    expect(await redis.smembers(`${prefix}:{${queue}}:groups`)).toEqual(['user42']);
  });

  it('refuses a duplicate while the uniqueness lock is held', async () => {
    const queue = uniqueQueue();
    await client.enqueue('sync', { user: 1 }, { queue, unique: '1h' });
    const error = await client
      .enqueue('sync', { user: 1 }, { queue, unique: '1h' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DuplicateTaskError);
    expect((error as QError).code).toBe('Q_DUPLICATE_TASK');
    await expect(client.enqueue('sync', { user: 2 }, { queue, unique: '1h' })).resolves.toMatchObject({
      state: 'pending',
    });
    const lockKeys = (await keysOf(queue)).filter((key) => key.includes(':unique:'));
    expect(lockKeys).toHaveLength(2);
    const ttl = await redis.ttl(lockKeys[0]!);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('keeps a scheduled unique lock until process time plus the ttl', async () => {
    const queue = uniqueQueue();
    await client.enqueue('sync', 1, { queue, unique: '1h', processIn: '10m' });
    const [lockKey] = (await keysOf(queue)).filter((key) => key.includes(':unique:'));
    const ttl = await redis.ttl(lockKey!);
    expect(ttl).toBeGreaterThan(3600 + 590);
    expect(ttl).toBeLessThanOrEqual(3600 + 600);
  });

  it('refuses a task id that is already used', async () => {
    const queue = uniqueQueue();
    await client.enqueue('x', 1, { queue, taskId: 'same' });
    await expect(client.enqueue('x', 2, { queue, taskId: 'same' })).rejects.toBeInstanceOf(
      TaskIdConflictError,
    );
    await expect(client.enqueue('x', 2, { queue, taskId: 'same', processIn: '1m' })).rejects.toBeInstanceOf(
      TaskIdConflictError,
    );
  });

  it('stores Uint8Array payloads as they are', async () => {
    const queue = uniqueQueue();
    const bytes = new Uint8Array([0, 159, 255]);
    const info = await client.enqueue('blob', bytes, { queue });
    const stored = await broker.getTask(queue, info.id);
    expect(Array.from(stored.message.payload)).toEqual([0, 159, 255]);
  });

  it('validates typed tasks with their schema and applies their defaults', async () => {
    const queue = uniqueQueue();
    const sendEmail = defineTask('email:send', z.object({ to: z.email() }), { queue, maxRetry: 3 });
    const info = await client.enqueue(sendEmail, { to: 'b@example.com' });
    expect(info).toMatchObject({ queue, maxRetry: 3, type: 'email:send' });
    const overridden = await client.enqueue(sendEmail, { to: 'c@example.com' }, { maxRetry: 9 });
    expect(overridden.maxRetry).toBe(9);
    await expect(client.enqueue(sendEmail, { to: 'not-an-address' })).rejects.toThrow(/payload\.to/);
  });

  it('lets many concurrent enqueues share the connection', async () => {
    const queue = uniqueQueue();
    const infos = await Promise.all(
      Array.from({ length: 300 }, (_, index) => client.enqueue('bulk', index, { queue })),
    );
    expect(new Set(infos.map((info) => info.id)).size).toBe(300);
    expect(await redis.llen(`${prefix}:{${queue}}:pending`)).toBe(300);
  });
});

describe('Client input validation', () => {
  const queue = uniqueQueue();
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      'a blank queue',
      () => client.enqueue('x', 1, { queue: '  ' }),
      /^options\.queue " {2}" is blank: a queue name/,
    ],
    [
      'a queue with braces',
      () => client.enqueue('x', 1, { queue: 'a{b}' }),
      new RegExp(
        `^options\\.queue "a\\{b\\}" contains '\\{': ${queueNameRule.replace(/[(){}]/g, '\\$&')}\\.$`,
      ),
    ],
    [
      'a queue with a leading space',
      () => client.enqueue('x', 1, { queue: ' default' }),
      /^options\.queue " default" begins or ends with whitespace: a queue name/,
    ],
    ['a blank type', () => client.enqueue('', 1, { queue }), /type must be a non-empty string/],
    [
      'a flow key with braces',
      () => client.enqueue('x', 1, { queue, flowKey: 'tenant-{1}' }),
      /^options\.flowKey "tenant-\{1\}" contains '\{': a flow key is 1 to 256 characters/,
    ],
    [
      'a flow key with a group',
      () => client.enqueue('x', 1, { queue, flowKey: 'tenant-1', group: 'digest' }),
      /^Give options\.flowKey or options\.group, not both/,
    ],
    [
      'an unknown option',
      () => client.enqueue('x', 1, { queue, retries: 3 } as never),
      /^options\.retries is not an option; the accepted ones are queue, maxRetry, /,
    ],
    ['a negative timeout', () => client.enqueue('x', 1, { queue, timeout: -5 }), /options\.timeout/],
    [
      'a malformed duration',
      () => client.enqueue('x', 1, { queue, processIn: '10 minutes' }),
      /options\.processIn/,
    ],
    [
      'a deadline in the past',
      () => client.enqueue('x', 1, { queue, deadline: Date.now() - 1000 }),
      /in the past/,
    ],
    ['a sub-second unique lock', () => client.enqueue('x', 1, { queue, unique: 500 }), /at least 1s/],
    ['a negative maxRetry', () => client.enqueue('x', 1, { queue, maxRetry: -1 }), /maxRetry/],
    ['a blank task id', () => client.enqueue('x', 1, { queue, taskId: ' ' }), /taskId/],
    ['a blank group', () => client.enqueue('x', 1, { queue, group: '' }), /group/],
    ['non-string headers', () => client.enqueue('x', 1, { queue, headers: { a: 1 } as never }), /headers\.a/],
    [
      'processAt with processIn',
      () => client.enqueue('x', 1, { queue, processAt: 1, processIn: 1 }),
      /not both/,
    ],
  ];

  it.each(cases)(
    'rejects %s with a ValidationError before reaching Redis',
    async (_name, attempt, message) => {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(message);
      expect(await keysOf(queue)).toEqual([]);
    },
  );

  it('names every invalid option in one error, each at its options.… path', async () => {
    const error = await client
      .enqueue('x', 1, { queue, maxRetry: -1, timeout: 'soon', processIn: 'banana', retries: 3 } as never)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    const { issues, message } = error as ValidationError;
    expect(issues.map((issue) => issue.path)).toEqual([
      'options.retries',
      'options.maxRetry',
      'options.timeout',
      'options.processIn',
    ]);
    expect(message).toMatch(/^4 problems in options: options\.retries is not an option; /);
    expect(message).toContain('options.maxRetry must be a non-negative integer, got -1.');
    expect(message).toContain("options.timeout 'soon' is not a duration");
    expect(message).toContain("options.processIn 'banana' is not a duration");
    expect(await keysOf(queue)).toEqual([]);
  });

  it('names every invalid option of a task in a batch at its tasks[N].options.… path', async () => {
    const [outcome] = await client.enqueueMany([
      { type: 'x', options: { queue: 'a}b', maxRetry: 1.5, colour: 'red' } as never },
    ]);
    const error = outcome!.ok ? undefined : outcome!.error;
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
      'tasks[0].options.colour',
      'tasks[0].options.queue',
      'tasks[0].options.maxRetry',
    ]);
    expect(error!.message).toMatch(/^3 problems in tasks\[0\]\.options: /);
  });

  it('rejects payloads over the limit', async () => {
    const small = new Client({ broker, maxPayloadBytes: 100 });
    await expect(small.enqueue('x', 'y'.repeat(200), { queue })).rejects.toThrow(/over the limit of 100/);
    await expect(client.enqueue('x', new Uint8Array(1024 * 1024 + 1), { queue })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await keysOf(queue)).toEqual([]);
  });

  it('rejects values that cannot be encoded', async () => {
    await expect(client.enqueue('x', { big: 1n }, { queue })).rejects.toBeInstanceOf(PayloadEncodingError);
    expect(await keysOf(queue)).toEqual([]);
  });

  it('rejects bad client options', () => {
    expect(() => new Client({} as never)).toThrow(/broker is required/);
    expect(() => new Client({ broker, maxPayloadBytes: 0 })).toThrow(/maxPayloadBytes/);
    expect(() => new Client({ broker, color: 'red' } as never)).toThrow(/Unknown client option "color"/);
  });
});

describe('Client.enqueueMany', () => {
  it('reports a result per task and does not stop at a refused one', async () => {
    const queue = uniqueQueue();
    await client.enqueue('x', 0, { queue, taskId: 'taken' });
    const outcomes = await client.enqueueMany([
      { type: 'a', payload: 1, options: { queue } },
      { type: 'b', payload: 2, options: { queue, taskId: 'taken' } },
      { type: 'c', payload: 3, options: { queue: '' } },
      { type: 'd', payload: 4, options: { queue, processIn: '1h' } },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, false, false, true]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: expect.any(TaskIdConflictError) as unknown });
    expect(outcomes[2]).toMatchObject({ ok: false, error: expect.any(ValidationError) as unknown });
    expect(outcomes[3]).toMatchObject({ ok: true, info: { state: 'scheduled' } });
    expect(await redis.llen(`${prefix}:{${queue}}:pending`)).toBe(2);
  });

  it('writes nothing when atomic and one task is refused', async () => {
    const queue = uniqueQueue();
    await client.enqueue('x', 0, { queue, taskId: 'taken' });
    const before = await keysOf(queue);
    const outcomes = await client.enqueueMany(
      [
        { type: 'a', payload: 1, options: { queue } },
        { type: 'b', payload: 2, options: { queue, taskId: 'taken' } },
        { type: 'c', payload: 3, options: { queue } },
      ],
      { atomic: true },
    );
    expect(outcomes.every((outcome) => !outcome.ok)).toBe(true);
    expect(outcomes[1]).toMatchObject({ error: expect.any(TaskIdConflictError) as unknown });
    for (const index of [0, 2]) {
      const error = (outcomes[index] as { error: QError }).error;
      expect(error).toBeInstanceOf(BatchAbortedError);
      expect(error).toMatchObject({ code: 'Q_BATCH_ABORTED', index: 1, abortedBy: 'tasks[1]' });
      expect(error.message).toMatch(
        /^Not enqueued: the atomic batch was aborted by tasks\[1\] \(Task id "taken"/,
      );
    }
    expect(await keysOf(queue)).toEqual(before);
  });

  it('writes all tasks when atomic and all are accepted', async () => {
    const queue = uniqueQueue();
    const outcomes = await client.enqueueMany(
      Array.from({ length: 50 }, (_, index) => ({ type: 't', payload: index, options: { queue } })),
      { atomic: true },
    );
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(await redis.llen(`${prefix}:{${queue}}:pending`)).toBe(50);
  });

  it('writes nothing when atomic and one task is invalid', async () => {
    const queue = uniqueQueue();
    const outcomes = await client.enqueueMany(
      [
        { type: 'a', payload: 1, options: { queue } },
        { type: 'b', payload: 2, options: { queue, timeout: -1 } },
      ],
      { atomic: true },
    );
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([false, false]);
    const [aborted, invalid] = outcomes.map((outcome) => (outcome as { error: QError }).error);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(aborted).toBeInstanceOf(BatchAbortedError);
    expect(aborted).toMatchObject({
      code: 'Q_BATCH_ABORTED',
      index: 1,
      abortedBy: 'tasks[1]',
      cause: invalid,
    });
    expect(aborted!.message).toMatch(/aborted by tasks\[1\] \(tasks\[1\]\.options\.timeout must be/);
    expect(await keysOf(queue)).toEqual([]);
  });

  it('refuses an atomic batch across queues', async () => {
    await expect(
      client.enqueueMany(
        [
          { type: 'a', options: { queue: uniqueQueue() } },
          { type: 'b', options: { queue: uniqueQueue() } },
        ],
        { atomic: true },
      ),
    ).rejects.toThrow(/one queue/);
  });
});

describe('Client with Redis failing', () => {
  it('survives a script cache flush', async () => {
    const queue = uniqueQueue();
    await client.enqueue('x', 1, { queue });
    await redis.script('FLUSH');
    await expect(client.enqueue('x', 2, { queue })).resolves.toMatchObject({ state: 'pending' });
    await expect(client.enqueueMany([{ type: 'y', options: { queue } }])).resolves.toMatchObject([
      { ok: true },
    ]);
    expect(await redis.llen(`${prefix}:{${queue}}:pending`)).toBe(3);
  });

  it('surfaces out-of-memory as a typed error', async () => {
    const server = await startRedisServer({
      args: ['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'],
    });
    const fullBroker = createRedisBroker({ url: server.url });
    try {
      const fullClient = new Client({ broker: fullBroker, maxPayloadBytes: 10 * 1024 * 1024 });
      let error: unknown;
      for (let attempt = 0; attempt < 20 && !error; attempt++) {
        await fullClient
          .enqueue('big', new Uint8Array(256 * 1024))
          .catch((caught: unknown) => (error = caught));
      }
      expect(error).toBeInstanceOf(BrokerOutOfMemoryError);
      expect((error as Error).message).toMatch(/memory/i);
    } finally {
      await fullBroker.close();
      await server.stop();
    }
  });

  it('fails instead of hanging when Redis is gone', async () => {
    const server = await startRedisServer();
    const goneBroker = createRedisBroker({ url: server.url });
    const goneClient = new Client({ broker: goneBroker });
    await goneClient.enqueue('x', 1);
    await server.stop();
    const started = Date.now();
    const error = await goneClient.enqueue('x', 2).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(Date.now() - started).toBeLessThan(20_000);
    await goneBroker.close();
  });
});

describe('Client interceptors', () => {
  it('run around enqueue in order, and the headers they set are stored with the task', async () => {
    const calls: string[] = [];
    const seen: OutgoingTask[] = [];
    const interceptors: EnqueueInterceptor[] = [
      {
        async enqueue(task, next) {
          calls.push('outer:before');
          seen.push({ ...task });
          task.headers['trace'] = 'outer';
          const info = await next();
          calls.push(`outer:after:${info.state}`);
          return info;
        },
      },
      {
        async enqueue(task, next) {
          calls.push('inner');
          task.headers['tenant'] = 'acme';
          return next();
        },
      },
    ];
    const queue = uniqueQueue();
    const intercepted = new Client({ broker, interceptors });
    const processAt = Date.now() + 60_000;
    const info = await intercepted.enqueue(
      'email:send',
      { to: 'a' },
      { queue, processAt, headers: { kept: '1' } },
    );
    expect(calls).toEqual(['outer:before', 'inner', 'outer:after:scheduled']);
    expect(seen[0]).toMatchObject({ id: info.id, type: 'email:send', queue, processAt, group: '' });
    expect(decode(seen[0]!.payload)).toEqual({ to: 'a' });
    const stored = await broker.getTask(queue, info.id);
    expect(stored.message.headers).toEqual({ kept: '1', trace: 'outer', tenant: 'acme' });
  });

  it('see what a refused enqueue throws, and no task when validation fails', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const intercepted = new Client({
      broker,
      interceptors: [
        {
          enqueue: (_task, next) => {
            calls += 1;
            return next().catch((error: unknown) => {
              errors.push(error);
              throw error;
            });
          },
        },
      ],
    });
    const queue = uniqueQueue();
    await intercepted.enqueue('x', 1, { queue, taskId: 'taken' });
    await expect(intercepted.enqueue('x', 2, { queue, taskId: 'taken' })).rejects.toBeInstanceOf(
      TaskIdConflictError,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TaskIdConflictError);
    await expect(intercepted.enqueue('x', 3, { queue, maxRetry: -1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(calls).toBe(2);
  });

  it('run around enqueueMany with the valid tasks only, and get their outcomes in order', async () => {
    const queue = uniqueQueue();
    const seen: string[][] = [];
    const intercepted = new Client({
      broker,
      interceptors: [
        {
          async enqueueMany(tasks, next) {
            seen.push(tasks.map((task) => task.id));
            for (const task of tasks) task.headers['batch'] = String(tasks.length);
            const outcomes = await next();
            seen.push(outcomes.map((outcome) => (outcome.ok ? outcome.info.id : outcome.error.code)));
            return outcomes;
          },
        },
      ],
    });
    await intercepted.enqueue('x', 0, { queue, taskId: 'taken' });
    const outcomes = await intercepted.enqueueMany([
      { type: 'x', payload: 1, options: { queue, taskId: 'a' } },
      { type: 'x', payload: 2, options: { queue, maxRetry: -1 } },
      { type: 'x', payload: 3, options: { queue, taskId: 'taken' } },
    ]);
    expect(seen).toEqual([
      ['a', 'taken'],
      ['a', 'Q_TASK_ID_CONFLICT'],
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, false, false]);
    expect((await broker.getTask(queue, 'a')).message.headers).toEqual({ batch: '2' });
  });

  it('refuse a second call of next() and options that are not interceptors', async () => {
    const twice = new Client({
      broker,
      interceptors: [
        {
          async enqueue(_task, next) {
            await next();
            return next();
          },
        },
      ],
    });
    await expect(twice.enqueue('x', 1, { queue: uniqueQueue() })).rejects.toThrow(/next\(\) more than once/);
    expect(() => new Client({ broker, interceptors: [{}] as EnqueueInterceptor[] })).toThrow(
      /interceptors\[0\] must be an object with an enqueue/,
    );
    expect(
      () => new Client({ broker, interceptors: (() => undefined) as unknown as EnqueueInterceptor[] }),
    ).toThrow(ValidationError);
  });
});
