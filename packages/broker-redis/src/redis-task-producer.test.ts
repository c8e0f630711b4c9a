import {
  BatchAbortedError,
  DuplicateTaskError,
  TaskIdConflictError,
  ValidationError,
  flowKeyHeader,
  type EnqueueManyResult,
} from '@q/core';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { createTestContext, redisUrl, taskMessage, type TestContext } from '../test/redis-test-context';
import { decodeTaskMessage, encodeTaskMessage } from './task-message-codec';

let context: TestContext;
let prefix: string;

beforeEach(() => {
  context = createTestContext();
  prefix = context.prefix;
});

afterEach(async () => {
  await context.close();
});

const key = (queue: string, rest: string): string => `${prefix}:{${queue}}:${rest}`;

describe('enqueue', () => {
  it('writes a pending task: hash with msg, state and pending_since; id on the pending list; queue registered', async () => {
    const { broker, redis } = context;
    const message = taskMessage({ queue: 'default' });
    const before = Date.now();
    const result = await broker.enqueue({ message });
    expect(result).toMatchObject({ state: 'pending', message });
    expect(result.nextProcessAt).toBeGreaterThanOrEqual(before);
    const hash = await redis.hgetallBuffer(key('default', `t:${message.id}`));
    expect(Object.keys(hash).sort()).toEqual(['msg', 'pending_since', 'state']);
    expect(decodeTaskMessage(hash.msg!)).toEqual(message);
    expect(hash.state!.toString()).toBe('pending');
    const pendingSince = BigInt(hash.pending_since!.toString());
    expect(pendingSince / 1_000_000n).toBeGreaterThanOrEqual(BigInt(before));
    expect(await redis.lrange(key('default', 'pending'), 0, -1)).toEqual([message.id]);
    expect(await redis.smembers(`${prefix}:queues`)).toEqual(['default']);
  });

  it('pushes new tasks on the left, so the oldest is taken first from the right', async () => {
    const { broker, redis } = context;
    const first = taskMessage();
    const second = taskMessage();
    await broker.enqueue({ message: first });
    await broker.enqueue({ message: second });
    expect(await redis.lrange(key('default', 'pending'), 0, -1)).toEqual([second.id, first.id]);
  });

  it('refuses a task id already used in the queue, in any state, with TaskIdConflictError', async () => {
    const { broker, redis } = context;
    const message = taskMessage();
    await broker.enqueue({ message, processAt: Date.now() + 60_000 });
    await expect(broker.enqueue({ message })).rejects.toBeInstanceOf(TaskIdConflictError);
    expect(await redis.llen(key('default', 'pending'))).toBe(0);
    expect(await redis.hget(key('default', `t:${message.id}`), 'state')).toBe('scheduled');
  });

  it('announces new pending work on the queue notify channel', async () => {
    const { broker } = context;
    const subscriber = new Redis(redisUrl());
    try {
      const received: string[] = [];
      subscriber.on('message', (channel: string, message: string) => received.push(`${channel} ${message}`));
      await subscriber.subscribe(key('default', 'notify'));
      await broker.enqueue({ message: taskMessage() });
      await vi.waitFor(() => expect(received).toEqual([`${key('default', 'notify')} default`]));
    } finally {
      await subscriber.quit();
    }
  });

  it('takes a uniqueness lock holding the task id, with the TTL, and refuses duplicates', async () => {
    const { broker, redis } = context;
    const payload = new TextEncoder().encode('{"k":1}');
    const message = taskMessage({ type: 'report:unique', payload, queue: 'critical' });
    const result = await broker.enqueue({ message, uniqueTtl: 3_600_000 });
    const lockKey = `${prefix}:{critical}:unique:report:unique:e59138f35192e320088b83d28388d6bb`;
    expect(result.message.uniqueKey).toBe(lockKey);
    expect(await redis.get(lockKey)).toBe(message.id);
    expect(await redis.ttl(lockKey)).toBeGreaterThan(3590);
    expect(await redis.hget(key('critical', `t:${message.id}`), 'unique_key')).toBe(lockKey);
    const duplicate = taskMessage({ type: 'report:unique', payload, queue: 'critical' });
    const error = await broker
      .enqueue({ message: duplicate, uniqueTtl: 3_600_000 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DuplicateTaskError);
    expect(await redis.exists(key('critical', `t:${duplicate.id}`))).toBe(0);
  });

  it('releases a lock it just took when the task id is taken, so the lock does not block later tasks', async () => {
    const { broker, redis } = context;
    const taken = taskMessage({ type: 'a' });
    await broker.enqueue({ message: taken });
    const clash = taskMessage({ id: taken.id, type: 'b' });
    await expect(broker.enqueue({ message: clash, uniqueTtl: 60_000 })).rejects.toBeInstanceOf(
      TaskIdConflictError,
    );
    expect(await redis.keys(key('default', 'unique:*'))).toEqual([]);
  });

  it('schedules a task due later: scheduled zset scored in Unix seconds, no pending_since', async () => {
    const { broker, redis } = context;
    const message = taskMessage();
    const processAt = Date.now() + 3_600_000;
    const result = await broker.enqueue({ message, processAt });
    expect(result).toMatchObject({ state: 'scheduled', nextProcessAt: processAt });
    expect(await redis.zscore(key('default', 'scheduled'), message.id)).toBe(
      String(Math.floor(processAt / 1000)),
    );
    const hash = await redis.hgetall(key('default', `t:${message.id}`));
    expect(Object.keys(hash).sort()).toEqual(['msg', 'state']);
    expect(hash.state).toBe('scheduled');
  });

  it('locks a unique scheduled task until its process time plus the unique period', async () => {
    const { broker, redis } = context;
    const message = taskMessage();
    const result = await broker.enqueue({ message, processAt: Date.now() + 600_000, uniqueTtl: 3_600_000 });
    const ttl = await redis.ttl(result.message.uniqueKey);
    expect(ttl).toBeGreaterThan(4190);
    expect(ttl).toBeLessThanOrEqual(4200);
    expect(await redis.hget(key('default', `t:${message.id}`), 'unique_key')).toBe(result.message.uniqueKey);
  });

  it('treats a process time in the past as now', async () => {
    const { broker, redis } = context;
    const message = taskMessage();
    const result = await broker.enqueue({ message, processAt: Date.now() - 60_000 });
    expect(result.state).toBe('pending');
    expect(await redis.lrange(key('default', 'pending'), 0, -1)).toEqual([message.id]);
  });

  it('adds a grouped task to its group: zset scored by now, group registered, state aggregating', async () => {
    const { broker, redis } = context;
    const message = taskMessage({ queue: 'low', groupKey: 'user42' });
    const result = await broker.enqueue({ message });
    expect(result.state).toBe('aggregating');
    expect(result.nextProcessAt).toBeUndefined();
    expect(Number(await redis.zscore(key('low', 'g:user42'), message.id))).toBeCloseTo(Date.now() / 1000, -1);
    expect(await redis.smembers(key('low', 'groups'))).toEqual(['user42']);
    expect(await redis.hgetall(key('low', `t:${message.id}`))).toMatchObject({
      state: 'aggregating',
      group: 'user42',
    });
  });

  it('locks a unique grouped task without a unique_key field, as Asynq does', async () => {
    const { broker, redis } = context;
    const message = taskMessage({ queue: 'low', groupKey: 'g' });
    const result = await broker.enqueue({ message, uniqueTtl: 60_000 });
    expect(await redis.get(result.message.uniqueKey)).toBe(message.id);
    expect(await redis.hexists(key('low', `t:${message.id}`), 'unique_key')).toBe(0);
    await expect(
      broker.enqueue({ message: taskMessage({ queue: 'low', groupKey: 'g' }), uniqueTtl: 60_000 }),
    ).rejects.toBeInstanceOf(DuplicateTaskError);
  });

  it('sends a scheduled grouped task to scheduled without a group field, as Asynq does', async () => {
    const { broker, redis } = context;
    const message = taskMessage({ groupKey: 'g' });
    await broker.enqueue({ message, processAt: Date.now() + 60_000 });
    expect((await redis.hkeys(key('default', `t:${message.id}`))).sort()).toEqual(['msg', 'state']);
  });

  it('coalesces enqueues started together into one script call per queue, each caller with its own answer', async () => {
    const { broker, redis } = context;
    const taken = taskMessage();
    await broker.enqueue({ message: taken });
    // Load the scripts first, so that each call below is one EVALSHA (a first use may add an EVAL).
    await Promise.all([
      broker.enqueue({ message: taskMessage() }),
      broker.enqueue({ message: taskMessage() }),
    ]);
    await redis.del(key('default', 'pending'));
    const monitor = await redis.monitor();
    const scriptCalls: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^eval/i.test(args[0] ?? '') && args.some((arg) => arg.startsWith(`${prefix}:`))) {
        scriptCalls.push(args);
      }
    });
    const unique = taskMessage({ type: 'report:daily' });
    const sameUnique = taskMessage({ type: 'report:daily', payload: unique.payload });
    const plain = Array.from({ length: 40 }, () => taskMessage());
    const calls = [
      ...plain.map((message) => broker.enqueue({ message })),
      broker.enqueue({ message: taskMessage({ id: taken.id }) }),
      broker.enqueue({ message: unique, uniqueTtl: 60_000 }),
      broker.enqueue({ message: sameUnique, uniqueTtl: 60_000 }),
      broker.enqueue({ message: taskMessage(), processAt: Date.now() + 60_000 }),
      broker.enqueue({ message: taskMessage({ queue: 'low' }) }),
    ];
    const settled = await Promise.allSettled(calls);
    // One call for the 44 tasks of "default", the single-task script for the lone task of "low".
    await redis.ping();
    monitor.disconnect();
    expect(scriptCalls.map((args) => args.filter((arg) => arg.endsWith(':pending'))).sort()).toEqual([
      [key('default', 'pending')],
      [key('low', 'pending')],
    ]);
    const outcome = (index: number) => settled[index]!;
    for (let index = 0; index < 40; index += 1) expect(outcome(index).status).toBe('fulfilled');
    const reason = (index: number): unknown => (outcome(index) as PromiseRejectedResult).reason;
    expect(reason(40)).toBeInstanceOf(TaskIdConflictError);
    expect(outcome(41)).toMatchObject({ status: 'fulfilled', value: { state: 'pending' } });
    expect(reason(42)).toBeInstanceOf(DuplicateTaskError);
    expect(outcome(43)).toMatchObject({ status: 'fulfilled', value: { state: 'scheduled' } });
    expect(outcome(44)).toMatchObject({ status: 'fulfilled', value: { state: 'pending' } });
    // Pending in the order the callers started, oldest on the right, as with one enqueue at a time.
    const pending = await redis.lrange(key('default', 'pending'), 0, -1);
    expect(pending.reverse()).toEqual([...plain.map((message) => message.id), unique.id]);
    const stored = decodeTaskMessage((await redis.hgetBuffer(key('default', `t:${unique.id}`), 'msg'))!);
    expect(await redis.get(stored.uniqueKey)).toBe(unique.id);
    expect(await redis.zcard(key('default', 'scheduled'))).toBe(1);
    expect(await redis.llen(key('low', 'pending'))).toBe(1);
  });

  it('sends coalesced enqueues 50 at a time as they come, not all at the end of the turn', async () => {
    const { broker, redis } = context;
    await Promise.all([
      broker.enqueue({ message: taskMessage() }),
      broker.enqueue({ message: taskMessage() }),
    ]);
    await redis.del(key('default', 'pending'));
    const monitor = await redis.monitor();
    const batchSizes: number[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      // enqueue-batch: EVALSHA sha numkeys KEYS[1..8] now-ns now-s channel queue count ...
      if (/^evalsha/i.test(args[0] ?? '') && args.includes(key('default', 'pending'))) {
        batchSizes.push(Number(args[2 + Number(args[2]) + 5]));
      }
    });
    const messages = Array.from({ length: 120 }, () => taskMessage());
    const answers = await Promise.all(messages.map((message) => broker.enqueue({ message })));
    await redis.ping();
    monitor.disconnect();
    expect(batchSizes).toEqual([50, 50, 20]);
    expect(answers.map((answer) => answer.message.id)).toEqual(messages.map((message) => message.id));
    const pending = await redis.lrange(key('default', 'pending'), 0, -1);
    expect(pending.reverse()).toEqual(messages.map((message) => message.id));
  });

  it('sends a lone enqueue at once, without waiting for others to join it', async () => {
    const { broker, redis } = context;
    const message = taskMessage();
    const enqueued = broker.enqueue({ message });
    await enqueued;
    expect(await redis.lrange(key('default', 'pending'), 0, -1)).toEqual([message.id]);
  });

  it('rejects requests that cannot be stored with a ValidationError naming the field', async () => {
    const { broker } = context;
    await expect(broker.enqueue({ message: taskMessage({ queue: ' ' }) })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(broker.enqueue({ message: taskMessage({ queue: 'a{b}' }) })).rejects.toThrow(
      /message.queue/,
    );
    await expect(broker.enqueue({ message: taskMessage({ id: '' }) })).rejects.toThrow(/message.id/);
    await expect(broker.enqueue({ message: taskMessage({ type: '' }) })).rejects.toThrow(/message.type/);
    await expect(broker.enqueue({ message: taskMessage(), uniqueTtl: 500 })).rejects.toThrow(/uniqueTtl/);
  });
});

