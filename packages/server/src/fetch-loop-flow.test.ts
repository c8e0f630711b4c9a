/**
 * The fetch loop against queues held back by flow limits, on a fake clock: it sleeps until the token
 * the broker names, waits for a wake-up when it waits on running tasks, and notes which queues are
 * limited. The broker here only answers dequeues as a flow-controlled broker would.
 */
import { createMemoryBroker } from '@q/broker-memory';
import type { DequeueOptions, FlowDequeueResult, FlowHold, TaskConsumer } from '@q/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { testMessage as fakeMessage } from '../test/test-broker';
import { BrokerReachability } from './broker-reachability';
import { FetchLoop } from './fetch-loop';
import { resolveServerOptions } from './server-options';
import { Slots } from './slots';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});

afterEach(() => {
  vi.useRealTimers();
});

/** A consumer whose dequeue answers with the next scripted flow result and records when it was called. */
interface HeldConsumer extends TaskConsumer {
  readonly calls: number[];
  answer: () => FlowDequeueResult;
  wake: ((woken: boolean) => void) | undefined;
}

/** The memory broker (on the real clock, which vitest fakes here) with dequeue and waitForTasks scripted. */
function heldConsumer(): HeldConsumer {
  const held = Object.create(createMemoryBroker()) as HeldConsumer;
  return Object.assign(held, {
    calls: [] as number[],
    answer: (): FlowDequeueResult => ({ tasks: [], malformed: [] }),
    wake: undefined,
    dequeue(_queues: readonly string[], _options: DequeueOptions): Promise<FlowDequeueResult> {
      held.calls.push(Date.now());
      return Promise.resolve(held.answer());
    },
    waitForTasks(_queues: readonly string[], timeout: number, signal?: AbortSignal): Promise<boolean> {
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeout);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(false);
        });
        held.wake = (woken) => {
          clearTimeout(timer);
          resolve(woken);
        };
      });
    },
  });
}

function startLoop(
  broker: TaskConsumer,
  queues: Record<string, number>,
): { loop: FetchLoop; started: string[] } {
  const options = resolveServerOptions({ broker, queues, concurrency: 5, taskCheckInterval: 1000 });
  const started: string[] = [];
  const slots = new Slots(5);
  const loop = new FetchLoop({
    options,
    reachability: new BrokerReachability(() => undefined),
    slots,
    closing: new AbortController().signal,
    startTask: (leased) => {
      started.push(leased.message.id);
    },
  });
  loop.start();
  return { loop, started };
}

const held = (hold: FlowHold): FlowDequeueResult => ({
  tasks: [],
  malformed: [],
  held: [hold],
  limited: [hold.queue],
});

describe('FetchLoop and flow limits', () => {
  it('sleeps until the token the broker names when every queue is held back by its rate, whatever wakes it', async () => {
    const broker = heldConsumer();
    broker.answer = () => held({ queue: 'partner', reason: 'rate', retryAfter: 300 });
    const { loop } = startLoop(broker, { partner: 1 });
    await vi.advanceTimersByTimeAsync(0);
    // The first held answer comes with no wait armed: one more dequeue arms it.
    const settled = broker.calls.length;
    expect(settled).toBeGreaterThanOrEqual(1);
    expect(settled).toBeLessThanOrEqual(2);
    broker.wake?.(true); // an enqueue: nothing can be taken before the token anyway
    await vi.advanceTimersByTimeAsync(299);
    expect(broker.calls).toHaveLength(settled);
    await vi.advanceTimersByTimeAsync(1);
    expect(broker.calls).toHaveLength(settled + 1);
    expect(loop.limitedQueues).toEqual(new Set(['partner']));
    await loop.stop(10);
  });

  it('caps the sleep at taskCheckInterval, so that a cleared limit or an ended pause is seen within it', async () => {
    const broker = heldConsumer();
    broker.answer = () => held({ queue: 'partner', reason: 'paused', retryAfter: 60_000 });
    const { loop } = startLoop(broker, { partner: 1 });
    await vi.advanceTimersByTimeAsync(0);
    const settled = broker.calls.length;
    await vi.advanceTimersByTimeAsync(999);
    expect(broker.calls).toHaveLength(settled);
    await vi.advanceTimersByTimeAsync(1);
    expect(broker.calls).toHaveLength(settled + 1);
    await loop.stop(10);
  });

  it('waits for a wake-up (a freed slot) when held back by concurrency, and dequeues at once when woken', async () => {
    const broker = heldConsumer();
    broker.answer = () => held({ queue: 'partner', reason: 'concurrency' });
    const { loop, started } = startLoop(broker, { partner: 1 });
    await vi.advanceTimersByTimeAsync(0);
    const settled = broker.calls.length;
    await vi.advanceTimersByTimeAsync(500);
    expect(broker.calls).toHaveLength(settled);
    const task = fakeMessage({ queue: 'partner' });
    broker.answer = () => ({
      tasks: [{ message: task, leaseExpiresAt: Date.now() + 3000 }],
      malformed: [],
      held: [{ queue: 'partner', reason: 'concurrency' }],
      limited: ['partner'],
    });
    broker.wake?.(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(broker.calls).toHaveLength(settled + 1);
    expect(started).toEqual([task.id]);
    await loop.stop(10);
  });

  it('keeps taking from a queue without limits while another is held back, and forgets a limit once cleared', async () => {
    const broker = heldConsumer();
    let round = 0;
    broker.answer = () => {
      round += 1;
      const tasks = [
        {
          message: fakeMessage({ queue: round === 1 ? 'open' : 'partner' }),
          leaseExpiresAt: Date.now() + 3000,
        },
      ];
      // Round 1: partner held, open gives a task. Round 2: partner's limit was cleared, it gives a task.
      return round === 1
        ? { tasks, malformed: [], held: [{ queue: 'partner', reason: 'concurrency' }], limited: ['partner'] }
        : { tasks, malformed: [] };
    };
    const { loop, started } = startLoop(broker, { partner: 1, open: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(started.length).toBeGreaterThanOrEqual(1);
    expect(loop.limitedQueues.has('partner')).toBe(round === 1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(round).toBeGreaterThanOrEqual(2);
    expect(loop.limitedQueues.has('partner')).toBe(false);
    await loop.stop(10);
  });
});
