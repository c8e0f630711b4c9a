import { systemClock, type Clock } from '@q/core';

/**
 * The server's `concurrency` slots. The fetch loop takes one for each task it asks for before it
 * dequeues (and gives back the ones the dequeue did not fill); a task gives its slot back only when its
 * handler has settled, whatever the handler did with its abort signal: concurrency is strict.
 */
export class Slots {
  private taken = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly capacity: number,
    private readonly clock: Clock = systemClock,
  ) {}

  get free(): number {
    return this.capacity - this.taken;
  }

  get inUse(): number {
    return this.taken;
  }

  /** Takes `count` slots (the fetch loop reserves them before it dequeues). */
  take(count = 1): void {
    this.taken += count;
  }

  release(count = 1): void {
    this.taken -= count;
    this.notify();
  }

  /** Wakes every waiter: a slot came free, or something they wait on changed. */
  notify(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves at the next `notify()`, after `timeout` ms, or when `signal` aborts. Never rejects. */
  wait(timeout: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = this.clock.setTimeout(done, timeout);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
