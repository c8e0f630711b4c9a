/**
 * Unit tests of the server's loop logic against an in-memory TaskConsumer: slots, outcomes, lifecycle,
 * backoff and shutdown bounds. The Redis behaviour is covered by the integration tests in test/.
 */
import { ShutdownError, ValidationError } from '@q/core';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeTaskConsumer, fakeMessage } from '../test/fake-task-consumer';
import { textMatching } from '../test/matchers';
import { deferred, delay, waitFor } from '../test/wait-for';
import type { Task, TaskContext } from './handler';
import { RevokeTask } from './revoke-task';
import { Server, type ServerStateChange } from './server';
import type { ServerOptions } from './server-options';
import { SkipRetry } from './skip-retry';
import { TaskAbortedError } from './task-aborted-error';

const servers: Server[] = [];

function createServer(broker: FakeTaskConsumer, options: Partial<ServerOptions> = {}): Server {
  const server = new Server({
    broker,
    concurrency: 4,
    taskCheckInterval: 50,
    heartbeatInterval: 1000,
    leaseDuration: 2000,
    shutdownTimeout: 1000,
    retryDelay: () => 1000,
    ...options,
  });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.shutdown({ force: true })));
});

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('Server processing (in-memory broker)', () => {
  it('hands the handler the decoded task and its context, then records success', async () => {
    const broker = new FakeTaskConsumer();
    const seen: { task: Task; context: TaskContext }[] = [];
    const server = createServer(broker);
    await server.start((task, context) => {
      seen.push({ task, context });
    });
    const message = broker.add(
      fakeMessage({
        payload: encode({ to: 'a@example.com' }),
        headers: { tenant: 'acme' },
        retried: 2,
        maxRetry: 5,
      }),
    );
    const kept = broker.add(fakeMessage({ retentionSeconds: 60 }));
    await waitFor(() => broker.outcomes.length === 2, 'both outcomes');
    expect(broker.outcomes).toEqual(
      expect.arrayContaining([
        { kind: 'done', id: message.id },
        { kind: 'complete', id: kept.id },
      ]),
    );
    const first = seen.find((entry) => entry.task.id === message.id)!;
    expect(first.task).toMatchObject({
      type: 'test:task',
      queue: 'default',
      payload: { to: 'a@example.com' },
      headers: { tenant: 'acme' },
      retried: 2,
      maxRetry: 5,
    });
    expect(first.task.payloadBytes).toEqual(message.payload);
    expect(first.context).toMatchObject({ taskId: message.id, retryCount: 2, maxRetry: 5, queue: 'default' });
    expect(first.context.signal.aborted).toBe(false);
  });

  it('turns every kind of failure into the outcome Asynq records', async () => {
    const broker = new FakeTaskConsumer();
    const errors: string[] = [];
    const server = createServer(broker, {
      retryDelay: (retried) => 1000 * (retried + 1),
      isFailure: (error) => !error.message.includes('not a failure'),
      onError: (error) => void errors.push(error.message),
    });
    await server.start(async (task) => {
      const kind = (task.payload as { kind: string }).kind;
      if (kind === 'throw') throw new Error('plain failure');
      // Handlers written in plain JavaScript throw anything; the server must say what happened.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      if (kind === 'reject-string') return Promise.reject('just a string');
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (kind === 'sync-non-error') throw 42;
      if (kind === 'skip') throw new Error('wrapped', { cause: new SkipRetry('bad address') });
      if (kind === 'revoke') throw new RevokeTask();
      if (kind === 'benign') throw new Error('not a failure');
      if (kind === 'exhausted') throw new Error('last try');
    });
    const add = (kind: string, extra = {}) =>
      broker.add(fakeMessage({ payload: encode({ kind }), ...extra }));
    const thrown = add('throw', { retried: 1 });
    const rejected = add('reject-string');
    const sync = add('sync-non-error');
    const skipped = add('skip');
    const revoked = add('revoke');
    const benign = add('benign');
    const exhausted = add('exhausted', { retried: 3, maxRetry: 3 });
    await waitFor(() => broker.outcomes.length === 7, 'seven outcomes');
    const outcome = (id: string) => broker.outcomes.find((entry) => entry.id === id);
    const before = Date.now();
    expect(outcome(thrown.id)).toMatchObject({
      kind: 'retry',
      options: { errorMessage: 'plain failure', isFailure: true },
    });
    const retryAt = (outcome(thrown.id) as { options: { processAt: number } }).options.processAt;
    expect(retryAt).toBeGreaterThan(before + 1000);
    expect(retryAt).toBeLessThanOrEqual(before + 3000);
    expect(retryAt % 1000).toBe(0);
    expect(outcome(rejected.id)).toMatchObject({
      kind: 'retry',
      options: {
        errorMessage: 'the handler threw a non-Error value (string): "just a string"; throw an Error instead',
      },
    });
    expect(outcome(sync.id)).toMatchObject({
      kind: 'retry',
      options: { errorMessage: textMatching(/\(number\): 42/) },
    });
    expect(outcome(skipped.id)).toEqual({ kind: 'archive', id: skipped.id, errorMessage: 'wrapped' });
    expect(outcome(revoked.id)).toEqual({ kind: 'done', id: revoked.id });
    expect(outcome(benign.id)).toMatchObject({ kind: 'retry', options: { isFailure: false } });
    expect(outcome(exhausted.id)).toEqual({ kind: 'archive', id: exhausted.id, errorMessage: 'last try' });
    await waitFor(() => errors.length === 7, 'onError for every failure');
  });

  it('asks for as many tasks as there are free slots in one dequeue', async () => {
    const broker = new FakeTaskConsumer();
    for (let index = 0; index < 5; index += 1) broker.add(fakeMessage());
    const release = deferred();
    const server = createServer(broker, { concurrency: 5 });
    await server.start(() => release.promise);
    await waitFor(() => server.runningTasks().length === 5, 'five running tasks');
    expect(broker.dequeueCalls[0]).toMatchObject({ count: 5 });
    expect(broker.dequeueCalls.length).toBe(1);
    release.resolve();
    await waitFor(() => broker.outcomes.length === 5, 'five outcomes');
  });

  it('keeps the slot of a handler that ignores its abort signal until it settles, and reports it overdue', async () => {
    const broker = new FakeTaskConsumer();
    const overdue: string[] = [];
    const release = deferred();
    const server = createServer(broker, { concurrency: 1 });
    server.on('taskOverdue', (task) => overdue.push(task.id));
    const started: string[] = [];
    await server.start(async (task) => {
      started.push(task.id);
      if ((task.payload as { hang?: boolean }).hang) await release.promise; // ignores its signal
    });
    const stubborn = broker.add(fakeMessage({ timeoutSeconds: 1, payload: encode({ hang: true }) }));
    const next = broker.add(fakeMessage());
    await waitFor(
      () => broker.outcomes.some((entry) => entry.id === stubborn.id),
      'the timeout to be recorded',
    );
    expect(broker.outcomes[0]).toMatchObject({
      kind: 'retry',
      options: { errorMessage: textMatching(/^context deadline exceeded/) },
    });
    await waitFor(() => overdue.length === 1, 'the overdue report');
    expect(server.runningTasks()).toEqual([expect.objectContaining({ id: stubborn.id, overdue: true })]);
    await delay(200);
    expect(started).toEqual([stubborn.id]); // the next task waits for the slot
    release.resolve();
    await waitFor(() => broker.outcomes.some((entry) => entry.id === next.id), 'the next task');
    expect(started).toEqual([stubborn.id, next.id]);
  });

  it('aborts the handler on cancel and retries the task', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker);
    const reasons: unknown[] = [];
    await server.start(
      (_task, context) =>
        new Promise<void>((resolve) => {
          context.signal.addEventListener('abort', () => {
            reasons.push(context.signal.reason);
            resolve();
          });
        }),
    );
    const message = broker.add(fakeMessage());
    await waitFor(() => server.runningTasks().length === 1, 'the task to run');
    broker.cancel(message.id);
    await waitFor(() => broker.outcomes.length === 1, 'the outcome');
    expect(reasons[0]).toBeInstanceOf(TaskAbortedError);
    expect((reasons[0] as TaskAbortedError).reason).toBe('cancel');
    expect(broker.outcomes[0]).toMatchObject({
      kind: 'retry',
      options: { errorMessage: textMatching(/^context canceled/) },
    });
  });

  it('stops a task whose lease was lost and records nothing for it', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker);
    const aborted = deferred<unknown>();
    await server.start(async (_task, context) => {
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      aborted.resolve(context.signal.reason);
    });
    const message = broker.add(fakeMessage());
    await waitFor(() => server.runningTasks().length === 1, 'the task to run');
    broker.stealLease(message.id);
    const reason = await aborted.promise;
    expect((reason as TaskAbortedError).reason).toBe('lease-lost');
    await waitFor(() => server.runningTasks().length === 0, 'the slot to free');
    expect(broker.outcomes).toEqual([]);
  });

  it('does not start a task whose deadline already passed, and records the failure', async () => {
    const broker = new FakeTaskConsumer();
    let ran = false;
    const server = createServer(broker);
    await server.start(() => void (ran = true));
    const message = broker.add(
      fakeMessage({ timeoutSeconds: 0, deadlineUnixSeconds: Math.floor(Date.now() / 1000) - 5 }),
    );
    await waitFor(() => broker.outcomes.length === 1, 'the outcome');
    expect(ran).toBe(false);
    expect(broker.outcomes[0]).toMatchObject({
      id: message.id,
      kind: 'retry',
      options: { errorMessage: textMatching(/deadline/) },
    });
  });

  it('archives a task whose payload the codec cannot decode', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker, {
      codec: {
        encode: () => new Uint8Array(0),
        decode: () => {
          throw new Error('not msgpack');
        },
      },
    });
    await server.start(() => undefined);
    const message = broker.add(fakeMessage());
    await waitFor(() => broker.outcomes.length === 1, 'the outcome');
    expect(broker.outcomes[0]).toEqual({
      kind: 'archive',
      id: message.id,
      errorMessage: "the payload could not be decoded by the server's codec: not msgpack",
    });
  });

  it('writes results, and refuses to once the attempt was aborted', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker);
    const late = deferred<unknown>();
    await server.start(async (task, context) => {
      if (task.type === 'late') {
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
        late.resolve(await context.writeResult(encode('x')).catch((error: unknown) => error));
        return;
      }
      await context.writeResult(encode('ok'));
    });
    const message = broker.add(fakeMessage());
    await waitFor(() => broker.results.has(message.id), 'the result');
    const cancelled = broker.add(fakeMessage({ type: 'late' }));
    await waitFor(() => server.runningTasks().length === 1, 'the late task');
    broker.cancel(cancelled.id);
    expect(String(await late.promise)).toMatch(/failed to write task result: context canceled/);
  });
});