describe('enqueueMany', () => {
  it('writes every task independently, one script call per queue, and reports each in order', async () => {
    const { broker, redis } = context;
    const taken = taskMessage();
    await broker.enqueue({ message: taken });
    const requests = [
      { message: taskMessage() },
      { message: taskMessage({ id: taken.id }) },
      { message: taskMessage({ queue: 'low' }), processAt: Date.now() + 60_000 },
      { message: taskMessage({ queue: '' }) },
    ];
    const stream = (broker.connection as Redis).stream;
    const write = vi.spyOn(stream, 'write');
    const results = await broker.enqueueMany(requests);
    // One call for "default", one for "low", and the registration of "low" in the queue set.
    expect(write).toHaveBeenCalledTimes(3);
    write.mockRestore();
    expect(results.map((result) => result.ok)).toEqual([true, false, true, false]);
    expect((results[1] as Extract<EnqueueManyResult, { ok: false }>).error).toBeInstanceOf(
      TaskIdConflictError,
    );
    expect((results[3] as Extract<EnqueueManyResult, { ok: false }>).error).toBeInstanceOf(ValidationError);
    expect(await redis.llen(key('default', 'pending'))).toBe(2);
    expect(await redis.zcard(key('low', 'scheduled'))).toBe(1);
    expect((await redis.smembers(`${prefix}:queues`)).sort()).toEqual(['default', 'low']);
    expect(await broker.enqueueMany([])).toEqual([]);
  });

  it('sends a large batch a slice of 50 at a time, in order: a later slice still sees an earlier id', async () => {
    const { broker, redis } = context;
    const requests = Array.from({ length: 120 }, () => ({ message: taskMessage() }));
    requests[110] = { message: taskMessage({ id: requests[5]!.message.id }) };
    await broker.ping();
    const stream = (broker.connection as Redis).stream;
    const write = vi.spyOn(stream, 'write');
    const results = await broker.enqueueMany(requests);
    // Three slices (50, 50, 20), each written as soon as it was planned, and the queue's registration.
    expect(write).toHaveBeenCalledTimes(4);
    write.mockRestore();
    expect(results.filter((result) => result.ok)).toHaveLength(119);
    expect((results[110] as Extract<EnqueueManyResult, { ok: false }>).error).toBeInstanceOf(
      TaskIdConflictError,
    );
    expect(await redis.llen(key('default', 'pending'))).toBe(119);
  });

  it('carries ids, groups and flow keys in any script through the packed batch argument, byte for byte', async () => {
    const { broker, redis } = context;
    const plain = taskMessage({ id: 'tâche-é-1', payload: new Uint8Array([0, 255, 13, 10, 0]) });
    const keyed = taskMessage({ id: 'tâche-é-2', headers: { [flowKeyHeader]: 'client-ü' } });
    const grouped = taskMessage({ id: 'tâche-é-3', groupKey: 'grüppe' });
    const results = await broker.enqueueMany([{ message: plain }, { message: keyed }, { message: grouped }]);
    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    const stored = await redis.hgetBuffer(key('default', `t:${plain.id}`), 'msg');
    expect(decodeTaskMessage(stored!)).toEqual(plain);
    expect(Buffer.from(stored!).equals(Buffer.from(encodeTaskMessage(plain)))).toBe(true);
    expect(await redis.hget(key('default', `t:${keyed.id}`), 'flow_key')).toBe('client-ü');
    expect(await redis.hget(key('default', `t:${grouped.id}`), 'group')).toBe('grüppe');
    expect(await redis.zrange(key('default', 'g:grüppe'), 0, -1)).toEqual([grouped.id]);
    expect((await redis.lrange(key('default', 'pending'), 0, -1)).sort()).toEqual(
      [plain.id, keyed.id].sort(),
    );
  });

  it('with atomic, writes every task of the batch, each as a single enqueue would', async () => {
    const { broker, redis } = context;
    const results = await broker.enqueueMany(
      [
        { message: taskMessage() },
        { message: taskMessage(), uniqueTtl: 60_000 },
        { message: taskMessage(), processAt: Date.now() + 60_000 },
        { message: taskMessage({ type: 'other' }), processAt: Date.now() + 60_000, uniqueTtl: 60_000 },
        { message: taskMessage({ groupKey: 'g' }) },
      ],
      { atomic: true },
    );
    expect(results.every((result) => result.ok)).toBe(true);
    const states = results.map((result) => (result.ok ? result.result.state : 'error'));
    expect(states).toEqual(['pending', 'pending', 'scheduled', 'scheduled', 'aggregating']);
    expect(await redis.llen(key('default', 'pending'))).toBe(2);
    expect(await redis.zcard(key('default', 'scheduled'))).toBe(2);
    expect(await redis.zcard(key('default', 'g:g'))).toBe(1);
    expect(await redis.keys(key('default', 'unique:*'))).toHaveLength(2);
    const second = results[1]!;
    const unique = second.ok ? second.result.message : undefined;
    expect(await redis.hget(key('default', `t:${unique!.id}`), 'unique_key')).toBe(unique!.uniqueKey);
    expect(await redis.hkeys(key('default', `t:${unique!.id}`))).toHaveLength(4);
  });

  it('with atomic, writes nothing when one task is refused, and says which and why', async () => {
    const { broker, redis } = context;
    const taken = taskMessage();
    await broker.enqueue({ message: taken });
    const results = await broker.enqueueMany(
      [{ message: taskMessage() }, { message: taskMessage({ id: taken.id }) }, { message: taskMessage() }],
      { atomic: true },
    );
    expect(results.every((result) => !result.ok)).toBe(true);
    const errors = results.map((result) => (result.ok ? undefined : result.error));
    expect(errors[1]).toBeInstanceOf(TaskIdConflictError);
    for (const index of [0, 2]) {
      const error = errors[index];
      expect(error).toBeInstanceOf(BatchAbortedError);
      expect(error).toMatchObject({ code: 'Q_BATCH_ABORTED', index: 1, abortedBy: 'requests[1]' });
      expect(error!.cause).toBe(errors[1]);
      expect(error!.message).toMatch(
        /^Not enqueued: the atomic batch was aborted by requests\[1\] \(Task id/,
      );
    }
    expect(await redis.lrange(key('default', 'pending'), 0, -1)).toEqual([taken.id]);
  });

  it('with atomic, refuses ids and uniqueness keys repeated within the batch', async () => {
    const { broker, redis } = context;
    const twin = taskMessage();
    const sameId = await broker.enqueueMany([{ message: twin }, { message: { ...twin } }], { atomic: true });
    expect(sameId[1]!.ok ? undefined : sameId[1]!.error).toBeInstanceOf(TaskIdConflictError);
    const payload = new Uint8Array([1]);
    const sameLock = await broker.enqueueMany(
      [
        { message: taskMessage({ payload }), uniqueTtl: 60_000 },
        { message: taskMessage({ payload }), uniqueTtl: 60_000 },
      ],
      { atomic: true },
    );
    expect(sameLock[1]!.ok ? undefined : sameLock[1]!.error).toBeInstanceOf(DuplicateTaskError);
    expect(await redis.keys(`${prefix}:*`)).toEqual([`${prefix}:queues`]);
  });

  it('with atomic, refuses a batch spanning queues or holding an invalid request', async () => {
    const { broker } = context;
    await expect(
      broker.enqueueMany([{ message: taskMessage() }, { message: taskMessage({ queue: 'low' }) }], {
        atomic: true,
      }),
    ).rejects.toThrow(/one queue/);
    await expect(
      broker.enqueueMany([{ message: taskMessage() }, { message: taskMessage({ id: '' }) }], {
        atomic: true,
      }),
    ).rejects.toThrow(/requests\[1\]/);
  });
});

describe('queue registration', () => {
  it('adds the queue name about once a second, not once per task, and brings back a name removed elsewhere', async () => {
    const { broker, redis } = context;
    // Lazy: only the monitoring duplicate connects. Another connection's ready-check INFO, seen by MONITOR
    // in the same read as its +OK, would be taken for a reply by ioredis ("Command queue state error").
    const monitor = new Redis(inject('redisAdminUrl'), { lazyConnect: true });
    const commands: string[] = [];
    const stream = await monitor.monitor();
    stream.on('monitor', (_time: string, args: string[]) => {
      if (args[1] === `${prefix}:queues`) commands.push(String(args[0]).toLowerCase());
    });
    try {
      for (let index = 0; index < 50; index++)
        await broker.enqueue({ message: taskMessage({ queue: 'often' }) });
      await broker.enqueueMany([{ message: taskMessage({ queue: 'often' }) }]);
      expect(commands.filter((command) => command === 'sadd')).toHaveLength(1);

      await redis.srem(`${prefix}:queues`, 'often');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await broker.enqueue({ message: taskMessage({ queue: 'often' }) });
      expect(await redis.smembers(`${prefix}:queues`)).toEqual(['often']);
    } finally {
      stream.disconnect();
      monitor.disconnect();
    }
  });

  it('answers each task by what the script stored, even when adding the queue name is refused', async () => {
    const warnings: string[] = [];
    const log = (): void => undefined;
    const own = createTestContext({
      logger: {
        debug: log,
        info: log,
        error: log,
        warn: (fields: unknown, message?: string) => {
          warnings.push(message ?? String(fields));
        },
      },
    });
    try {
      // The queue list is not a set: the SADD beside the batch fails, the batch itself does not.
      await own.redis.set(`${own.prefix}:queues`, 'not a set');
      const messages = Array.from({ length: 3 }, () => taskMessage({ queue: 'listed' }));
      const answers = await Promise.all(messages.map((message) => own.broker.enqueue({ message })));
      expect(answers.map((answer) => answer.state)).toEqual(['pending', 'pending', 'pending']);
      expect(await own.redis.llen(`${own.prefix}:{listed}:pending`)).toBe(3);
      expect(warnings.some((warning) => warning.startsWith('Could not add the queue names'))).toBe(true);
    } finally {
      await own.close();
    }
  });
});
