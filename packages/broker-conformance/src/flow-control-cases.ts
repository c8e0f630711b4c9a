/**
 * Flow control, for brokers that have the optional capability (`hasFlowControl`): limits read by every
 * dequeue, whichever process set them. Registered by `testBroker()` only when the broker has it.
 */
import {
  hasFlowControl,
  ValidationError,
  type Broker,
  type FlowControl,
  type FlowDequeueResult,
} from '@q/core';
import { describe, expect, it } from 'vitest';
import { lease, type SuiteContext } from './suite-context';

export function flowControlCases(context: SuiteContext): void {
  describe('flow control (optional capability)', () => {
    /** A case that runs only when the test's broker has the capability, and is skipped otherwise. */
    const flowIt = (name: string, run: (broker: Broker & FlowControl) => Promise<void>): void => {
      it(name, async (test) => {
        const broker = context.broker();
        if (!hasFlowControl(broker)) {
          test.skip();
          return;
        }
        await run(broker);
      });
    };
    const enqueueMany = async (broker: Broker, count: number): Promise<void> => {
      for (let index = 0; index < count; index += 1) await broker.enqueue({ message: context.message() });
    };
    const dequeue = (broker: Broker, count: number): Promise<FlowDequeueResult> =>
      broker.dequeue([context.queue()], { count, ...lease });

    flowIt('reports no limits for a queue without any, and holds nothing back', async (broker) => {
      const state = await broker.flowState(context.queue());
      expect(state.limits).toEqual({});
      await enqueueMany(broker, 3);
      const result = await dequeue(broker, 10);
      expect(result.tasks).toHaveLength(3);
      expect(result.held ?? []).toEqual([]);
    });

    flowIt(
      'takes no more tasks than the concurrency limit while they are leased, across dequeues',
      async (broker) => {
        await broker.setFlowLimits(context.queue(), { concurrency: 2 });
        await enqueueMany(broker, 5);
        const first = await dequeue(broker, 10);
        expect(first.tasks).toHaveLength(2);
        expect(first.held).toEqual([{ queue: context.queue(), reason: 'concurrency' }]);
        expect(first.limited).toEqual([context.queue()]);
        expect((await dequeue(broker, 10)).tasks).toHaveLength(0);
        await broker.done(first.tasks[0]!.message, { token: first.tasks[0]!.leaseToken });
        expect((await dequeue(broker, 10)).tasks).toHaveLength(1);
        const state = await broker.flowState(context.queue());
        expect(state.limits).toEqual({ concurrency: 2 });
        expect(state.running).toBe(2);
      },
    );

    flowIt('frees the slot of a task whose lease expired once the task is recovered', async (broker) => {
      await broker.setFlowLimits(context.queue(), { concurrency: 1 });
      await enqueueMany(broker, 2);
      expect((await broker.dequeue([context.queue()], { count: 5, leaseDuration: 1000 })).tasks).toHaveLength(
        1,
      );
      expect((await dequeue(broker, 5)).tasks).toHaveLength(0);
      const [expired] = await broker.listLeaseExpired([context.queue()], Date.now() + 60_000);
      await broker.retry(expired!, {
        processAt: Date.now() + 60_000,
        errorMessage: 'lease expired',
        isFailure: true,
      });
      expect((await dequeue(broker, 5)).tasks).toHaveLength(1);
    });

    flowIt(
      'takes at most the rate limit per period and says when the next task can be taken',
      async (broker) => {
        await broker.setFlowLimits(context.queue(), { rate: { limit: 3, period: 60_000 } });
        await enqueueMany(broker, 5);
        const first = await dequeue(broker, 2);
        expect(first.tasks).toHaveLength(2);
        expect(first.held ?? []).toEqual([]);
        const second = await dequeue(broker, 10);
        expect(second.tasks).toHaveLength(1);
        expect(second.held?.[0]?.reason).toBe('rate');
        const third = await dequeue(broker, 10);
        expect(third.tasks).toHaveLength(0);
        const retryAfter = third.held?.[0]?.retryAfter ?? 0;
        expect(retryAfter).toBeGreaterThan(50_000);
        expect(retryAfter).toBeLessThanOrEqual(60_000);
        expect((await broker.flowState(context.queue())).startedInWindow).toBe(3);
      },
    );

    flowIt('takes tasks again once the window has moved past the earlier starts', async (broker) => {
      await broker.setFlowLimits(context.queue(), { rate: { limit: 1, period: 200 } });
      await enqueueMany(broker, 2);
      expect((await dequeue(broker, 5)).tasks).toHaveLength(1);
      const held = await dequeue(broker, 5);
      expect(held.tasks).toHaveLength(0);
      await new Promise((resolve) => setTimeout(resolve, (held.held?.[0]?.retryAfter ?? 200) + 20));
      expect((await dequeue(broker, 5)).tasks).toHaveLength(1);
    });

    flowIt('holds the queue back while paused, and says for how long', async (broker) => {
      await enqueueMany(broker, 1);
      await broker.pauseFlow(context.queue(), 30_000);
      const result = await dequeue(broker, 5);
      expect(result.tasks).toHaveLength(0);
      expect(result.held?.[0]?.reason).toBe('paused');
      expect(result.held?.[0]?.retryAfter).toBeGreaterThan(25_000);
      expect((await broker.flowState(context.queue())).pausedUntil).toBeGreaterThan(Date.now() + 25_000);
      await broker.clearFlowLimits(context.queue());
      expect((await dequeue(broker, 5)).tasks).toHaveLength(1);
    });

    flowIt('changes one limit and keeps the other, and clears with null', async (broker) => {
      await broker.setFlowLimits(context.queue(), { concurrency: 4, rate: { limit: 10, period: 1000 } });
      await broker.setFlowLimits(context.queue(), { concurrency: 6 });
      expect((await broker.flowState(context.queue())).limits).toEqual({
        concurrency: 6,
        rate: { limit: 10, period: 1000 },
      });
      await broker.setFlowLimits(context.queue(), { rate: null });
      expect((await broker.flowState(context.queue())).limits).toEqual({ concurrency: 6 });
      await broker.clearFlowLimits(context.queue());
      expect((await broker.flowState(context.queue())).limits).toEqual({});
    });

    flowIt('refuses limits that are not whole positive numbers (ValidationError)', async (broker) => {
      await expect(broker.setFlowLimits(context.queue(), { concurrency: 0 })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(
        broker.setFlowLimits(context.queue(), { rate: { limit: 5, period: 1.5 } }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(broker.pauseFlow(context.queue(), -1)).rejects.toBeInstanceOf(ValidationError);
    });

    flowIt('wakes a server waiting for tasks when a limit changes or a slot is announced', async (broker) => {
      const waiting = broker.waitForTasks([context.queue()], 10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await broker.announceFlowSlot(context.queue());
      expect(await waiting).toBe(true);
      const waitingAgain = broker.waitForTasks([context.queue()], 10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await broker.setFlowLimits(context.queue(), { concurrency: 3 });
      expect(await waitingAgain).toBe(true);
    });
  });
}
