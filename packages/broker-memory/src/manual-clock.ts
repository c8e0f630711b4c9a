/**
 * A clock that moves only when a test moves it. Give the same clock to the memory broker, the `Server`
 * (`clock` option), the `Client` and the `Inspector` (`now: clock.now`): then `advance('1m')` runs, in
 * order, every timer that falls due within that minute (heartbeats, fetch waits, lease extensions, task
 * deadlines, the forwarder) and lets the work each one starts settle before the next.
 */
import { ValidationError, toMilliseconds, type Clock, type Duration } from '@q/core';

export interface ManualClock extends Clock {
  /**
   * Moves time forward by `duration`, running every timer that falls due on the way, earliest first,
   * and letting the work each one starts settle before the next one runs.
   */
  advance(duration: Duration): Promise<void>;
  /** Moves time forward to `time` (a `Date` or Unix milliseconds), as `advance` does. */
  advanceTo(time: Date | number): Promise<void>;
  /**
   * Moves time from timer to timer until `condition` holds, and resolves when it does. Throws when it
   * still does not hold once no timer is left or after `limit` of clock time.
   */
  advanceUntil(condition: () => boolean | Promise<boolean>, options?: AdvanceUntilOptions): Promise<void>;
  /**
   * Lets the work already started settle without moving time: promise callbacks and the callbacks queued
   * with `setImmediate`, several rounds deep. Work that waits for real I/O is not waited for.
   */
  settle(): Promise<void>;
  /** How many timers are waiting. */
  readonly pendingTimers: number;
}

export interface AdvanceUntilOptions {
  /**
   * The most clock time to move through before giving up.
   * @default '1h'
   */
  limit?: Duration;
}

export interface ManualClockOptions {
  /**
   * The time the clock starts at (a `Date` or Unix milliseconds).
   * @default the real time when the clock is created
   */
  now?: Date | number;
}

interface ManualTimer {
  at: number;
  sequence: number;
  callback: () => void;
}

/** Rounds of `setImmediate` that `settle` waits: each one first drains every pending promise callback. */
const settleRounds = 10;
/** A timer loop that re-arms itself at zero delay forever would never let `advance` end. */
const maximumTimersPerAdvance = 100_000;

/** Creates a clock that stands still until `advance`, `advanceTo` or `advanceUntil` moves it. */
export function createManualClock(options: ManualClockOptions = {}): ManualClock {
  const start = options.now === undefined ? Date.now() : toTime(options.now, 'now');
  let current = start;
  let sequence = 0;
  const timers = new Set<ManualTimer>();

  const next = (): ManualTimer | undefined => {
    let earliest: ManualTimer | undefined;
    for (const timer of timers) {
      if (
        earliest === undefined ||
        timer.at < earliest.at ||
        (timer.at === earliest.at && timer.sequence < earliest.sequence)
      ) {
        earliest = timer;
      }
    }
    return earliest;
  };

  const settle = async (): Promise<void> => {
    for (let round = 0; round < settleRounds; round += 1) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  const fire = async (timer: ManualTimer): Promise<void> => {
    timers.delete(timer);
    current = Math.max(current, timer.at);
    timer.callback();
    await settle();
  };

  const advanceTo = async (target: number): Promise<void> => {
    await settle();
    for (let fired = 0; ; fired += 1) {
      const timer = next();
      if (timer === undefined || timer.at > target) break;
      if (fired >= maximumTimersPerAdvance) {
        throw new Error(
          `More than ${maximumTimersPerAdvance} timers fell due in one advance; something re-arms a timer at zero delay forever.`,
        );
      }
      await fire(timer);
    }
    current = Math.max(current, target);
    await settle();
  };

  const clock: ManualClock = {
    now: () => current,
    setTimeout(callback, delay) {
      const wait = Number.isFinite(delay) && delay > 0 ? delay : 0;
      sequence += 1;
      const timer: ManualTimer = { at: current + wait, sequence, callback };
      timers.add(timer);
      return timer;
    },
    clearTimeout(handle) {
      timers.delete(handle as ManualTimer);
    },
    advance: async (duration) => advanceTo(current + toMilliseconds(duration, 'advance(duration)')),
    advanceTo: async (time) => advanceTo(toTime(time, 'advanceTo(time)')),
    async advanceUntil(condition, untilOptions = {}) {
      const limit = toMilliseconds(untilOptions.limit ?? '1h', 'advanceUntil({ limit })');
      const deadline = current + limit;
      await settle();
      for (let fired = 0; !(await condition()); fired += 1) {
        const timer = next();
        if (timer === undefined || timer.at > deadline || fired >= maximumTimersPerAdvance) {
          const reason = timer === undefined ? 'no timer is left' : `${limit} ms of clock time passed`;
          throw new Error(`advanceUntil: the condition still does not hold and ${reason}.`);
        }
        await fire(timer);
      }
    },
    settle,
    get pendingTimers() {
      return timers.size;
    },
  };
  return clock;
}

function toTime(value: Date | number, path: string): number {
  const time = value instanceof Date ? value.getTime() : value;
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new ValidationError(`${path} must be a Date or Unix milliseconds, got ${String(value)}.`, [
      { path, message: 'not a time' },
    ]);
  }
  return time;
}
