/**
 * Flow control, for brokers that have the optional capability (`hasFlowControl`): limits read by every
 * dequeue, whichever process set them. Registered by `testBroker()` only when the broker has it.
 */
import {
  flowKeyHeader,
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
    /** Enqueues tasks of flow keys in this order, e.g. ['a', 'a', 'b']; returns their ids. */
    const enqueueKeyed = async (broker: Broker, flowKeys: readonly string[]): Promise<string[]> => {
      const ids: string[] = [];
      for (const flowKey of flowKeys) {
        const message = context.message({ headers: { [flowKeyHeader]: flowKey } });
        await broker.enqueue({ message });
        ids.push(message.id);
      }
      return ids;
    };
    const keysOf = (result: FlowDequeueResult): string[] =>
      result.tasks.map((task) => task.message.headers[flowKeyHeader] ?? '');

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

    flowIt(
      'per key: a key at its concurrency limit does not block the tasks of other keys behind it',
      async (broker) => {
        await broker.setFlowLimits(context.queue(), { perKey: { concurrency: 2 } });
        await enqueueKeyed(broker, ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b']);
        const first = await dequeue(broker, 10);
        expect(keysOf(first).sort()).toEqual(['a', 'a', 'b', 'b']);
        expect(first.held).toEqual([{ queue: context.queue(), reason: 'keys' }]);
        expect((await dequeue(broker, 10)).tasks).toHaveLength(0);
        // Parked tasks are still pending tasks of the queue.
        expect((await broker.queueStats(context.queue(), Date.now())).pending).toBe(4);
        const state = await broker.flowState(context.queue());
        expect(state.limits).toEqual({ perKey: { concurrency: 2 } });
        expect(state.perKey?.parked).toBe(4);
        expect(state.perKey?.keys).toEqual([
          { key: 'a', parked: 3, running: 2, startedInWindow: 0 },
          { key: 'b', parked: 1, running: 2, startedInWindow: 0 },
        ]);
      },
    );

    flowIt(
      "per key: a finished task frees its key's slot, for the oldest parked task of that key",
      async (broker) => {
        await broker.setFlowLimits(context.queue(), { perKey: { concurrency: 1 } });
        const ids = await enqueueKeyed(broker, ['a', 'a', 'a', 'b']);
        const first = await dequeue(broker, 10);
        expect(first.tasks.map((task) => task.message.id).sort()).toEqual([ids[0], ids[3]].sort());
        const taskA = first.tasks.find((task) => task.message.id === ids[0])!;
        await broker.done(taskA.message, { token: taskA.leaseToken });
        const second = await dequeue(broker, 10);
        expect(second.tasks.map((task) => task.message.id)).toEqual([ids[1]]);
        await broker.done(second.tasks[0]!.message, { token: second.tasks[0]!.leaseToken });
        expect((await dequeue(broker, 10)).tasks.map((task) => task.message.id)).toEqual([ids[2]]);
      },
    );

    flowIt('per key: the slot of a recovered task comes back to its key', async (broker) => {
      await broker.setFlowLimits(context.queue(), { perKey: { concurrency: 1 } });
      await enqueueKeyed(broker, ['a', 'a']);
      const taken = await broker.dequeue([context.queue()], { count: 5, leaseDuration: 1000 });
      expect(taken.tasks).toHaveLength(1);
      expect((await dequeue(broker, 5)).tasks).toHaveLength(0);
      const [expired] = await broker.listLeaseExpired([context.queue()], Date.now() + 60_000);
      await broker.retry(expired!, {
        processAt: Date.now() + 60_000,
        errorMessage: 'lease expired',
        isFailure: true,
      });
      expect(keysOf(await dequeue(broker, 5))).toEqual(['a']);
    });

    flowIt('per key: a key at its rate limit is parked and says when it can go on', async (broker) => {
      await broker.setFlowLimits(context.queue(), { perKey: { rate: { limit: 2, period: 60_000 } } });
      await enqueueKeyed(broker, ['a', 'a', 'a', 'b']);
      expect(keysOf(await dequeue(broker, 10)).sort()).toEqual(['a', 'a', 'b']);
      const held = await dequeue(broker, 10);
      expect(held.tasks).toHaveLength(0);
      expect(held.held?.[0]?.reason).toBe('keys');
      expect(held.held?.[0]?.retryAfter).toBeGreaterThan(50_000);
      expect((await broker.flowState(context.queue())).perKey?.keys).toEqual([
        { key: 'a', parked: 1, running: 0, startedInWindow: 2 },
      ]);
    });

    flowIt(
      'per key: parked tasks are deleted, archived and released with the pending ones',
      async (broker) => {
        await broker.setFlowLimits(context.queue(), { perKey: { concurrency: 1 } });
        await enqueueKeyed(broker, ['a', 'a', 'a']);
        await dequeue(broker, 10);
        expect(await broker.deleteAllTasks(context.queue(), 'pending')).toBe(2);
        expect((await broker.queueStats(context.queue(), Date.now())).pending).toBe(0);
        await enqueueKeyed(broker, ['a', 'a']);
        expect((await dequeue(broker, 10)).tasks).toHaveLength(0);
        expect(await broker.archiveAllTasks(context.queue(), 'pending')).toBe(2);
        expect((await broker.queueStats(context.queue(), Date.now())).archived).toBe(2);
        const [parkedId] = await enqueueKeyed(broker, ['a']);
        expect((await dequeue(broker, 10)).tasks).toHaveLength(0);
        await broker.setFlowLimits(context.queue(), { perKey: null });
        expect((await dequeue(broker, 10)).tasks.map((task) => task.message.id)).toEqual([parkedId]);
      },
    );

    flowIt('per key: a paused flow key waits while the other keys go on', async (broker) => {
      // With a per-key limit the key has room for, the pause still holds it back.
      await broker.setFlowLimits(context.queue(), { perKey: { concurrency: 10 } });
      const ids = await enqueueKeyed(broker, ['a', 'b', 'a', 'b']);
      await broker.pauseFlow(context.queue(), 30_000, 'a');
      const first = await dequeue(broker, 10);
      expect(first.tasks.map((task) => task.message.id)).toEqual([ids[1], ids[3]]);
      const held = await dequeue(broker, 10);
      expect(held.tasks).toHaveLength(0);
      expect(held.held?.[0]?.reason).toBe('keys');
      expect(held.held?.[0]?.retryAfter).toBeGreaterThan(25_000);
      const key = (await broker.flowState(context.queue())).perKey?.keys[0];
      expect(key).toMatchObject({ key: 'a', parked: 2 });
      expect(key?.pausedUntil).toBeGreaterThan(Date.now() + 25_000);
      expect((await broker.queueStats(context.queue(), Date.now())).pending).toBe(2);
      await broker.clearFlowLimits(context.queue());
      expect((await dequeue(broker, 10)).tasks.map((task) => task.message.id)).toEqual([ids[0], ids[2]]);
      // Cleared means the key's pause is gone too, also for per-key limits set afterwards.
      await broker.setFlowLimits(context.queue(), { perKey: { concurrency: 5 } });
      await enqueueKeyed(broker, ['a']);
      expect(keysOf(await dequeue(broker, 10))).toEqual(['a']);
    });

    flowIt('per key: refuses per-key limits that are not whole positive numbers', async (broker) => {
      await expect(
        broker.setFlowLimits(context.queue(), { perKey: { concurrency: 0 } }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        broker.setFlowLimits(context.queue(), { perKey: { burst: 3 } as never }),
      ).rejects.toBeInstanceOf(ValidationError);
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
