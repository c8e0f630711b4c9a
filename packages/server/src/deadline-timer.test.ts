import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineTimer } from './deadline-timer';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('DeadlineTimer', () => {
  it('runs each callback once its time has passed, earliest first, with one timer armed', () => {
    const timer = new DeadlineTimer();
    const ran: string[] = [];
    timer.schedule(Date.now() + 300, () => ran.push('c'));
    timer.schedule(Date.now() + 100, () => ran.push('a'));
    timer.schedule(Date.now() + 200, () => ran.push('b'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(ran).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual(['a']);
    vi.advanceTimersByTime(200);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(timer.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never runs a cancelled deadline, wherever it sits in the heap', () => {
    const timer = new DeadlineTimer();
    const ran: number[] = [];
    const deadlines = Array.from({ length: 50 }, (_, index) =>
      timer.schedule(Date.now() + 10 + ((index * 37) % 50), () => ran.push(index)),
    );
    const cancelled = new Set([0, 3, 7, 20, 21, 49]);
    for (const index of cancelled) timer.cancel(deadlines[index]!);
    timer.cancel(deadlines[3]!); // twice is harmless
    vi.advanceTimersByTime(100);
    const expected = [...Array(50).keys()]
      .filter((index) => !cancelled.has(index))
      .sort((left, right) => ((left * 37) % 50) - ((right * 37) % 50));
    expect(ran).toEqual(expected);
  });

  it('keeps its timer armed when every deadline was cancelled, until it fires or clear() stops it', () => {
    const timer = new DeadlineTimer();
    const ran: string[] = [];
    timer.cancel(timer.schedule(Date.now() + 1000, () => ran.push('cancelled')));
    expect(timer.size).toBe(0);
    expect(vi.getTimerCount()).toBe(1);
    // A later deadline needs no new timer: the armed one fires first and re-arms for it.
    timer.schedule(Date.now() + 2000, () => ran.push('later'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual(['later']);
    expect(vi.getTimerCount()).toBe(0);
    timer.cancel(timer.schedule(Date.now() + 1000, () => ran.push('cancelled')));
    timer.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(ran).toEqual(['later']);
  });

  it('moves the timer only for an earlier deadline, and re-arms for what remains after a cancelled head', () => {
    const timer = new DeadlineTimer();
    const ran: string[] = [];
    const first = timer.schedule(Date.now() + 1000, () => ran.push('first'));
    timer.schedule(Date.now() + 5000, () => ran.push('later'));
    timer.cancel(first);
    // The timer stays armed for the cancelled head; firing then finds nothing due and re-arms.
    vi.advanceTimersByTime(1000);
    expect(ran).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    timer.schedule(Date.now() + 500, () => ran.push('earlier'));
    vi.advanceTimersByTime(500);
    expect(ran).toEqual(['earlier']);
    vi.advanceTimersByTime(3500);
    expect(ran).toEqual(['earlier', 'later']);
  });

  it('reaches deadlines beyond setTimeout’s 24.8-day limit', () => {
    const timer = new DeadlineTimer();
    const ran = vi.fn();
    const days40 = 40 * 86_400_000;
    timer.schedule(Date.now() + days40, ran);
    vi.advanceTimersByTime(days40 - 1);
    expect(ran).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ran).toHaveBeenCalledOnce();
  });

  it('keeps going when a callback throws, and clear() drops what is left', () => {
    const timer = new DeadlineTimer();
    const ran: string[] = [];
    timer.schedule(Date.now() + 10, () => {
      throw new Error('listener failed');
    });
    timer.schedule(Date.now() + 20, () => ran.push('next'));
    timer.schedule(Date.now() + 30, () => ran.push('dropped'));
    expect(() => vi.advanceTimersByTime(10)).toThrow('listener failed');
    vi.advanceTimersByTime(10);
    expect(ran).toEqual(['next']);
    timer.clear();
    vi.advanceTimersByTime(100);
    expect(ran).toEqual(['next']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
