import type { Clock, Logger } from '@q/core';
import { delay, sleep } from './timing';

export interface PeriodicTaskOptions {
  /** For logs, e.g. `forwarder`. */
  name: string;
  interval: number;
  /** Run once at start instead of after the first interval. */
  runAtStart: boolean;
  /**
   * Run at whole multiples of `interval` on the clock plus this many milliseconds, instead of `interval`
   * after the previous run ended. The recoverer uses it to look right after the second in which a lease
   * ended; each server takes its own offset, so that they do not all look at the same instant.
   */
  alignOffset?: number;
  run: (signal: AbortSignal) => Promise<void>;
  logger: Logger;
  /** Where the loop reads the time and waits. */
  clock: Clock;
  /** Called with the error of every failed run, before it is logged. */
  onError?: (error: unknown) => void;
}

/** How often a loop that keeps failing says so again. */
const repeatFailureLogInterval = 30_000;

/**
 * A background loop (forwarder, janitor, recoverer, heartbeat…): runs, waits its interval, runs again,
 * one run at a time. A failed run is logged (repeats at most every 30 s) and never ends the loop.
 * `stop` is bounded: it does not wait for a run stuck on an unreachable broker longer than asked.
 */
export class PeriodicTask {
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failingSince: number | undefined;
  private lastFailureLog = 0;

  constructor(private readonly options: PeriodicTaskOptions) {}

  get running(): boolean {
    return this.controller !== undefined && !this.controller.signal.aborted;
  }

  start(): void {
    if (this.running) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.runLoop(controller.signal);
  }

  /** Runs as soon as the current wait allows, without waiting for the interval. */
  trigger(): void {
    this.wake?.();
  }

  /** Stops the loop; resolves when the current run ended or after `timeout` ms, whichever is first. */
  async stop(timeout: number): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    controller.abort();
    this.wake?.();
    const loop = this.loop;
    if (!loop) return;
    const waited = delay(this.options.clock, timeout);
    await Promise.race([loop, waited.done]);
    waited.cancel();
  }

  private async runLoop(signal: AbortSignal): Promise<void> {
    const { runAtStart } = this.options;
    if (!runAtStart) await this.wait(this.nextWait(), signal);
    while (!signal.aborted) {
      await this.runOnce(signal);
      await this.wait(this.nextWait(), signal);
    }
  }

  private nextWait(): number {
    const { interval, alignOffset } = this.options;
    if (alignOffset === undefined) return interval;
    const sinceSlot = (((this.options.clock.now() - alignOffset) % interval) + interval) % interval;
    return interval - sinceSlot;
  }

  private async wait(milliseconds: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const woken = new AbortController();
    this.wake = () => woken.abort();
    const onAbort = (): void => woken.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    await sleep(this.options.clock, milliseconds, woken.signal);
    signal.removeEventListener('abort', onAbort);
    this.wake = undefined;
  }

  private async runOnce(signal: AbortSignal): Promise<void> {
    const { name, logger } = this.options;
    try {
      await this.options.run(signal);
      if (this.failingSince !== undefined) {
        logger.info({ component: name }, `${name} works again`);
        this.failingSince = undefined;
      }
    } catch (error) {
      if (signal.aborted) return;
      this.options.onError?.(error);
      const now = this.options.clock.now();
      if (this.failingSince === undefined || now - this.lastFailureLog >= repeatFailureLogInterval) {
        logger.warn(
          {
            component: name,
            error: error instanceof Error ? error.message : String(error),
            failingForMs: this.failingSince === undefined ? 0 : now - this.failingSince,
          },
          `${name} failed; it will try again in ${this.options.interval} ms`,
        );
        this.lastFailureLog = now;
      }
      this.failingSince ??= now;
    }
  }
}
