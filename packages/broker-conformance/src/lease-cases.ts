import { LeaseLostError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { lease, type SuiteContext } from './suite-context';

export function leaseCases(context: SuiteContext): void {
  describe('leases', () => {
    it('extends the leases still held and reports the lost ones', async () => {
      const broker = context.broker();
      const message = context.message();
      await broker.enqueue({ message });
      await broker.dequeue([context.queue()], { count: 1, ...lease });
      const extension = await broker.extendLeases(context.queue(), [message.id, 'not-leased'], 60_000);
      expect(extension.lost).toEqual(['not-leased']);
      expect(extension.leaseExpiresAt).toBeGreaterThan(Date.now() + 50_000);
    });

    it('moves the stored lease end when it extends a lease', async () => {
      const broker = context.broker();
      const message = context.message();
      await broker.enqueue({ message });
      await broker.dequeue([context.queue()], { count: 1, leaseDuration: 1000 });
      const cutoff = Date.now() + 60_000;
      expect((await broker.listLeaseExpired([context.queue()], cutoff)).map((found) => found.id)).toEqual([
        message.id,
      ]);
      await broker.extendLeases(context.queue(), [message.id], 600_000);
      expect(await broker.listLeaseExpired([context.queue()], cutoff)).toEqual([]);
      expect((await broker.getTask(context.queue(), message.id)).isOrphaned).toBe(false);
    });

    it('lists tasks whose lease ended, for recovery, and not the others', async () => {
      const broker = context.broker();
      const short = context.message();
      const long = context.message();
      await broker.enqueue({ message: short });
      await broker.dequeue([context.queue()], { count: 1, leaseDuration: 1000 });
      await broker.enqueue({ message: long });
      await broker.dequeue([context.queue()], { count: 1, leaseDuration: 600_000 });
      const expired = await broker.listLeaseExpired([context.queue()], Date.now() + 60_000);
      expect(expired.map((message) => message.id)).toEqual([short.id]);
    });

    it('refuses a late outcome once the task was recovered (LeaseLostError)', async () => {
      const broker = context.broker();
      const message = context.message();
      await broker.enqueue({ message });
      await broker.dequeue([context.queue()], { count: 1, leaseDuration: 1000 });
      const [recovered] = await broker.listLeaseExpired([context.queue()], Date.now() + 60_000);
      await broker.retry(recovered!, {
        processAt: Date.now() + 60_000,
        errorMessage: 'task lease expired',
        isFailure: true,
      });
      await expect(broker.done(message)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(broker.markComplete(message, Date.now())).rejects.toBeInstanceOf(LeaseLostError);
      await expect(broker.archive(message, 'x')).rejects.toBeInstanceOf(LeaseLostError);
      await expect(
        broker.retry(message, { processAt: Date.now(), errorMessage: 'x', isFailure: true }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      await expect(broker.requeue(message)).rejects.toBeInstanceOf(LeaseLostError);
      expect((await broker.getTask(context.queue(), message.id)).state).toBe('retry');
      expect((await broker.extendLeases(context.queue(), [message.id], 30_000)).lost).toEqual([message.id]);
    });

    // Fencing: brokers that hand out lease tokens refuse the old holder once the task is leased again.
    it('refuses the old holder once the recovered task is leased again (lease token)', async () => {
      const broker = context.broker();
      const message = context.message();
      await broker.enqueue({ message });
      const first = await broker.dequeue([context.queue()], { count: 1, leaseDuration: 1000 });
      const oldToken = first.tasks[0]?.leaseToken;
      if (oldToken === undefined) return; // This broker does not fence on tokens.
      const [recovered] = await broker.listLeaseExpired([context.queue()], Date.now() + 60_000);
      await broker.retry(recovered!, {
        processAt: Date.now() - 1000,
        errorMessage: 'task lease expired',
        isFailure: true,
        fence: { expiredBy: Date.now() + 60_000 },
      });
      await broker.forward([context.queue()], Date.now());
      const second = await broker.dequeue([context.queue()], { count: 1, ...lease });
      const newToken = second.tasks[0]?.leaseToken;
      expect(newToken).toBeDefined();
      expect(newToken).not.toBe(oldToken);
      const old = { token: oldToken };
      await expect(broker.done(message, old)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(broker.markComplete(message, Date.now(), old)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(broker.archive(message, 'late', old)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(
        broker.retry(message, { processAt: Date.now(), errorMessage: 'late', isFailure: true, fence: old }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      await expect(broker.requeue(message, old)).rejects.toBeInstanceOf(LeaseLostError);
      const tokens = (token: string) => new Map([[message.id, token]]);
      expect(
        (await broker.extendLeases(context.queue(), [message.id], 30_000, tokens(oldToken))).lost,
      ).toEqual([message.id]);
      expect(
        (await broker.extendLeases(context.queue(), [message.id], 30_000, tokens(newToken!))).lost,
      ).toEqual([]);
      // A second recoverer that listed the first lease as expired does not take the new, live one.
      await expect(
        broker.retry(message, {
          processAt: Date.now(),
          errorMessage: 'task lease expired',
          isFailure: true,
          fence: { expiredBy: Date.now() },
        }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      await broker.done(second.tasks[0]!.message, { token: newToken! });
      await expect(broker.getTask(context.queue(), message.id)).rejects.toThrow();
    });
  });
}
