import { systemClock, type Clock } from '@q/core';

/**
 * The server's `concurrency` slots. The fetch loop takes one for each task it asks for before it
 * dequeues (and gives back the ones the dequeue did not fill); a task gives its slot back only when its
 * handler has settled, whatever the handler did with its abort signal: concurrency is strict.
 */
export class Slots {
  private taken = 0;
  private readonly waiters = new Set<() => void>();
  /** The signals whose abort already wakes the waiters. */
  private readonly watched = new WeakSet<AbortSignal>();
  private timer: unknown;
  private timerAt = Infinity;

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
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /**
   * Resolves at the next `notify()`, when `signal` aborts, or within `timeout` ms (possibly sooner),
   * never rejects. One timer serves every waiter and stays armed after they were woken: the fetch loop
   * waits for a slot after every batch, and a `setTimeout`, a `clearTimeout` and an abort listener per
   * wait were 2-3 % of the worker's profile at concurrency 10. A waiter may thus be woken before its
   * timeout; callers check what they wait for and wait again. `close()` stops the timer.
   */
  wait(timeout: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (!this.watched.has(signal)) {
      this.watched.add(signal);
      signal.addEventListener('abort', () => this.notify(), { once: true });
    }
    const at = this.clock.now() + timeout;
    if (at < this.timerAt) {
      if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
      this.timerAt = at;
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.notify();
      }, timeout);
    }
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /** Stops the timer (the server shut down); waiters still waiting are woken. */
  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.notify();
  }
}
