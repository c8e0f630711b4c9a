/**
 * A real `Server` on the memory broker and a manual clock: retries, scheduled tasks, timeouts, lease
 * extension and the heartbeat, over minutes of clock time and no real waiting.
 */
import { createManualClock, createMemoryBroker, type ManualClock } from '@q/broker-memory';
import { Client } from '@q/client';
import type { Broker } from '@q/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from '../src/server';
import type { ServerOptions } from '../src/server-options';
import { deferred } from './wait-for';

interface Setup {
  clock: ManualClock;
  broker: Broker;
  client: Client;
  server: Server;
}

const running: Setup[] = [];

afterEach(async () => {
  for (const { clock, server, broker } of running.splice(0)) {
    const stopped = server.shutdown({ force: true });
    await clock.advanceUntil(() => server.state === 'closed');
    await stopped;
    await broker.close();
  }
});

function setup(options: Partial<ServerOptions> = {}): Setup {
  const clock = createManualClock({ now: Date.UTC(2026, 0, 1, 12, 0, 0) });
  const broker = createMemoryBroker({ clock });
  const client = new Client({ broker, now: clock.now });
  const server = new Server({ broker, clock, concurrency: 2, retryDelay: () => 30_000, ...options });
  const created = { clock, broker, client, server };
  running.push(created);
  return created;
}

describe('Server on the memory broker with a manual clock', () => {
  it('retries a failed task after its retry delay and completes it', async () => {
    const { clock, broker, client, server } = setup();
    const attempts: number[] = [];
    await server.start((task, context) => {
      attempts.push(clock.now());
      if (context.retryCount === 0) throw new Error('temporary outage');
    });
    const info = await client.enqueue('email:send', { to: 'a@example.com' }, { retention: '1h' });
    await clock.settle();
    const retrying = await broker.getTask('default', info.id);
    expect(retrying).toMatchObject({
      state: 'retry',
      message: { retried: 1, errorMessage: 'temporary outage' },
    });
    expect(retrying.nextProcessAt! - attempts[0]!).toBeGreaterThanOrEqual(30_000);

    await clock.advance('29s');
    expect(attempts).toHaveLength(1);
    // The forwarder moves due retries every 5 s: the task runs within 5 s of its retry time.
    await clock.advanceUntil(async () => (await broker.getTask('default', info.id)).state === 'completed', {
      limit: '10s',
    });
    expect(attempts).toHaveLength(2);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(30_000);
    expect(attempts[1]! - attempts[0]!).toBeLessThanOrEqual(36_000);
  });

  it('runs a task enqueued with processIn once its time came, not before', async () => {
    const { clock, broker, client, server } = setup();
    const ran: number[] = [];
    await server.start(() => void ran.push(clock.now()));
    const enqueuedAt = clock.now();
    const info = await client.enqueue('report', {}, { processIn: '10m' });
    expect(info.state).toBe('scheduled');
    await clock.advance('9m59s');
    expect(ran).toEqual([]);
    await clock.advance('6s');
    expect(ran).toHaveLength(1);
    expect(ran[0]! - enqueuedAt).toBeGreaterThanOrEqual(600_000);
    await expect(broker.getTask('default', info.id)).rejects.toThrow(/not found/);
  });

  it('aborts a handler at its timeout and retries the task', async () => {
    const { clock, broker, client, server } = setup();
    let aborted: unknown;
    await server.start(
      (_task, context) =>
        new Promise<void>((resolve) => {
          context.signal.addEventListener('abort', () => {
            aborted = context.signal.reason;
            resolve();
          });
        }),
    );
    const info = await client.enqueue('slow', {}, { timeout: '20s', maxRetry: 3 });
    await clock.advance('19s');
    expect(aborted).toBeUndefined();
    expect((await broker.getTask('default', info.id)).state).toBe('active');
    await clock.advance('1s');
    expect(String(aborted)).toMatch(/timeout/);
    const stored = await broker.getTask('default', info.id);
    expect(stored).toMatchObject({ state: 'retry', message: { retried: 1 } });
    expect(stored.message.errorMessage).toMatch(/timeout/);
  });

  it('keeps extending the lease of a long task, so that no recoverer takes it', async () => {
    const { clock, broker, client, server } = setup({ leaseDuration: '3s' });
    const finish = deferred();
    await server.start(() => finish.promise);
    const info = await client.enqueue('long', {});
    await clock.advance('1m');
    const stored = await broker.getTask('default', info.id);
    expect(stored).toMatchObject({ state: 'active', isOrphaned: false });
    expect(await broker.listLeaseExpired(['default'], clock.now())).toEqual([]);
    finish.resolve();
    await clock.advance('1s');
    await expect(broker.getTask('default', info.id)).rejects.toThrow(/not found/);
    expect((await broker.queueStats('default', clock.now())).processedToday).toBe(1);
  });

  it('publishes its state on every heartbeat and clears it at shutdown', async () => {
    const { clock, broker, client, server } = setup({ heartbeatInterval: '5s' });
    const finish = deferred();
    await server.start(() => finish.promise);
    await client.enqueue('long', {});
    await clock.advance('5s');
    const [snapshot] = await broker.listServers();
    expect(snapshot).toMatchObject({ server: { serverId: server.id, activeWorkerCount: 1 } });
    expect(snapshot!.workers.map((worker) => worker.taskType)).toEqual(['long']);
    expect(snapshot!.expiresAt).toBe(clock.now() + 10_000);
    finish.resolve();
    const stopped = server.shutdown();
    await clock.advanceUntil(() => server.state === 'closed');
    await stopped;
    expect(await broker.listServers()).toEqual([]);
  });
});
