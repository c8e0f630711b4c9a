import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Slots } from './slots';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});

afterEach(() => {
  vi.useRealTimers();
});

/** Whether the promise settled by now (after the pending promise jobs ran). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('Slots', () => {
  it('counts what is taken and what is free', () => {
    const slots = new Slots(10);
    slots.take(4);
    expect(slots.free).toBe(6);
    expect(slots.inUse).toBe(4);
    slots.release(3);
    expect(slots.free).toBe(9);
  });

  it('wakes every waiter when a slot comes free', async () => {
    const slots = new Slots(2);
    slots.take(2);
    const controller = new AbortController();
    const first = slots.wait(1000, controller.signal);
    const second = slots.wait(1000, controller.signal);
    expect(await settled(first)).toBe(false);
    slots.release();
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(true);
  });

  it('wakes waiters after their timeout, with one timer for all of them that stays armed', async () => {
    const slots = new Slots(1);
    const controller = new AbortController();
    const waits = [slots.wait(1000, controller.signal), slots.wait(1000, controller.signal)];
    expect(vi.getTimerCount()).toBe(1);
    slots.notify();
    await Promise.all(waits);
    // The timer was not cleared: the next wait needs no new one.
    const next = slots.wait(1000, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(next)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(next)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    const late = slots.wait(1000, controller.signal);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(late)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(late)).toBe(true);
  });

  it('moves the timer for a shorter timeout', async () => {
    const slots = new Slots(1);
    const controller = new AbortController();
    const long = slots.wait(60_000, controller.signal);
    const short = slots.wait(100, controller.signal);
    await vi.advanceTimersByTimeAsync(100);
    expect(await settled(short)).toBe(true);
    // Woken early too: a waiter checks what it waits for and waits again.
    expect(await settled(long)).toBe(true);
  });

  it('wakes waiters when their signal aborts, with one listener per signal', async () => {
    const slots = new Slots(1);
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const waits = [slots.wait(60_000, controller.signal), slots.wait(60_000, controller.signal)];
    expect(add).toHaveBeenCalledOnce();
    controller.abort();
    expect(await settled(Promise.all(waits))).toBe(true);
    expect(await settled(slots.wait(60_000, controller.signal))).toBe(true);
  });

  it('stops its timer and wakes what still waits on close()', async () => {
    const slots = new Slots(1);
    const waiting = slots.wait(60_000, new AbortController().signal);
    slots.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(await settled(waiting)).toBe(true);
  });
});
