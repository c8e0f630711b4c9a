import type { Logger } from '@q/core';
import { afterEach, expect, it, vi } from 'vitest';
import { createTestContext, taskMessage } from '../test/redis-test-context';

afterEach(() => {
  vi.restoreAllMocks();
});

it('renews the lease of a dequeue answered late, instead of handing out a lease that already ran out', async () => {
  const warnings: string[] = [];
  const warn = (first: Record<string, unknown> | string, message?: string): void => {
    warnings.push(typeof first === 'string' ? first : String(message));
  };
  const logger: Logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn };
  const context = createTestContext({ logger });
  try {
    const message = taskMessage();
    await context.broker.enqueue({ message });
    // The dequeue is sent at T and its answer read 4 s later (as after a network cut): of a 5 s lease,
    // 1 s would be left.
    const real = Date.now.bind(Date);
    let calls = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + (calls++ > 0 ? 4000 : 0));
    const sentAt = real();
    const { tasks } = await context.broker.dequeue([message.queue], { count: 1, leaseDuration: 5000 });
    vi.restoreAllMocks();
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.leaseExpiresAt).toBeGreaterThanOrEqual(sentAt + 9000);
    const score = Number(
      await context.redis.zscore(`${context.prefix}:{${message.queue}}:lease`, message.id),
    );
    expect(score).toBeGreaterThanOrEqual(Math.floor((sentAt + 9000) / 1000));
    expect(warnings).toEqual([expect.stringMatching(/answered late/)]);
  } finally {
    await context.close();
  }
});
