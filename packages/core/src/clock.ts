/**
 * Time as @q's components read it: the current time and one-shot timers. Every loop of a server reads
 * time through a `Clock`, so that a test can hand it a manual clock (see `@q/broker-memory`) and move
 * time forward instead of waiting for it.
 */
export interface Clock {
  /** The current time, Unix milliseconds. Safe to pass on detached (`now: clock.now`). */
  readonly now: () => number;
  /** Calls `callback` once, `delay` milliseconds from now. Returns a handle for `clearTimeout`. */
  readonly setTimeout: (callback: () => void, delay: number) => unknown;
  /** Cancels a timer of this clock; a handle that already fired or was cleared is ignored. */
  readonly clearTimeout: (handle: unknown) => void;
}

/**
 * The real clock: `Date.now()` and the runtime's own timers, looked up at each call (so that a test
 * framework's fake timers apply to it too).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delay) => setTimeout(callback, delay),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};
