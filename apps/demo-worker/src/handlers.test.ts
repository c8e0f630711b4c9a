/**
 * A unit test of a handler's retry path, as a user of @q would write one: the memory broker instead of
 * Redis, a manual clock instead of waiting, and the real Server, ServeMux, Client and Inspector. Minutes
 * of retries take a fraction of a second.
 */
import { createManualClock, createMemoryBroker } from '@q/broker-memory';
import { Client } from '@q/client';
import { Inspector } from '@q/inspector';
import { ServeMux, Server } from '@q/server';
import { expect, it, onTestFinished } from 'vitest';
import { registerHandlers } from './handlers';
import { retryDelay } from './retry-delay';
import { capturePayment, queues } from './task-definitions';

function createWorld() {
  const clock = createManualClock();
  const broker = createMemoryBroker({ clock });
  const client = new Client({ broker, now: clock.now });
  const inspector = new Inspector({ broker, now: clock.now });
  const server = new Server({ broker, clock, queues, concurrency: 10, retryDelay });
  onTestFinished(async () => {
    const stopped = server.shutdown();
    await clock.advanceUntil(() => server.state === 'closed');
    await stopped;
    await broker.close();
  });
  return { clock, client, inspector, server };
}

it('retries a flaky payment capture 2 s and then 4 s later, after which it succeeds', async () => {
  const { clock, client, inspector, server } = createWorld();
  await server.start(registerHandlers(new ServeMux(), { clock }));
  const enqueued = await client.enqueue(
    capturePayment,
    { orderId: 'order-7', amountCents: 1999, currency: 'EUR', simulate: 'flaky' },
    { retention: '1h' },
  );
  const read = () => inspector.getTaskInfo(enqueued.queue, enqueued.id);

  // The first attempt works for up to 800 ms of clock time, then the remote service "times out".
  await clock.advance('1s');
  const first = await read();
  expect(first).toMatchObject({ state: 'retry', retried: 1 });
  expect(first.lastError).toBe('capture 1999 EUR: the remote service timed out (attempt 1)');
  expect(first.nextProcessAt!.getTime() - first.lastFailedAt!.getTime()).toBeGreaterThanOrEqual(2000);

  // Due 2 s later; the server's forwarder picks it up within 5 s. It fails once more.
  await clock.advanceUntil(async () => (await read()).retried === 2, { limit: '10s' });
  const second = await read();
  expect(second).toMatchObject({ state: 'retry' });
  expect(second.lastError).toMatch(/\(attempt 2\)$/);
  expect(second.nextProcessAt!.getTime() - second.lastFailedAt!.getTime()).toBeGreaterThanOrEqual(4000);

  // The third attempt succeeds; the task is kept, completed, for its retention.
  await clock.advanceUntil(async () => (await read()).state === 'completed', { limit: '15s' });
  const done = await read();
  expect(done.retried).toBe(2);
  expect(done.completedAt!.getTime() - enqueued.nextProcessAt!.getTime()).toBeGreaterThanOrEqual(6000);
  expect(await inspector.getQueueInfo('critical')).toMatchObject({ processedToday: 3, failedToday: 2 });
});

it('archives a payment capture that can never succeed at once, without retrying', async () => {
  const { clock, client, inspector, server } = createWorld();
  await server.start(registerHandlers(new ServeMux(), { clock }));
  const enqueued = await client.enqueue(capturePayment, {
    orderId: 'order-8',
    amountCents: 500,
    currency: 'EUR',
    simulate: 'broken',
  });
  await clock.advance('1s');
  const archived = await inspector.getTaskInfo(enqueued.queue, enqueued.id);
  expect(archived).toMatchObject({ state: 'archived', retried: 0 });
  expect(archived.lastError).toMatch(/will never succeed/);
});
