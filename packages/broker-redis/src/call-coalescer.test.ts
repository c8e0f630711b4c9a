import { describe, expect, it } from 'vitest';
import { CallCoalescer, type CallOutcome } from './call-coalescer';

/** A coalescer whose batches are recorded and answered with each item doubled. */
function recorder(eagerAt?: number) {
  const batches: { items: number[]; eager: boolean }[] = [];
  const coalescer = new CallCoalescer<number, number>((items, eager) => {
    batches.push({ items: [...items], eager });
    return Promise.resolve(items.map((item): CallOutcome<number> => ({ ok: true, value: item * 2 })));
  }, eagerAt);
  return { batches, coalescer };
}

describe('CallCoalescer', () => {
  it('sends the items submitted in one turn as one batch, each caller with its own answer', async () => {
    const { batches, coalescer } = recorder();
    const answers = await Promise.all([1, 2, 3].map((item) => coalescer.submit(item)));
    expect(answers).toEqual([2, 4, 6]);
    expect(batches).toEqual([{ items: [1, 2, 3], eager: false }]);
  });

  it('sends a batch as soon as eagerAt items wait, and the rest at the end of the turn', async () => {
    const { batches, coalescer } = recorder(2);
    const pending = [1, 2, 3, 4, 5].map((item) => coalescer.submit(item));
    // The full batches left while the items were submitted, before the turn ended.
    expect(batches).toEqual([
      { items: [1, 2], eager: true },
      { items: [3, 4], eager: true },
    ]);
    expect(await Promise.all(pending)).toEqual([2, 4, 6, 8, 10]);
    expect(batches[2]).toEqual({ items: [5], eager: false });
  });

  it('rejects every caller of a batch whose send failed', async () => {
    const coalescer = new CallCoalescer<number, number>(() => Promise.reject(new Error('down')));
    const settled = await Promise.allSettled([coalescer.submit(1), coalescer.submit(2)]);
    expect(settled.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
  });

  it('lets a claim take the wanted items submitted until the flush, even after the claim', async () => {
    const { batches, coalescer } = recorder();
    const early = coalescer.submit(1);
    const claim = coalescer.claimAtFlush((item) => item % 2 === 1, 10);
    const late = [coalescer.submit(2), coalescer.submit(3), coalescer.submit(5)];
    const claimed = await claim;
    expect(claimed.map((waiter) => waiter.item)).toEqual([1, 3, 5]);
    // The claimer answers its items; the others went in the batch.
    for (const waiter of claimed) waiter.resolve(waiter.item * 10);
    expect(await early).toBe(10);
    expect(await Promise.all(late)).toEqual([4, 30, 50]);
    expect(batches).toEqual([{ items: [2], eager: false }]);
  });

  it('gives a claim at most its limit, and an empty list when nothing is wanted', async () => {
    const { batches, coalescer } = recorder();
    const items = [1, 2, 3].map((item) => coalescer.submit(item));
    const [limited, none] = await Promise.all([
      coalescer.claimAtFlush(() => true, 2),
      coalescer.claimAtFlush(() => true, 5),
    ]);
    expect(limited.map((waiter) => waiter.item)).toEqual([1, 2]);
    expect(none.map((waiter) => waiter.item)).toEqual([3]);
    for (const waiter of [...limited, ...none]) waiter.resolve(0);
    expect(await Promise.all(items)).toEqual([0, 0, 0]);
    expect(batches).toEqual([]);
    expect(await coalescer.claimAtFlush(() => true, 5)).toEqual([]);
  });

  it('holds eager sends while a claim waits, so that the claimer sees the items', async () => {
    const { batches, coalescer } = recorder(2);
    const claim = coalescer.claimAtFlush((item) => item > 0, 10);
    const items = [1, 2, 3].map((item) => coalescer.submit(item));
    expect(batches).toEqual([]);
    const claimed = await claim;
    expect(claimed.map((waiter) => waiter.item)).toEqual([1, 2, 3]);
    for (const waiter of claimed) waiter.resolve(waiter.item);
    expect(await Promise.all(items)).toEqual([1, 2, 3]);
  });
});
