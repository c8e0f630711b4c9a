/**
 * The processing engine, read top to bottom: the fetch loop (`fetch-loop.ts`) takes tasks for the free
 * slots (`slots.ts`); each runs in the task runner (`task-runner.ts`) with its deadline on one shared
 * timer (`deadline-timer.ts`); its outcome is decided (`outcome-policy.ts`) and written
 * (`outcome-writer.ts`); the lease keeper (`task-leases.ts`) keeps the leases of running tasks alive.
 * This class ties them together for the server: start and stop fetching, cancel, and shutdown.
 */
import { setMaxListeners } from 'node:events';
import { type LeasedTask } from '@q/core';
import { type ActiveTask, createActiveTask } from './active-task';
import type { BrokerReachability } from './broker-reachability';
import { DeadlineTimer } from './deadline-timer';
import { FetchLoop } from './fetch-loop';
import { FlowSlotAnnouncer } from './flow-slot-announcer';
import type { Handler } from './handler';
import { OutcomeWriter } from './outcome-writer';
import type { ResolvedServerOptions } from './server-options';
import { Slots } from './slots';
import { TaskAbortedError } from './task-aborted-error';
import { computeTaskDeadline } from './task-deadline';
import { extendLeases } from './task-leases';
import { leaseLostError, TaskRunner } from './task-runner';

export type { ActiveTask } from './active-task';

export interface ProcessorOptions {
  options: ResolvedServerOptions;
  handler: Handler;
  reachability: BrokerReachability;
  /** A handler ignored its abort signal for longer than the grace period. */
  onOverdue: (task: ActiveTask) => void;
}

export class Processor {
  /** Every task taken from the broker whose handler runs or whose outcome is being written. */
  readonly active = new Set<ActiveTask>();

  private readonly options: ResolvedServerOptions;
  private readonly reachability: BrokerReachability;
  private readonly slots: Slots;
  private readonly deadlines: DeadlineTimer;
  private readonly runner: TaskRunner;
  private readonly fetchLoop: FetchLoop;
  /** Aborted once the shutdown deadline passed: outcome writes stop retrying. */
  private readonly closing = new AbortController();
  private readonly flowSlots: FlowSlotAnnouncer;
  private readonly finish = (entry: ActiveTask): void => {
    this.runner.settle(entry);
    this.active.delete(entry);
    this.slots.notify();
    const limited = this.fetchLoop.limitedQueues;
    if (limited.size > 0 && limited.has(entry.message.queue)) this.flowSlots.announce(entry.message.queue);
  };

  constructor({ options, handler, reachability, onOverdue }: ProcessorOptions) {
    this.options = options;
    this.reachability = reachability;
    this.slots = new Slots(options.concurrency, options.clock);
    this.deadlines = new DeadlineTimer(options.clock);
    this.flowSlots = new FlowSlotAnnouncer(options.broker, options.logger);
    // Outcome writes that retry listen for the shutdown deadline: as many listeners as tasks in flight.
    setMaxListeners(0, this.closing.signal);
    this.runner = new TaskRunner({
      options,
      handler,
      slots: this.slots,
      deadlines: this.deadlines,
      writer: new OutcomeWriter(options, reachability, this.closing.signal),
      onOverdue,
    });
    this.fetchLoop = new FetchLoop({
      options,
      reachability,
      slots: this.slots,
      closing: this.closing.signal,
      startTask: (leased) => this.startTask(leased),
    });
  }

  /** The last time the fetch loop went round. */
  get lastFetchAt(): number | undefined {
    return this.fetchLoop.lastFetchAt;
  }

  get fetching(): boolean {
    return this.fetchLoop.running;
  }

  startFetching(): void {
    this.fetchLoop.start();
  }

  /** Stops dequeuing; resolves once the loop ended or after `timeout` ms. Running tasks continue. */
  stopFetching(timeout: number): Promise<void> {
    return this.fetchLoop.stop(timeout);
  }

  /** Resolves when every task taken has settled and its outcome was written, or when `signal` aborts. */
  async waitUntilIdle(signal: AbortSignal): Promise<void> {
    while (this.active.size > 0 && !signal.aborted) await this.slots.wait(60_000, signal);
  }

  /** Aborts the running attempt of `taskId` (a cancel request). Returns whether it runs here. */
  cancel(taskId: string): boolean {
    let found = false;
    for (const entry of this.active) {
      if (entry.message.id !== taskId || entry.settled || entry.abortedAt !== undefined) continue;
      found = true;
      this.runner.abort(entry, new TaskAbortedError('cancel'));
    }
    return found;
  }

  /** True when this server runs `taskId` and still holds its lease (the recoverer leaves it alone). */
  holdsLease(taskId: string): boolean {
    for (const entry of this.active) {
      if (entry.message.id === taskId && !entry.leaseLost && !entry.released) return true;
    }
    return false;
  }

  /**
   * Shutdown deadline: aborts every handler whose outcome is not decided yet and returns those tasks,
   * for the server to requeue. Outcome writes still waiting give up.
   */
  abandonUndecided(): ActiveTask[] {
    this.closing.abort();
    const abandoned: ActiveTask[] = [];
    for (const entry of this.active) {
      entry.interruptWrite?.();
      if (entry.decided) continue;
      entry.decided = true;
      abandoned.push(entry);
      this.runner.abort(entry, new TaskAbortedError('shutdown'));
    }
    return abandoned;
  }

  /** Stops the timers of the deadlines and the slots, once the server shut down. */
  close(): void {
    this.deadlines.clear();
    this.slots.close();
  }

  /** Extends the leases of every task whose outcome is not written yet (see `task-leases.ts`). */
  extendLeases(): Promise<void> {
    return extendLeases(this.active, {
      options: this.options,
      reachability: this.reachability,
      loseLease: (entry, why) => this.loseLease(entry, why),
    });
  }

  private startTask(leased: LeasedTask): void {
    const now = this.options.clock.now();
    const entry = createActiveTask(leased, computeTaskDeadline(leased.message, now), now);
    this.active.add(entry);
    // Its slot was taken by the fetch loop before the dequeue.
    this.runner.run(entry).then(
      () => this.finish(entry),
      (error: unknown) => {
        this.options.logger.error(
          { taskId: entry.message.id, error: error instanceof Error ? error.message : String(error) },
          'unexpected error while running a task',
        );
        this.finish(entry);
      },
    );
  }

  private loseLease(entry: ActiveTask, why: string): void {
    entry.leaseLost = true;
    entry.decided = true;
    entry.released = true;
    const { id, queue, type } = entry.message;
    this.options.logger.warn(
      { taskId: id, queue, type, why },
      'lost the lease on a running task; it is stopped and nothing is recorded for it (the recoverer retries it)',
    );
    this.runner.abort(entry, leaseLostError(queue, id, why));
    entry.interruptWrite?.();
  }
}
