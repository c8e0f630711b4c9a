/**
 * Flow control in the server, against a real redis-server: limits set on the broker are obeyed by every
 * server, a handler's RateLimitedError pauses the queue without spending a retry, and a server whose
 * queues are at their limits does not spin. (The same with several processes: packages/reliability F1.)
 */
import type { DequeueOptions } from '@q/core';
import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../src/rate-limited-error';
import type { ServerBroker } from '../src/server-options';
import { timingAllowanceMs } from '../../../test/timing-allowance';
import { createHarness, queueName } from './harness';
import { delay, waitFor } from './wait-for';

describe('Server against Redis: flow control', () => {
  it('two servers of concurrency 10 never run more tasks of a queue at once than its limit', async () => {
    const { client, broker, server, otherBroker } = createHarness();
    const queue = queueName('limit');
    await broker.setFlowLimits(queue, { concurrency: 2 });
    let running = 0;
    let most = 0;
    let done = 0;
    const handler = async (): Promise<void> => {
      running += 1;
      most = Math.max(most, running);
      await delay(20);
      running -= 1;
      done += 1;
    };
    for (let index = 0; index < 20; index += 1) await client.enqueue('work', {}, { queue });
    await server({ queues: { [queue]: 1 }, concurrency: 10 }).start(handler);
    await server({ broker: otherBroker(), queues: { [queue]: 1 }, concurrency: 10 }).start(handler);
    await waitFor(() => done === 20, 'every task to run');
    expect(most).toBe(2);
  });

  it('a RateLimitedError requeues the task without spending a retry and pauses the queue for every server', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('rate-limited');
    const starts: { id: string; at: number }[] = [];
    let refused = false;
    await server({ queues: { [queue]: 1 }, concurrency: 1 }).start((task) => {
      starts.push({ id: task.id, at: Date.now() });
      if (!refused) {
        refused = true;
        throw RateLimitedError.fromRetryAfter('1');
      }
    });
    const first = await client.enqueue('call-partner', {}, { queue });
    await waitFor(() => refused, 'the first attempt');
    const state = await waitFor(async () => {
      const flow = await broker.flowState(queue);
      return flow.pausedUntil === undefined ? undefined : flow;
    }, 'the pause');
    const second = await client.enqueue('call-partner', {}, { queue });
    await waitFor(() => starts.length === 3, 'both tasks to run after the pause');
    const later = starts.slice(1);
    // The refused task went back to the head of the queue, and nothing started during the pause.
    expect(later.map((start) => start.id)).toEqual([first.id, second.id]);
    for (const start of later) expect(start.at).toBeGreaterThanOrEqual(state.pausedUntil!);
    expect(state.pausedUntil! - state.timestamp).toBeGreaterThan(900);
    await waitFor(async () => (await broker.queueStats(queue, Date.now())).processedTotal === 2, 'both done');
    const stats = await broker.queueStats(queue, Date.now());
    expect(stats.failedTotal).toBe(0);
  });

  it('per-key concurrency: two servers run at most the limit per flow key, and a busy key does not hold back another', async () => {
    const { client, broker, server, otherBroker } = createHarness();
    const queue = queueName('per-key');
    await broker.setFlowLimits(queue, { perKey: { concurrency: 2 } });
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    const finished: string[] = [];
    const handler = async (task: { headers: Record<string, string> }): Promise<void> => {
      const flowKey = task.headers['q-flow-key']!;
      running.set(flowKey, (running.get(flowKey) ?? 0) + 1);
      most.set(flowKey, Math.max(most.get(flowKey) ?? 0, running.get(flowKey)!));
      await delay(10);
      running.set(flowKey, running.get(flowKey)! - 1);
      finished.push(flowKey);
    };
    for (let index = 0; index < 40; index += 1) await client.enqueue('work', {}, { queue, flowKey: 'big' });
    for (let index = 0; index < 4; index += 1) await client.enqueue('work', {}, { queue, flowKey: 'small' });
    await server({ queues: { [queue]: 1 }, concurrency: 10 }).start(handler);
    await server({ broker: otherBroker(), queues: { [queue]: 1 }, concurrency: 10 }).start(handler);
    await waitFor(() => finished.length === 44, 'every task to run');
    expect(most.get('big')).toBe(2);
    expect(most.get('small')).toBe(2);
    // The small key was not served after the big one: it finished while most of the big key waited.
    expect(finished.lastIndexOf('small')).toBeLessThan(22);
  });

  it("a RateLimitedError with scope 'flowKey' pauses only that key; the other keys go on", async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('key-paused');
    const starts: { flowKey: string; at: number }[] = [];
    let refused = false;
    await server({ queues: { [queue]: 1 }, concurrency: 1 }).start((task) => {
      const flowKey = task.headers['q-flow-key']!;
      starts.push({ flowKey, at: Date.now() });
      if (!refused && flowKey === 'acme') {
        refused = true;
        throw RateLimitedError.fromRetryAfter('1', { scope: 'flowKey' });
      }
    });
    await client.enqueue('call-partner', {}, { queue, flowKey: 'acme' });
    await waitFor(() => refused, 'the first attempt');
    const paused = await waitFor(async () => {
      const flow = await broker.flowState(queue);
      return flow.perKey?.keys[0]?.pausedUntil === undefined ? undefined : flow.perKey.keys[0];
    }, 'the key to be paused');
    expect(paused.key).toBe('acme');
    expect((await broker.flowState(queue)).pausedUntil).toBeUndefined();
    await client.enqueue('call-partner', {}, { queue, flowKey: 'globex' });
    await waitFor(() => starts.length === 3, 'the other key, then the paused one after its pause');
    expect(starts.map((start) => start.flowKey)).toEqual(['acme', 'globex', 'acme']);
    expect(starts[1]!.at).toBeLessThan(paused.pausedUntil!);
    expect(starts[2]!.at).toBeGreaterThanOrEqual(paused.pausedUntil!);
    const stats = await waitFor(async () => {
      const current = await broker.queueStats(queue, Date.now());
      return current.processedTotal === 2 ? current : undefined;
    }, 'both done');
    expect(stats.failedTotal).toBe(0);
  });

  it('without flow control in the broker, a RateLimitedError retries the task later without spending a retry', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('no-flow');
    // The broker's consumer role alone: no flow-control methods.
    const consumerOnly: ServerBroker = {
      dequeue: (queues, options) => broker.dequeue(queues, options),
      waitForTasks: (queues, timeout, signal) => broker.waitForTasks(queues, timeout, signal),
      done: (message, fence) => broker.done(message, fence),
      markComplete: (message, at, fence) => broker.markComplete(message, at, fence),
      requeue: (message, fence) => broker.requeue(message, fence),
      retry: (message, options) => broker.retry(message, options),
      archive: (message, error, fence) => broker.archive(message, error, fence),
      extendLeases: (...parameters) => broker.extendLeases(...parameters),
      writeResult: (...parameters) => broker.writeResult(...parameters),
      listLeaseExpired: (...parameters) => broker.listLeaseExpired(...parameters),
      forward: (...parameters) => broker.forward(...parameters),
      deleteExpiredCompleted: (...parameters) => broker.deleteExpiredCompleted(...parameters),
      listGroups: (...parameters) => broker.listGroups(...parameters),
      aggregationCheck: (...parameters) => broker.aggregationCheck(...parameters),
      readAggregationSet: (...parameters) => broker.readAggregationSet(...parameters),
      deleteAggregationSet: (...parameters) => broker.deleteAggregationSet(...parameters),
      reclaimStaleAggregationSets: (...parameters) => broker.reclaimStaleAggregationSets(...parameters),
      writeServerState: (...parameters) => broker.writeServerState(...parameters),
      clearServerState: (...parameters) => broker.clearServerState(...parameters),
      subscribeCancel: (listener) => broker.subscribeCancel(listener),
    };
    let attempts = 0;
    await server({ broker: consumerOnly, queues: { [queue]: 1 } }).start(() => {
      attempts += 1;
      if (attempts === 1) throw new Error('partner said 429', { cause: new RateLimitedError('60s') });
    });
    const task = await client.enqueue('call-partner', {}, { queue, maxRetry: 0 });
    await waitFor(async () => (await broker.getTask(queue, task.id)).state === 'retry', 'the task in retry');
    const stored = await broker.getTask(queue, task.id);
    expect(stored.message.retried).toBe(0);
    expect(stored.message.errorMessage).toBe('partner said 429');
    expect(stored.nextProcessAt).toBeGreaterThan(Date.now() + 50_000);
  });

  it('a server whose only queue is at its limit waits instead of dequeuing in a loop', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('no-spin');
    await broker.setFlowLimits(queue, { concurrency: 1, rate: { limit: 100, period: 1000 } });
    let dequeues = 0;
    const counting: ServerBroker = Object.assign(Object.create(broker) as typeof broker, {
      dequeue: (queues: readonly string[], options: DequeueOptions) => {
        dequeues += 1;
        return broker.dequeue(queues, options);
      },
    });
    let started = 0;
    await server({ broker: counting, queues: { [queue]: 1 }, taskCheckInterval: 200 }).start(async () => {
      started += 1;
      await delay(1500);
    });
    for (let index = 0; index < 5; index += 1) await client.enqueue('slow', {}, { queue });
    await waitFor(() => started === 1, 'the first task');
    const before = dequeues;
    await delay(1000);
    // One task holds the only slot: the server polls (every 200 ms) or is woken, but does not spin.
    expect(started).toBe(1);
    expect(dequeues - before).toBeLessThan(15);
  });

  it('a limit raised while servers wait is used within a second', async () => {
    const { client, broker, server } = createHarness();
    const queue = queueName('raise');
    await broker.setFlowLimits(queue, { concurrency: 1 });
    let running = 0;
    await server({ queues: { [queue]: 1 }, concurrency: 5, taskCheckInterval: 1000 }).start(async () => {
      running += 1;
      await delay(3000);
      running -= 1;
    });
    for (let index = 0; index < 5; index += 1) await client.enqueue('slow', {}, { queue });
    await waitFor(() => running === 1, 'the first task');
    await delay(200);
    expect(running).toBe(1);
    const raisedAt = Date.now();
    await broker.setFlowLimits(queue, { concurrency: 3 });
    // The broker wakes waiting servers when a limit changes: the promise is "within a second".
    await waitFor(() => running === 3, 'three tasks at once', 1000 + timingAllowanceMs);
    expect(Date.now() - raisedAt).toBeLessThan(1000 + timingAllowanceMs);
  });
});
