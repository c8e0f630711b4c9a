/**
 * Unit tests of the server's loop logic on the memory broker and a manual clock: slots, outcomes,
 * lifecycle, backoff and shutdown bounds, timed on the clock instead of waited for. The Redis behaviour
 * is covered by the integration tests in test/.
 */
import { ShutdownError, ValidationError } from '@q/core';
import { afterEach, describe, expect, it } from 'vitest';
import { textMatching } from '../test/matchers';
import { createTestBroker, testMessage, type TestBroker } from '../test/test-broker';
import { deferred } from '../test/wait-for';
import type { Task, TaskContext } from './handler';
import { RevokeTask } from './revoke-task';
import { Server, type ServerStateChange } from './server';
import type { ServerOptions } from './server-options';
import { SkipRetry } from './skip-retry';
import { TaskAbortedError } from './task-aborted-error';

const servers: { server: Server; broker: TestBroker }[] = [];

function createServer(broker: TestBroker, options: Partial<ServerOptions> = {}): Server {
  const server = new Server({
    broker,
    clock: broker.clock,
    concurrency: 4,
    taskCheckInterval: 50,
    heartbeatInterval: 1000,
    leaseDuration: 2000,
    shutdownTimeout: 1000,
    retryDelay: () => 1000,
    ...options,
  });
  servers.push({ server, broker });
  return server;
}

afterEach(async () => {
  for (const { server, broker } of servers.splice(0)) {
    broker.restore();
    await shutdown(server, broker, { force: true });
  }
});

/** Moves the clock from timer to timer until `check` returns a truthy value, and returns it. */
async function waitFor<T>(broker: TestBroker, check: () => T, what: string): Promise<NonNullable<T>> {
  let value: T | undefined;
  try {
    await broker.clock.advanceUntil(() => Boolean((value = check())), { limit: '5m' });
  } catch (error) {
    throw new Error(`waiting for ${what}: ${(error as Error).message}`, { cause: error });
  }
  return value as NonNullable<T>;
}

/** Shuts the server down, moving the clock until it closed; resolves with the clock time it took. */
async function shutdown(
  server: Server,
  broker: TestBroker,
  options?: Parameters<Server['shutdown']>[0],
): Promise<number> {
  const started = broker.clock.now();
  const closing = server.shutdown(options);
  await broker.clock.advanceUntil(() => server.state === 'closed', { limit: '5m' });
  await closing;
  return broker.clock.now() - started;
}

/** Starts the server while moving the clock (a start waits up to 1 s for the cancel subscription). */
async function start(server: Server, broker: TestBroker, handler: Parameters<Server['start']>[0]) {
  const starting = server.start(handler);
  await broker.clock.advance(1000);
  await starting;
}

