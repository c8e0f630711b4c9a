/** Processing against the real Redis broker: handlers, outcomes, retries, timeouts, cancel, queue order. */
import { TaskNotFoundError, defineTask } from '@q/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Task, TaskContext } from '../src/handler';
import { RevokeTask } from '../src/revoke-task';
import { ServeMux } from '../src/serve-mux';
import { SkipRetry } from '../src/skip-retry';
import { type TaskAbortedError } from '../src/task-aborted-error';
import { createHarness, queueName } from './harness';
import { runFixture } from './run-fixture';
import { deferred, delay, waitFor } from './wait-for';

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

describe('Server against Redis: processing', () => {
  it('runs the handler with the task and its context, then deletes the task', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('basic');
    const seen: { task: Task; context: TaskContext }[] = [];
    const mux = new ServeMux().handle('email:', (task, context) => void seen.push({ task, context }));
    await server({ queues: { [queue]: 1 } }).start(mux);
    const info = await client.enqueue(
      'email:send',
      { to: 'a@example.com' },
      { queue, headers: { tenant: 'acme' }, maxRetry: 3 },
    );
    await waitFor(() => seen.length === 1, 'the handler');
    const [{ task, context }] = seen as [{ task: Task; context: TaskContext }];
    expect(task).toMatchObject({
      id: info.id,
      type: 'email:send',
      queue,
      payload: { to: 'a@example.com' },
      headers: { tenant: 'acme' },
    });
    expect(text(task.payloadBytes)).toBe('{"to":"a@example.com"}');
    expect(context).toMatchObject({ taskId: info.id, retryCount: 0, maxRetry: 3, queue });
    await waitFor(
      () =>
        broker.getTask(queue, info.id).then(
          () => false,
          (error: unknown) => error instanceof TaskNotFoundError,
        ),
      'the task to be deleted',
    );
    const stats = await broker.queueStats(queue, Date.now());
    expect(stats).toMatchObject({ processedToday: 1, failedToday: 0, pending: 0, active: 0 });
  });

  it('keeps a task with retention as completed, with the result the handler wrote', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('retention');
    await server({ queues: { [queue]: 1 } }).start(async (_task, context) => {
      await context.writeResult(new TextEncoder().encode('ok'));
    });
    const info = await client.enqueue('report', {}, { queue, retention: '1h' });
    const stored = await waitFor(async () => {
      const found = await broker.getTask(queue, info.id).catch(() => undefined);
      return found?.state === 'completed' ? found : undefined;
    }, 'the completed task');
    expect(text(stored.result)).toBe('ok');
    expect(stored.message.completedAtUnixSeconds).toBeGreaterThan(0);
  });

  it('retries with the configured delay, then succeeds', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('retry');
    const attempts: { at: number; retryCount: number }[] = [];
    await server({ queues: { [queue]: 1 }, retryDelay: () => 1000 }).start((_task, context) => {
      attempts.push({ at: Date.now(), retryCount: context.retryCount });
      if (attempts.length === 1) throw new Error('first attempt fails');
    });
    const info = await client.enqueue('flaky', {}, { queue });
    await waitFor(() => attempts.length === 1, 'the first attempt');
    const retrying = await broker.getTask(queue, info.id);
    expect(retrying.state).toBe('retry');
    expect(retrying.message).toMatchObject({ retried: 1, errorMessage: 'first attempt fails' });
    await waitFor(() => attempts.length === 2, 'the second attempt');
    expect(attempts[1]!.retryCount).toBe(1);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1000);
    const stats = await broker.queueStats(queue, Date.now());
    expect(stats).toMatchObject({ processedToday: 2, failedToday: 1 });
  });

  it('archives after the last retry, with the last error', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('exhaust');
    let attempts = 0;
    await server({ queues: { [queue]: 1 } }).start(() => {
      attempts += 1;
      throw new Error(`attempt ${attempts} failed`);
    });
    const info = await client.enqueue('doomed', {}, { queue, maxRetry: 2 });
    const archived = await waitFor(async () => {
      const found = await broker.getTask(queue, info.id);
      return found.state === 'archived' ? found : undefined;
    }, 'the archived task');
    expect(attempts).toBe(3);
    expect(archived.message).toMatchObject({ retried: 2, maxRetry: 2, errorMessage: 'attempt 3 failed' });
  });

  it('archives at once on SkipRetry and deletes on RevokeTask', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('skip');
    const mux = new ServeMux()
      .handle('skip', () => {
        throw new SkipRetry('the address is invalid');
      })
      .handle('revoke', () => {
        throw new RevokeTask('no longer wanted');
      });
    await server({ queues: { [queue]: 1 } }).start(mux);
    const skipped = await client.enqueue('skip', {}, { queue });
    const revoked = await client.enqueue('revoke', {}, { queue });
    await waitFor(async () => (await broker.getTask(queue, skipped.id)).state === 'archived', 'the archive');
    expect((await broker.getTask(queue, skipped.id)).message).toMatchObject({
      retried: 0,
      errorMessage: 'the address is invalid',
    });
    await waitFor(
      () =>
        broker.getTask(queue, revoked.id).then(
          () => false,
          () => true,
        ),
      'the revoked task to be deleted',
    );
  });

  it('fails rejected promises, synchronous throws and non-Error values with a useful message', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('throws');
    const mux = new ServeMux()
      .handle('sync', () => {
        throw new Error('thrown synchronously');
      })
      .handle('rejected', () => Promise.reject(new Error('rejected later')))
      .handle('string', () => {
        // Plain JavaScript handlers throw anything; the stored error must still say what happened.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'a bare string';
      });
    await server({ queues: { [queue]: 1 }, retryDelay: () => 3_600_000 }).start(mux);
    const ids = await Promise.all(
      ['sync', 'rejected', 'string', 'unknown:type'].map((type) => client.enqueue(type, {}, { queue })),
    );
    const errors = await waitFor(async () => {
      const found = await Promise.all(ids.map((info) => broker.getTask(queue, info.id)));
      return found.every((task) => task.state === 'retry')
        ? found.map((task) => task.message.errorMessage)
        : undefined;
    }, 'four retries');
    expect(errors).toEqual([
      'thrown synchronously',
      'rejected later',
      'the handler threw a non-Error value (string): "a bare string"; throw an Error instead',
      'no handler for task type "unknown:type": register one with mux.handle("unknown:type", handler) or with a prefix of the type',
    ]);
  });

  it('validates typed payloads with the definition schema', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('typed');
    const sendEmail = defineTask('email:send', z.object({ to: z.string() }));
    const received: string[] = [];
    await server({ queues: { [queue]: 1 } }).start(
      new ServeMux().handle(sendEmail, (task) => void received.push(task.payload.to)),
    );
    await client.enqueue('email:send', { to: 'a@example.com' }, { queue });
    const invalid = await client.enqueue('email:send', { to: 7 }, { queue });
    await waitFor(
      async () => (await broker.getTask(queue, invalid.id)).state === 'archived',
      'the invalid payload archived',
    );
    expect(received).toEqual(['a@example.com']);
    expect((await broker.getTask(queue, invalid.id)).message.errorMessage).toMatch(/payload\.to/);
  });

  it('aborts the handler at its timeout and at its deadline', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('timeout');
    const reasons = new Map<string, string>();
    await server({ queues: { [queue]: 2 }, retryDelay: () => 3_600_000 }).start(
      (task, context) =>
        new Promise<void>((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            reasons.set(task.id, (context.signal.reason as TaskAbortedError).reason);
            reject(context.signal.reason as Error);
          });
        }),
    );
    const started = Date.now();
    const timedOut = await client.enqueue('slow', {}, { queue, timeout: '1s' });
    const deadlined = await client.enqueue('slow', {}, { queue, deadline: Date.now() + 2000 });
    await waitFor(() => reasons.size === 2, 'both aborts');
    expect(reasons.get(timedOut.id)).toBe('timeout');
    expect(reasons.get(deadlined.id)).toBe('deadline');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const errors = await waitFor(async () => {
      const found = await Promise.all([timedOut, deadlined].map((info) => broker.getTask(queue, info.id)));
      return found.every((task) => task.state === 'retry')
        ? found.map((task) => task.message.errorMessage)
        : undefined;
    }, 'both retried');
    expect(errors[0]).toMatch(/^context deadline exceeded: the task ran longer than its timeout/);
    expect(errors[1]).toMatch(/^context deadline exceeded: the task passed its deadline/);
  });

  it('never aborts a handler before the deadline it was given, to the millisecond', async () => {
    const { client, server } = createHarness();
    const queue = queueName('deadline');
    const aborted = new Map<string, { at: number; reason: string; deadline: number }>();
    await server({ queues: { [queue]: 3 }, retryDelay: () => 3_600_000 }).start(
      (task, context) =>
        new Promise<void>((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            const reason = (context.signal.reason as TaskAbortedError).reason;
            aborted.set(task.id, { at: Date.now(), reason, deadline: context.deadline.getTime() });
            reject(context.signal.reason as Error);
          });
        }),
    );
    // Deadlines 1.1 to 2.9 s ahead, each with milliseconds: a floor to whole seconds would end them early.
    const nextSecond = (Math.floor(Date.now() / 1000) + 2) * 1000;
    const deadlines = [153, 547, 953].map((milliseconds) => nextSecond + milliseconds);
    const infos = await Promise.all(
      deadlines.map((deadline) => client.enqueue('slow', {}, { queue, deadline })),
    );
    await waitFor(() => aborted.size === deadlines.length, 'every deadline abort');
    infos.forEach((info, index) => {
      const given = deadlines[index]!;
      const abort = aborted.get(info.id)!;
      expect(abort.reason).toBe('deadline');
      expect(abort.deadline).toBe(Math.ceil(given / 1000) * 1000);
      expect(abort.at).toBeGreaterThanOrEqual(given);
    });
  });

  it('aborts a running handler when another process publishes a cancel request', async () => {
    const harness = createHarness();
    const { client, broker, server } = harness;
    const queue = queueName('cancel');
    const started = deferred<string>();
    const aborted = deferred<unknown>();
    await server({ queues: { [queue]: 1 }, retryDelay: () => 3_600_000 }).start(async (task, context) => {
      started.resolve(task.id);
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      aborted.resolve(context.signal.reason);
      throw context.signal.reason as Error;
    });
    const info = await client.enqueue('long', {}, { queue });
    expect(await started.promise).toBe(info.id);
    await runFixture('publish-cancel', [harness.url, harness.prefix, info.id]);
    expect(((await aborted.promise) as TaskAbortedError).reason).toBe('cancel');
    await waitFor(async () => (await broker.getTask(queue, info.id)).state === 'retry', 'the retry');
    expect((await broker.getTask(queue, info.id)).message.errorMessage).toMatch(/^context canceled/);
  });

  it('keeps the slot of a handler that ignores its abort signal, and reports it overdue', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('overdue');
    const release = deferred();
    const started: string[] = [];
    const instance = server({ queues: { [queue]: 1 }, concurrency: 1, retryDelay: () => 3_600_000 });
    const overdue: string[] = [];
    instance.on('taskOverdue', (task) => overdue.push(task.id));
    await instance.start(async (task) => {
      started.push(task.type);
      if (task.type === 'stubborn') await release.promise;
    });
    const stubborn = await client.enqueue('stubborn', {}, { queue, timeout: '1s' });
    await client.enqueue('next', {}, { queue });
    await waitFor(() => overdue.length === 1, 'the overdue report');
    expect((await broker.getTask(queue, stubborn.id)).state).toBe('retry');
    expect(instance.runningTasks()).toEqual([expect.objectContaining({ id: stubborn.id, overdue: true })]);
    await delay(300);
    expect(started).toEqual(['stubborn']);
    release.resolve();
    await waitFor(() => started.length === 2, 'the next task to start in the freed slot');
  });

  it('serves weighted queues about 60/30/10 when all are full', async () => {
    const { client, server } = createHarness();
    const queues = { critical: queueName('critical'), default: queueName('default'), low: queueName('low') };
    const order: string[] = [];
    const total = 300;
    for (const queue of Object.values(queues)) {
      await client.enqueueMany(
        Array.from({ length: total }, () => ({ type: 'weighted', payload: {}, options: { queue } })),
      );
    }
    const instance = server({
      queues: { [queues.critical]: 6, [queues.default]: 3, [queues.low]: 1 },
      concurrency: 1,
    });
    await instance.start((task) => void order.push(task.queue));
    // Every queue still holds tasks during the first 300 dequeues.
    await waitFor(() => order.length >= total, `${total} tasks`, 20_000);
    await instance.shutdown();
    const sample = order.slice(0, total);
    const share = (queue: string) => sample.filter((name) => name === queue).length / total;
    expect(share(queues.critical)).toBeGreaterThan(0.5);
    expect(share(queues.critical)).toBeLessThan(0.7);
    expect(share(queues.default)).toBeGreaterThan(0.2);
    expect(share(queues.default)).toBeLessThan(0.4);
    expect(share(queues.low)).toBeGreaterThan(0.04);
    expect(share(queues.low)).toBeLessThan(0.17);
  });

  it('serves queues strictly by weight with strictPriority', async () => {
    const { client, server } = createHarness();
    const high = queueName('high');
    const low = queueName('low');
    for (const queue of [low, high]) {
      await client.enqueueMany(
        Array.from({ length: 20 }, () => ({ type: 'strict', payload: {}, options: { queue } })),
      );
    }
    const order: string[] = [];
    await server({ queues: { [high]: 2, [low]: 1 }, strictPriority: true, concurrency: 1 }).start(
      (task) => void order.push(task.queue),
    );
    await waitFor(() => order.length === 40, 'every task');
    expect(order.slice(0, 20).every((queue) => queue === high)).toBe(true);
  });

  it('leaves a paused queue alone until it is resumed', async () => {
    const { client, broker, server } = createHarness();
    const paused = queueName('paused');
    const open = queueName('open');
    const seen: string[] = [];
    await client.enqueue('a', {}, { queue: paused });
    await broker.pauseQueue(paused);
    await server({ queues: { [paused]: 1, [open]: 1 } }).start((task) => void seen.push(task.queue));
    await client.enqueue('b', {}, { queue: open });
    await waitFor(() => seen.length === 1, 'the open queue');
    await delay(500);
    expect(seen).toEqual([open]);
    await broker.unpauseQueue(paused);
    await waitFor(() => seen.length === 2, 'the resumed queue');
  });
});