describe('Server with an unreachable broker (in-memory broker)', () => {
  it('backs off instead of spinning, says so, and resumes by itself', async () => {
    const broker = new FakeTaskConsumer();
    broker.unreachable = true;
    const changes: boolean[] = [];
    const server = createServer(broker);
    server.on('brokerReachability', (change) => changes.push(change.reachable));
    await server.start(() => undefined);
    await delay(1500);
    expect(server.brokerReachable).toBe(false);
    // Exponential backoff from 100 ms: a handful of attempts in 1.5 s, not thousands.
    expect(broker.dequeueCalls.length).toBeLessThan(12);
    broker.restore();
    const message = broker.add(fakeMessage());
    await waitFor(
      () => broker.outcomes.some((entry) => entry.id === message.id),
      'processing to resume',
      5000,
    );
    expect(server.brokerReachable).toBe(true);
    expect(changes).toEqual([false, true]);
    await waitFor(
      () => broker.serverStates.at(-1)?.server.lifecycle?.brokerReachable === true,
      'the state to say the broker is back',
    );
  });
  it('waits for a dequeue queued while the broker is unreachable instead of issuing another', async () => {
    const broker = new FakeTaskConsumer();
    broker.hanging = true;
    const server = createServer(broker);
    await server.start(() => undefined);
    await waitFor(() => !server.brokerReachable, 'the slow dequeue to count as unreachable', 5000);
    await delay(500);
    // The first dequeue is still waiting for Redis: it runs when Redis returns and must not be doubled.
    expect(broker.dequeueCalls.length).toBe(1);
    expect(server.lastFetchAt).toBeGreaterThan(Date.now() - 2500);
    broker.add(fakeMessage());
    broker.restore();
    await waitFor(() => broker.outcomes.length === 1, 'the task, taken by that same dequeue');
    expect(server.brokerReachable).toBe(true);
  });
});