/** Resolves after `milliseconds` of the broker's clock. */
const sleep = (broker: TestBroker, milliseconds: number): Promise<void> =>
  new Promise((resolve) => broker.clock.setTimeout(resolve, milliseconds));

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('Server processing (in-memory broker)', () => {
  it('hands the handler the decoded task and its context, then records success', async () => {
    const broker = createTestBroker();
    const seen: { task: Task; context: TaskContext }[] = [];
    const server = createServer(broker);
    await server.start((task, context) => {
      seen.push({ task, context });
    });
    const message = broker.add(
      testMessage({
        payload: encode({ to: 'a@example.com' }),
        headers: { tenant: 'acme' },
        retried: 2,
        maxRetry: 5,
      }),
    );
    const kept = broker.add(testMessage({ retentionSeconds: 60 }));
    await waitFor(broker, () => broker.outcomes.length === 2, 'both outcomes');
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
    const broker = createTestBroker();
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
      broker.add(testMessage({ payload: encode({ kind }), ...extra }));
    const thrown = add('throw', { retried: 1 });
    const rejected = add('reject-string');
    const sync = add('sync-non-error');
    const skipped = add('skip');
    const revoked = add('revoke');
    const benign = add('benign');
    const exhausted = add('exhausted', { retried: 3, maxRetry: 3 });
    await waitFor(broker, () => broker.outcomes.length === 7, 'seven outcomes');
    const outcome = (id: string) => broker.outcomes.find((entry) => entry.id === id);
    const before = broker.clock.now();
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
    await waitFor(broker, () => errors.length === 7, 'onError for every failure');
  });

  it('shares the free slots among two dequeues in flight, never asking for more than are free', async () => {
    const broker = createTestBroker();
    for (let index = 0; index < 5; index += 1) broker.add(testMessage());
    const release = deferred();
    const server = createServer(broker, { concurrency: 5 });
    await server.start(() => release.promise);
    await waitFor(broker, () => server.runningTasks().length === 5, 'five running tasks');
    // Two lanes of at most three slots (5 / 2, rounded up): 3 + 2.
    const counts = broker.dequeueCalls.map((call) => call.count);
    expect(counts.toSorted()).toEqual([2, 3]);
    release.resolve();
    await waitFor(broker, () => broker.outcomes.length === 5, 'five outcomes');
  });

  it('at concurrency 40 dequeues in four lanes of ten, and never runs more tasks than slots', async () => {
    const broker = createTestBroker();
    for (let index = 0; index < 100; index += 1) broker.add(testMessage());
    const release = deferred();
    const server = createServer(broker, { concurrency: 40 });
    await server.start(() => release.promise);
    await waitFor(broker, () => server.runningTasks().length === 40, 'forty running tasks');
    await broker.clock.advance(200);
    expect(server.runningTasks()).toHaveLength(40);
    expect(broker.dequeueCalls.map((call) => call.count)).toEqual([10, 10, 10, 10]);
    release.resolve();
    await waitFor(broker, () => broker.outcomes.length === 100, 'every outcome');
  });

  it('polls idle queues with one lane only: one dequeue per check interval, not one per lane', async () => {
    const broker = createTestBroker();
    const server = createServer(broker, { concurrency: 40 });
    await server.start(() => undefined);
    await waitFor(broker, () => broker.dequeueCalls.length >= 1, 'the first dequeue');
    const before = broker.dequeueCalls.length;
    for (let step = 0; step < 10; step += 1) await broker.clock.advance(50);
    // Ten intervals of 50 ms: about ten polls (one more or less at the edges), not forty.
    const polls = broker.dequeueCalls.length - before;
    expect(polls).toBeGreaterThanOrEqual(9);
    expect(polls).toBeLessThanOrEqual(11);
    // A task enqueued now is still found, and the lanes wake to share a backlog.
    for (let index = 0; index < 30; index += 1) broker.add(testMessage());
    await broker.clock.advance(50);
    await waitFor(broker, () => broker.outcomes.length === 30, 'the thirty tasks');
  });

  it('keeps the slot of a handler that ignores its abort signal until it settles, and reports it overdue', async () => {
    const broker = createTestBroker();
    const overdue: string[] = [];
    const release = deferred();
    const server = createServer(broker, { concurrency: 1 });
    server.on('taskOverdue', (task) => overdue.push(task.id));
    const started: string[] = [];
    await server.start(async (task) => {
      started.push(task.id);
      if ((task.payload as { hang?: boolean }).hang) await release.promise; // ignores its signal
    });
    const stubborn = broker.add(testMessage({ timeoutSeconds: 1, payload: encode({ hang: true }) }));
    const next = broker.add(testMessage());
    await waitFor(
      broker,
      () => broker.outcomes.some((entry) => entry.id === stubborn.id),
      'the timeout to be recorded',
    );
    expect(broker.outcomes[0]).toMatchObject({
      kind: 'retry',
      options: { errorMessage: textMatching(/^context deadline exceeded/) },
    });
    await waitFor(broker, () => overdue.length === 1, 'the overdue report');
    expect(server.runningTasks()).toEqual([expect.objectContaining({ id: stubborn.id, overdue: true })]);
    await broker.clock.advance(200);
    expect(started).toEqual([stubborn.id]); // the next task waits for the slot
    release.resolve();
    await waitFor(broker, () => broker.outcomes.some((entry) => entry.id === next.id), 'the next task');
    expect(started).toEqual([stubborn.id, next.id]);
  });

  it('aborts the handler on cancel and retries the task', async () => {
    const broker = createTestBroker();
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
    const message = broker.add(testMessage());
    await waitFor(broker, () => server.runningTasks().length === 1, 'the task to run');
    broker.cancel(message.id);
    await waitFor(broker, () => broker.outcomes.length === 1, 'the outcome');
    expect(reasons[0]).toBeInstanceOf(TaskAbortedError);
    expect((reasons[0] as TaskAbortedError).reason).toBe('cancel');
    expect(broker.outcomes[0]).toMatchObject({
      kind: 'retry',
      options: { errorMessage: textMatching(/^context canceled/) },
    });
  });

  it('stops a task whose lease was lost and records nothing for it', async () => {
    const broker = createTestBroker();
    const server = createServer(broker);
    const aborted = deferred<unknown>();
    await server.start(async (_task, context) => {
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
      aborted.resolve(context.signal.reason);
    });
    const message = broker.add(testMessage());
    await waitFor(broker, () => server.runningTasks().length === 1, 'the task to run');
    broker.stealLease(message);
    let reason: unknown;
    void aborted.promise.then((value) => (reason = value));
    await waitFor(broker, () => reason, 'the abort');
    expect((reason as TaskAbortedError).reason).toBe('lease-lost');
    await waitFor(broker, () => server.runningTasks().length === 0, 'the slot to free');
    expect(broker.outcomes).toEqual([]);
  });

  it('does not start a task whose deadline already passed, and records the failure', async () => {
    const broker = createTestBroker();
    let ran = false;
    const server = createServer(broker);
    await server.start(() => void (ran = true));
    const message = broker.add(
      testMessage({ timeoutSeconds: 0, deadlineUnixSeconds: Math.floor(broker.clock.now() / 1000) - 5 }),
    );
    await waitFor(broker, () => broker.outcomes.length === 1, 'the outcome');
    expect(ran).toBe(false);
    expect(broker.outcomes[0]).toMatchObject({
      id: message.id,
      kind: 'retry',
      options: { errorMessage: textMatching(/deadline/) },
    });
  });

  it('archives a task whose payload the codec cannot decode', async () => {
    const broker = createTestBroker();
    const server = createServer(broker, {
      codec: {
        encode: () => new Uint8Array(0),
        decode: () => {
          throw new Error('not msgpack');
        },
      },
    });
    await server.start(() => undefined);
    const message = broker.add(testMessage());
    await waitFor(broker, () => broker.outcomes.length === 1, 'the outcome');
    expect(broker.outcomes[0]).toEqual({
      kind: 'archive',
      id: message.id,
      errorMessage: "the payload could not be decoded by the server's codec: not msgpack",
    });
  });

  it('writes results, and refuses to once the attempt was aborted', async () => {
    const broker = createTestBroker();
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
    const message = broker.add(testMessage());
    await waitFor(broker, () => broker.results.has(message.id), 'the result');
    const cancelled = broker.add(testMessage({ type: 'late' }));
    await waitFor(broker, () => server.runningTasks().length === 1, 'the late task');
    broker.cancel(cancelled.id);
    let written: unknown;
    void late.promise.then((value) => (written = value));
    await waitFor(broker, () => written, 'the late write');
    expect(String(written)).toMatch(/failed to write task result: context canceled/);
  });
});

