import { describe, expect, it } from 'vitest';
import { createQueueOrder } from './queue-order';

describe('createQueueOrder', () => {
  it('orders by weight, highest first, with strict priority', () => {
    const order = createQueueOrder({ low: 1, critical: 6, default: 3 }, true);
    expect(order()).toEqual(['critical', 'default', 'low']);
  });

  it('puts each queue first with probability weight / total otherwise', () => {
    const order = createQueueOrder({ critical: 6, default: 3, low: 1 }, false);
    const first: Record<string, number> = { critical: 0, default: 0, low: 0 };
    const rounds = 20_000;
    for (let round = 0; round < rounds; round += 1) {
      const queues = order();
      expect(new Set(queues).size).toBe(3);
      first[queues[0]!]! += 1;
    }
    expect(first.critical! / rounds).toBeCloseTo(0.6, 1);
    expect(first.default! / rounds).toBeCloseTo(0.3, 1);
    expect(first.low! / rounds).toBeCloseTo(0.1, 1);
  });

  it('uses the random source it is given', () => {
    const order = createQueueOrder({ a: 1, b: 1 }, false, () => 0.99);
    expect(order()).toEqual(['b', 'a']);
  });
});
