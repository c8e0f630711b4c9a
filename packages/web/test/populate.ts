/**
 * What the dashboard tests look at: tasks in every state written by @q (a client and the broker's server
 * roles), a payload that is HTML, a large payload, a binary one, and the keys Go Asynq wrote (the
 * fixtures) restored under the same prefix.
 */
import { Redis } from 'ioredis';
import { type Broker, type TaskMessage } from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';
import { fixtureBytes, readFixture, type Fixture } from '../../../test/asynq-fixtures';

export const xssPayload = '<img src=x onerror=alert(1)>';
export const xssError = '<script>alert(2)</script> smtp failed';

/** @q's tasks, in queue `emails`. */
export const ours = {
  queue: 'emails',
  pending: ['p-1', 'p-2', 'p-xss', 'p-large', 'p-binary'],
  scheduled: ['s-1'],
  aggregating: ['g-1', 'g-2'],
  active: ['a-1'],
  retry: ['r-1'],
  archived: ['x-1'],
  completed: ['c-1'],
} as const;

/** Bytes in the large payload: beyond the handler's 2 KiB preview. */
export const largePayloadSize = 100_000;

function message(id: string, values: Partial<TaskMessage> = {}): TaskMessage {
  return {
    ...emptyTaskMessage(),
    id,
    queue: ours.queue,
    type: 'email:send',
    payload: new TextEncoder().encode(JSON.stringify({ to: `${id}@example.com` })),
    maxRetry: 3,
    timeoutSeconds: 1800,
    ...values,
  };
}

export async function populateOurs(broker: Broker): Promise<void> {
  const now = Date.now();
  const queue = ours.queue;
  const processed = ['a-1', 'r-1', 'x-1', 'c-1'];
  for (const id of processed) {
    await broker.enqueue({ message: message(id, id === 'c-1' ? { retentionSeconds: 3600 } : {}) });
  }
  const { tasks } = await broker.dequeue([queue], { count: processed.length, leaseDuration: 3_600_000 });
  const byId = new Map(tasks.map((task) => [task.message.id, task.message]));
  await broker.retry(byId.get('r-1')!, {
    processAt: now + 3_600_000,
    errorMessage: 'smtp: connection reset',
    isFailure: true,
  });
  await broker.archive(byId.get('x-1')!, xssError);
  await broker.writeResult(queue, 'c-1', new TextEncoder().encode('{"sent":true}'));
  await broker.markComplete(byId.get('c-1')!, now);
  for (const id of ['p-1', 'p-2']) await broker.enqueue({ message: message(id) });
  await broker.enqueue({ message: message('p-xss', { payload: new TextEncoder().encode(xssPayload) }) });
  const large = `{"body":"${'x'.repeat(largePayloadSize - 11)}"}`;
  await broker.enqueue({ message: message('p-large', { payload: new TextEncoder().encode(large) }) });
  await broker.enqueue({
    message: message('p-binary', { payload: new Uint8Array([0, 1, 2, 0xff, 0xfe, 0x10, 0x41, 0x42]) }),
  });
  await broker.enqueue({ message: message('s-1'), processAt: now + 3_600_000 });
  for (const id of ours.aggregating) {
    await broker.enqueue({ message: message(id, { type: 'digest', groupKey: 'daily' }) });
  }
}

/** Go Asynq's keys, from the fixtures of asynq v0.26.0, under `prefix`; servers and schedulers kept alive. */
export const goFixtures = [
  '01-pending',
  '02-scheduled-unique',
  '03-group',
  '04-retry',
  '05-archived-completed',
  '06-active-server',
  '08-scheduler',
] as const;

export async function restoreGoFixtures(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  const rename = (text: string): string => (text.startsWith('asynq:') ? `${prefix}:${text.slice(6)}` : text);
  const bytes = (value: unknown): Buffer => {
    const record = value as { text?: string };
    return record.text !== undefined ? Buffer.from(rename(record.text)) : Buffer.from(fixtureBytes(value));
  };
  const alive = Math.floor(Date.now() / 1000) + 3600;
  try {
    for (const name of goFixtures) {
      const fixture: Fixture = readFixture('asynq-v0.26.0', name);
      for (const [key, entry] of Object.entries(fixture)) {
        const target = rename(key);
        const live = /:(servers|workers|schedulers)(:|$)/.test(key);
        if (entry.type === 'string') await redis.set(target, bytes(entry.value));
        else if (entry.type === 'set') await redis.sadd(target, ...(entry.value as string[]).map(rename));
        else if (entry.type === 'list') {
          const items = (entry.value as unknown[]).map(bytes);
          for (const item of items)
            if ((await redis.lpos(target, item)) === null) await redis.rpush(target, item);
        } else if (entry.type === 'hash') {
          for (const [field, value] of Object.entries(entry.value as Record<string, unknown>)) {
            await redis.hset(target, field, bytes(value));
          }
        } else {
          for (const { member, score } of entry.value as { member: unknown; score: number }[]) {
            // Servers and schedulers are listed while their score (expiry) is in the future.
            await redis.zadd(target, live ? alive : score, bytes(member));
          }
        }
        if (live && entry.type !== 'zset') await redis.expire(target, 3600);
      }
    }
  } finally {
    await redis.quit();
  }
}
