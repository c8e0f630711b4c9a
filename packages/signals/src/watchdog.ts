/**
 * The shutdown watchdog's timer: once armed it fires at its deadline unless disarmed. Its timer keeps the
 * event loop alive on purpose, so that a shutdown that hangs with nothing else scheduled still ends in the
 * watchdog's loud, non-zero exit rather than in silence.
 */
export class Watchdog {
  readonly #onExpire: (reason: string) => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #deadline: number | undefined;
  #reason = '';

  constructor(onExpire: (reason: string) => void, now: () => number = Date.now) {
    this.#onExpire = onExpire;
    this.#now = now;
  }

  /** When the watchdog fires, Unix milliseconds; undefined while disarmed. */
  get deadline(): number | undefined {
    return this.#deadline;
  }

  /**
   * Fires `onExpire(reason)` at `deadline`. An armed watchdog only ever moves earlier: a later deadline
   * than the current one is ignored, so no signal can postpone the exit.
   */
  arm(deadline: number, reason: string): void {
    if (this.#deadline !== undefined && this.#deadline <= deadline) return;
    clearTimeout(this.#timer);
    this.#deadline = deadline;
    this.#reason = reason;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#onExpire(this.#reason);
      },
      Math.max(0, deadline - this.#now()),
    );
  }

  disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#deadline = undefined;
  }
}