describe('Server with an unreachable broker (in-memory broker)', () => {
  it('backs off instead of spinning, says so, and resumes by itself', async () => {
    const broker = createTestBroker();
    broker.unreachable = true;
    const changes: boolean[] = [];
    const server = createServer(broker);
    server.on('brokerReachability', (change) => changes.push(change.reachable));
    await start(server, broker, () => undefined);
    await broker.clock.advance(500);
    expect(server.brokerReachable).toBe(false);
    // Exponential backoff from 100 ms: a handful of attempts in 1.5 s, not thousands.
    expect(broker.dequeueCalls.length).toBeLessThan(12);
    broker.restore();
    const message = broker.add(testMessage());
    await waitFor(
      broker,
      () => broker.outcomes.some((entry) => entry.id === message.id),
      'processing to resume',
    );
    expect(server.brokerReachable).toBe(true);
    expect(changes).toEqual([false, true]);
    await waitFor(
      broker,
      () => broker.serverStates.at(-1)?.server.lifecycle?.brokerReachable === true,
      'the state to say the broker is back',
    );
  });
  it('waits for a dequeue queued while the broker is unreachable instead of issuing another', async () => {
    const broker = createTestBroker();
    broker.hanging = true;
    const server = createServer(broker);
    await start(server, broker, () => undefined);
    await waitFor(broker, () => !server.brokerReachable, 'the slow dequeue to count as unreachable');
    await broker.clock.advance(500);
    // The first dequeue is still waiting for Redis: it runs when Redis returns and must not be doubled.
    expect(broker.dequeueCalls.length).toBe(1);
    expect(server.lastFetchAt).toBeGreaterThan(broker.clock.now() - 2500);
    broker.add(testMessage());
    broker.restore();
    await waitFor(broker, () => broker.outcomes.length === 1, 'the task, taken by that same dequeue');
    expect(server.brokerReachable).toBe(true);
  });
});

