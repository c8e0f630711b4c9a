/**
 * R7: property tests (fast-check). The codecs: JSON payloads round-trip; TaskMessages round-trip through
 * the broker and Redis; random bytes stored as a task read back as a TaskMessage or a typed error, never
 * anything else (the codec's own `MalformedTaskError` properties are in `@q/broker-redis`). The task state
 * machine: random interleavings of dequeue, extend, complete, fail, archive, recover, requeue and forward
 * against the Redis broker, with current and stale lease tokens, checked after every step against a model
 * and against Redis itself: a task is never in two states, and a stale token never changes anything.
 */
import { randomUUID } from 'node:crypto';
import { createRedisBroker, type RedisBroker } from '@q/broker-redis';
import { jsonCodec, LeaseLostError, QError, type TaskMessage } from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reportFigures } from '../src/scenario';
import { sized } from '../src/scale';

const runs = sized({ ci: { codec: 300, machine: 60 }, full: { codec: 5000, machine: 400 } });

const int32 = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const seconds = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const taskMessage = fc.record<TaskMessage>({
  id: fc.string(),
  type: fc.string(),
  payload: fc.uint8Array({ maxLength: 200 }),
  queue: fc.string(),
  maxRetry: int32,
  retried: int32,
  errorMessage: fc.string(),
  timeoutSeconds: seconds,
  deadlineUnixSeconds: seconds,
  uniqueKey: fc.string(),
  lastFailedAtUnixSeconds: seconds,
  retentionSeconds: seconds,
  completedAtUnixSeconds: seconds,
  groupKey: fc.string(),
  headers: fc.dictionary(fc.string(), fc.string()),
});
/** A message the broker takes as it is: a usable type, no uniqueness lock and no group (those it fills in). */
const storableMessage = taskMessage.map((message) => ({
  ...message,
  type: message.type.trim() === '' ? `type ${message.type}` : message.type,
  uniqueKey: '',
  groupKey: '',
}));

describe('R7: codec properties', () => {
  it('round-trips JSON payloads through the default codec', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: runs.codec },
    );
  });

  it('hands back bytes that are not UTF-8 JSON as they are, and never throws on decode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        const decoded = jsonCodec.decode(bytes);
        if (decoded instanceof Uint8Array) expect(decoded).toEqual(bytes);
      }),
      { numRuns: runs.codec },
    );
  });

  it('round-trips every TaskMessage through the broker: what is enqueued is what Redis gives back', async () => {
    const queue = `codec-${randomUUID().slice(0, 8)}`;
    let sequence = 0;
    await fc.assert(
      fc.asyncProperty(storableMessage, async (generated) => {
        sequence += 1;
        const message: TaskMessage = { ...generated, id: `m-${sequence}`, queue };
        await broker.enqueue({ message });
        expect((await broker.getTask(queue, message.id)).message).toEqual(message);
      }),
      { numRuns: runs.codec },
    );
  });

  it('reads random bytes stored as a task as a TaskMessage or a typed error, nothing else', async () => {
    const queue = `bytes-${randomUUID().slice(0, 8)}`;
    await broker.enqueue({ message: { ...emptyTaskMessage(), id: 'victim', type: 'victim', queue } });
    let typedErrors = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        await broker.connection.hset(`${prefix}:{${queue}}:t:victim`, 'msg', Buffer.from(bytes));
        try {
          await broker.getTask(queue, 'victim');
        } catch (error) {
          expect(QError.is(error)).toBe(true);
          typedErrors += 1;
        }
      }),
      { numRuns: runs.codec },
    );
    reportFigures('R7 codec', { runs: runs.codec, randomBytesRefusedWithTypedError: typedErrors });
  });
});

// ---------------------------------------------------------------------------------------------------
// The state machine

type ModelState = 'pending' | 'active' | 'retry' | 'archived' | 'done';

interface ModelTask {
  id: string;
  state: ModelState;
  retried: number;
  /** The message as the last dequeue returned it. */
  message: TaskMessage;
  token?: string;
  staleTokens: string[];
}

type Action =
  | { op: 'dequeue' }
  | { op: 'extend' | 'complete' | 'fail' | 'archive' | 'requeue'; task: number; stale: boolean }
  | { op: 'recover' }
  | { op: 'forward' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.constant({ op: 'dequeue' as const }), weight: 3 },
  {
    arbitrary: fc.record({
      op: fc.constantFrom(
        'extend' as const,
        'complete' as const,
        'fail' as const,
        'archive' as const,
        'requeue' as const,
      ),
      task: fc.nat({ max: 2 }),
      stale: fc.boolean(),
    }),
    weight: 6,
  },
  { arbitrary: fc.constant({ op: 'recover' as const }), weight: 1 },
  { arbitrary: fc.constant({ op: 'forward' as const }), weight: 2 },
);

let broker: RedisBroker;
let prefix: string;
beforeAll(() => {
  prefix = `qr7-${randomUUID().slice(0, 8)}`;
  broker = createRedisBroker({ url: inject('redisUrl'), prefix });
});
afterAll(async () => {
  await broker.close();
});