describe('Server lifecycle (in-memory broker)', () => {
  it('goes new → running → quiet → running → draining → closed, with an event for each change', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker);
    const changes: ServerStateChange[] = [];
    server.on('state', (change) => changes.push(change));
    expect(server.state).toBe('new');
    await server.start(() => undefined);
    expect(server.state).toBe('running');
    server.stop();
    expect(server.state).toBe('quiet');
    await delay(100);
    const callsWhenQuiet = broker.dequeueCalls.length;
    broker.add(fakeMessage());
    await delay(300);
    expect(broker.dequeueCalls.length).toBe(callsWhenQuiet);
    server.resume();
    await waitFor(() => broker.outcomes.length === 1, 'the task after resume');
    await server.shutdown();
    expect(server.state).toBe('closed');
    expect(changes.map((change) => `${change.from}>${change.to}`)).toEqual([
      'new>running',
      'running>quiet',
      'quiet>running',
      'running>draining',
      'draining>closed',
    ]);
    expect(broker.cleared).toBe(true);
    await expect(server.start(() => undefined)).rejects.toBeInstanceOf(ShutdownError);
  });

  it('refuses a second start and a non-handler', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker);
    await expect(server.start(42 as never)).rejects.toBeInstanceOf(ValidationError);
    await server.start(() => undefined);
    await expect(server.start(() => undefined)).rejects.toThrow(/already called/);
  });

  it('publishes the lifecycle, workers and recorded signal with the heartbeat', async () => {
    const broker = new FakeTaskConsumer();
    const release = deferred();
    const server = createServer(broker, { queues: { critical: 6, low: 1 }, concurrency: 3 });
    await server.start(() => release.promise);
    const message = broker.add(fakeMessage({ queue: 'low' }));
    await waitFor(() => server.runningTasks().length === 1, 'the task to run');
    server.recordSignal('SIGTSTP');
    server.stop();
    const published = await waitFor(
      () =>
        broker.serverStates.find(
          (entry) => entry.server.lifecycle?.lastSignal === 'SIGTSTP' && entry.server.status === 'stopped',
        ),
      'a heartbeat with the signal',
    );
    expect(published.ttl).toBe(2000);
    expect(published.server).toMatchObject({
      serverId: server.id,
      pid: process.pid,
      concurrency: 3,
      queues: { critical: 6, low: 1 },
      activeWorkerCount: 1,
      lifecycle: { state: 'quiet', brokerReachable: true },
    });
    expect(published.workers).toEqual([expect.objectContaining({ taskId: message.id, queue: 'low' })]);
    release.resolve();
  });

  it('shutdown waits for running tasks that finish in time', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker, { shutdownTimeout: 2000 });
    await server.start(() => delay(300));
    const message = broker.add(fakeMessage());
    await waitFor(() => server.runningTasks().length === 1, 'the task to run');
    await server.shutdown();
    expect(broker.outcomes).toEqual([{ kind: 'done', id: message.id }]);
    expect(server.forced).toBe(false);
  });

  it('shutdown aborts hung handlers at the deadline and requeues their tasks without a retry', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker, { shutdownTimeout: 300 });
    const reasons: unknown[] = [];
    await server.start(async (_task, context) => {
      context.signal.addEventListener('abort', () => reasons.push(context.signal.reason));
      await new Promise(() => undefined); // never settles
    });
    const messages = [broker.add(fakeMessage()), broker.add(fakeMessage())];
    await waitFor(() => server.runningTasks().length === 2, 'both tasks to run');
    const started = Date.now();
    await server.shutdown();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1300);
    expect(broker.outcomes).toEqual(messages.map((message) => ({ kind: 'requeue', id: message.id })));
    expect(reasons.map((reason) => (reason as TaskAbortedError).reason)).toEqual(['shutdown', 'shutdown']);
    expect(server.forced).toBe(true);
    expect(server.state).toBe('closed');
  });

  it('a forced shutdown hastens a shutdown in progress', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker, { shutdownTimeout: 20_000 });
    await server.start(() => new Promise(() => undefined));
    broker.add(fakeMessage());
    await waitFor(() => server.runningTasks().length === 1, 'the task to run');
    const started = Date.now();
    const draining = server.shutdown();
    await delay(100);
    expect(server.state).toBe('draining');
    const forced = server.shutdown({ force: true });
    expect(forced).toBe(draining);
    await forced;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(broker.outcomes).toEqual([expect.objectContaining({ kind: 'requeue' })]);
  });

  it('shutdown ends within its deadline plus a second when every broker call hangs', async () => {
    const broker = new FakeTaskConsumer();
    const server = createServer(broker, { shutdownTimeout: 300 });
    await server.start(() => new Promise(() => undefined));
    broker.add(fakeMessage());
    await waitFor(() => server.runningTasks().length === 1, 'the task to run');
    broker.hanging = true;
    const started = Date.now();
    await server.shutdown();
    expect(Date.now() - started).toBeLessThan(1300);
    expect(server.state).toBe('closed');
    broker.restore();
  });

  it('shutting down a server that never started closes it at once', async () => {
    const server = createServer(new FakeTaskConsumer());
    await server.shutdown();
    expect(server.state).toBe('closed');
  });
});