describe('Server lifecycle (in-memory broker)', () => {
  it('goes new → running → quiet → running → draining → closed, with an event for each change', async () => {
    const broker = createTestBroker();
    const server = createServer(broker);
    const changes: ServerStateChange[] = [];
    server.on('state', (change) => changes.push(change));
    expect(server.state).toBe('new');
    await server.start(() => undefined);
    expect(server.state).toBe('running');
    server.stop();
    expect(server.state).toBe('quiet');
    await broker.clock.advance(100);
    const callsWhenQuiet = broker.dequeueCalls.length;
    broker.add(testMessage());
    await broker.clock.advance(300);
    expect(broker.dequeueCalls.length).toBe(callsWhenQuiet);
    server.resume();
    await waitFor(broker, () => broker.outcomes.length === 1, 'the task after resume');
    await shutdown(server, broker);
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
    const broker = createTestBroker();
    const server = createServer(broker);
    await expect(server.start(42 as never)).rejects.toBeInstanceOf(ValidationError);
    await server.start(() => undefined);
    await expect(server.start(() => undefined)).rejects.toThrow(/already called/);
  });

  it('publishes the lifecycle, workers and recorded signal with the heartbeat', async () => {
    const broker = createTestBroker();
    const release = deferred();
    const server = createServer(broker, { queues: { critical: 6, low: 1 }, concurrency: 3 });
    await server.start(() => release.promise);
    const message = broker.add(testMessage({ queue: 'low' }));
    await waitFor(broker, () => server.runningTasks().length === 1, 'the task to run');
    server.recordSignal('SIGTSTP');
    server.stop();
    const published = await waitFor(
      broker,
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
    const broker = createTestBroker();
    const server = createServer(broker, { shutdownTimeout: 2000 });
    await server.start(() => sleep(broker, 300));
    const message = broker.add(testMessage());
    await waitFor(broker, () => server.runningTasks().length === 1, 'the task to run');
    await shutdown(server, broker);
    expect(broker.outcomes).toEqual([{ kind: 'done', id: message.id }]);
    expect(server.forced).toBe(false);
  });

  it('shutdown aborts hung handlers at the deadline and requeues their tasks without a retry', async () => {
    const broker = createTestBroker();
    const server = createServer(broker, { shutdownTimeout: 300 });
    const reasons: unknown[] = [];
    await server.start(async (_task, context) => {
      context.signal.addEventListener('abort', () => reasons.push(context.signal.reason));
      await new Promise(() => undefined); // never settles
    });
    const messages = [broker.add(testMessage()), broker.add(testMessage())];
    await waitFor(broker, () => server.runningTasks().length === 2, 'both tasks to run');
    const took = await shutdown(server, broker);
    // On the clock, exactly: the deadline, then at most the requeue and close budgets.
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThanOrEqual(300 + 1000);
    expect(broker.outcomes).toEqual(messages.map((message) => ({ kind: 'requeue', id: message.id })));
    expect(reasons.map((reason) => (reason as TaskAbortedError).reason)).toEqual(['shutdown', 'shutdown']);
    expect(server.forced).toBe(true);
    expect(server.state).toBe('closed');
  });

  it('a forced shutdown hastens a shutdown in progress', async () => {
    const broker = createTestBroker();
    const server = createServer(broker, { shutdownTimeout: 20_000 });
    await server.start(() => new Promise(() => undefined));
    broker.add(testMessage());
    await waitFor(broker, () => server.runningTasks().length === 1, 'the task to run');
    const started = broker.clock.now();
    const draining = server.shutdown();
    await broker.clock.advance(100);
    expect(server.state).toBe('draining');
    const forced = server.shutdown({ force: true });
    expect(forced).toBe(draining);
    await shutdown(server, broker, { force: true });
    expect(broker.clock.now() - started).toBeLessThanOrEqual(100 + 1000);
    expect(broker.outcomes).toEqual([expect.objectContaining({ kind: 'requeue' })]);
  });

  it('shutdown ends within its deadline plus a second when every broker call hangs', async () => {
    const broker = createTestBroker();
    const server = createServer(broker, { shutdownTimeout: 300 });
    await server.start(() => new Promise(() => undefined));
    broker.add(testMessage());
    await waitFor(broker, () => server.runningTasks().length === 1, 'the task to run');
    broker.hanging = true;
    expect(await shutdown(server, broker)).toBeLessThanOrEqual(300 + 1000);
    expect(server.state).toBe('closed');
    broker.restore();
  });

  it('shutting down a server that never started closes it at once', async () => {
    const broker = createTestBroker();
    const server = createServer(broker);
    await server.shutdown();
    expect(server.state).toBe('closed');
  });
});