/** Where Redis holds the task: every structure it is in, and its hash's state. */
async function locate(
  queue: string,
  id: string,
): Promise<{ places: string[]; hashState: string | null; leased: boolean }> {
  const key = (suffix: string) => `${prefix}:{${queue}}:${suffix}`;
  const connection = broker.connection;
  const [pending, active, retry, archived, completed, scheduled, lease, hashState] = await Promise.all([
    connection.lpos(key('pending'), id),
    connection.lpos(key('active'), id),
    connection.zscore(key('retry'), id),
    connection.zscore(key('archived'), id),
    connection.zscore(key('completed'), id),
    connection.zscore(key('scheduled'), id),
    connection.zscore(key('lease'), id),
    connection.hget(key(`t:${id}`), 'state'),
  ]);
  const places = Object.entries({ pending, active, retry, archived, completed, scheduled })
    .filter(([, found]) => found !== null)
    .map(([name]) => name);
  return { places, hashState, leased: lease !== null };
}

async function apply(queue: string, tasks: ModelTask[], step: Action): Promise<void> {
  const now = Date.now();
  if (step.op === 'dequeue') {
    const { tasks: taken } = await broker.dequeue([queue], { count: 1, leaseDuration: 60_000 });
    const pending = tasks.filter((task) => task.state === 'pending');
    expect(taken.length).toBe(pending.length > 0 ? 1 : 0);
    for (const leased of taken) {
      const task = tasks.find((entry) => entry.id === leased.message.id)!;
      expect(task.state).toBe('pending');
      task.state = 'active';
      task.message = leased.message;
      task.token = leased.leaseToken;
    }
    return;
  }
  if (step.op === 'recover') {
    const cutoff = now + 3_600_000;
    const expired = await broker.listLeaseExpired([queue], cutoff);
    expect(expired.map((message) => message.id).sort()).toEqual(
      tasks
        .filter((task) => task.state === 'active')
        .map((task) => task.id)
        .sort(),
    );
    for (const message of expired) {
      await broker.retry(message, {
        processAt: now - 1000,
        errorMessage: 'lease expired',
        isFailure: true,
        fence: { expiredBy: cutoff },
      });
      const task = tasks.find((entry) => entry.id === message.id)!;
      task.state = 'retry';
      task.retried += 1;
      task.staleTokens.push(task.token!);
      task.token = undefined;
    }
    return;
  }
  if (step.op === 'forward') {
    await broker.forward([queue], now);
    for (const task of tasks) if (task.state === 'retry') task.state = 'pending';
    return;
  }
  const task = tasks[step.task]!;
  const token = step.stale ? (task.staleTokens.at(-1) ?? 'never-issued') : task.token;
  const fence = token === undefined ? { token: 'no-current-lease' } : { token };
  const valid = !step.stale && task.state === 'active';
  const message = { ...task.message, retried: task.retried };
  const attempt = async (): Promise<boolean> => {
    try {
      if (step.op === 'extend') {
        const extension = await broker.extendLeases(
          queue,
          [task.id],
          60_000,
          new Map([[task.id, fence.token]]),
        );
        return extension.lost.length === 0;
      }
      if (step.op === 'complete') await broker.done(message, fence);
      if (step.op === 'fail')
        await broker.retry(message, {
          processAt: now - 1000,
          errorMessage: 'failed',
          isFailure: true,
          fence,
        });
      if (step.op === 'archive') await broker.archive(message, 'failed', fence);
      if (step.op === 'requeue') await broker.requeue(message, fence);
      return true;
    } catch (error) {
      expect(error).toBeInstanceOf(LeaseLostError);
      return false;
    }
  };
  expect(
    await attempt(),
    `${step.op} with ${step.stale ? 'a stale' : 'the current'} token on a ${task.state} task`,
  ).toBe(valid);
  if (!valid || step.op === 'extend') return;
  task.staleTokens.push(task.token!);
  task.token = undefined;
  if (step.op === 'complete') task.state = 'done';
  if (step.op === 'fail') {
    task.state = 'retry';
    task.retried += 1;
  }
  if (step.op === 'archive') task.state = 'archived';
  if (step.op === 'requeue') task.state = 'pending';
}

describe('R7: task state machine properties (Redis broker)', () => {
  it('keeps every task in exactly one state, and refuses every stale lease token', async () => {
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), async (actions) => {
        const queue = `m-${randomUUID().slice(0, 8)}`;
        const tasks: ModelTask[] = [];
        for (let index = 0; index < 3; index += 1) {
          const message: TaskMessage = {
            ...emptyTaskMessage(),
            id: `t${index}`,
            type: 'r7',
            queue,
            maxRetry: 1000,
            timeoutSeconds: 60,
          };
          await broker.enqueue({ message });
          tasks.push({ id: message.id, state: 'pending', retried: 0, message, staleTokens: [] });
        }
        for (const step of actions) {
          await apply(queue, tasks, step);
          steps += 1;
          for (const task of tasks) {
            const where = await locate(queue, task.id);
            if (task.state === 'done') {
              expect(where).toEqual({ places: [], hashState: null, leased: false });
            } else {
              expect(where, `task ${task.id}`).toEqual({
                places: [task.state],
                hashState: task.state,
                leased: task.state === 'active',
              });
            }
          }
        }
      }),
      { numRuns: runs.machine },
    );
    reportFigures('R7 state machine', { runs: runs.machine, steps, counterexamples: 0 });
  }, 120_000);
});
