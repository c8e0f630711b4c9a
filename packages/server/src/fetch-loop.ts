/**
 * The fetch loop: dequeues as many tasks as there are free slots, in the order the queue weights choose,
 * and hands them to be run. When every queue ran dry it waits for a producer's wake-up, or polls again
 * after `taskCheckInterval` (producers that do not signal, such as Go Asynq's, are found by the poll).
 * While the broker is unreachable it backs off instead of spinning. Queues held back by a flow limit
 * (brokers with flow control) count as dry: the loop waits for a wake-up (a slot freed anywhere, a limit
 * changed), or until the broker said a token comes free, whichever is first.
 *
 * The loop runs in two to four lanes, each asking for at most its share of the slots: while Node runs the
 * tasks one dequeue brought, Redis already answers another lane's acknowledgements and dequeue. One lane
 * alone alternates the two (Node waiting on Redis, then Redis on Node), which kept a worker at half its
 * speed on a two-core machine. A lane reserves its slots before it asks, so that together the lanes never
 * take more tasks than there are slots; a lane asks again as soon as its slots come free. When the queues
 * run dry only the first lane waits for a wake-up or polls; the others rest until it finds a full batch.
 */
import { BrokerUnavailableError, type DequeueResult, type FlowDequeueResult, type LeasedTask } from '@q/core';
import { Backoff } from './backoff';
import type { BrokerReachability } from './broker-reachability';
import { createQueueOrder, type QueueOrder } from './queue-order';
import type { ResolvedServerOptions } from './server-options';
import type { Slots } from './slots';
import { delay, settleWithin, sleep, unlessAborted, withTimeout } from './timing';

/** How long a broker call in normal operation may take before it counts as failed. */
const brokerCallTimeout = 10_000;
/** A dequeue unanswered for this long means the broker is unreachable (it normally takes milliseconds). */
const slowAnswerThreshold = 2000;
/** How often the fetch loop logs repeated failures. */
const fetchErrorLogInterval = 10_000;
/**
 * Dequeues in flight at once: two, and one more per ten slots up to four, never more than the slots.
 * Enough to keep Node and Redis busy together without cutting the batches small. Measured with
 * `pnpm bench --scenario drain`: at concurrency 50, one lane made 34k tasks/s, two 40k, four 57k (on a
 * quiet machine); at concurrency 10, two lanes of five and four of three were level within the noise.
 */
function laneCount(capacity: number): number {
  return Math.max(1, Math.min(4, capacity, Math.max(2, Math.floor(capacity / 10))));
}

/** What one lane of the loop remembers between rounds. */
interface Lane {
  /** The first lane waits for wake-ups and polls when the queues ran dry; the others wait for it. */
  readonly first: boolean;
  readonly backoff: Backoff;
  /** This lane's last dequeue found fewer tasks than it asked for. */
  queuesRanDry: boolean;
}

export interface FetchLoopOptions {
  options: ResolvedServerOptions;
  reachability: BrokerReachability;
  slots: Slots;
  /** Aborted once the shutdown deadline passed: tasks dequeued after that go straight back. */
  closing: AbortSignal;
  /** Runs a task just taken (it has already taken its slot). */
  startTask: (leased: LeasedTask) => void;
}

export class FetchLoop {
  /** The last time the loop went round (it goes round at least every `taskCheckInterval`). */
  lastFetchAt: number | undefined;
  /**
   * Queues the broker said have flow limits: a finished task of theirs frees a slot that servers waiting
   * on the queue must hear about. Empty unless limits are set.
   */
  readonly limitedQueues = new Set<string>();

  private readonly options: ResolvedServerOptions;
  private readonly reachability: BrokerReachability;
  private readonly slots: Slots;
  private readonly closing: AbortSignal;
  private readonly startTask: (leased: LeasedTask) => void;
  private readonly queueOrder: QueueOrder;
  private controller: AbortController | undefined;
  private loop: Promise<void> = Promise.resolve();
  private lastErrorLog = 0;
  /** The most tasks one dequeue asks for: the slots shared among the lanes. */
  private readonly batchLimit: number;
  private readonly lanes: number;
  /** The last dequeue of any lane found fewer tasks than it asked for: the other lanes rest. */
  private dry = true;
  /** Lanes resting while the queues are dry, woken when the first lane finds a full batch. */
  private readonly resting = new Set<() => void>();

  constructor({ options, reachability, slots, closing, startTask }: FetchLoopOptions) {
    this.options = options;
    this.reachability = reachability;
    this.slots = slots;
    this.closing = closing;
    this.startTask = startTask;
    this.queueOrder = createQueueOrder(options.queues, options.strictPriority);
    this.lanes = laneCount(slots.capacity);
    this.batchLimit = Math.ceil(slots.capacity / this.lanes);
  }

  get running(): boolean {
    return this.controller !== undefined && !this.controller.signal.aborted;
  }

  /** Starts the loop (after the previous one, if any, has ended: two loops would overfill the slots). */
  start(): void {
    if (this.running) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.loop.then(() => this.run(controller.signal));
  }

  /** Stops dequeuing; resolves once the loop ended or after `timeout` ms. Running tasks continue. */
  async stop(timeout: number): Promise<void> {
    this.controller?.abort();
    const waited = delay(this.options.clock, timeout);
    await Promise.race([this.loop, waited.done]);
    waited.cancel();
  }

  private async run(signal: AbortSignal): Promise<void> {
    this.dry = true;
    const lanes: Promise<void>[] = [];
    for (let index = 0; index < this.lanes; index += 1) {
      lanes.push(
        this.runLane({ first: index === 0, backoff: new Backoff(100, 2000), queuesRanDry: true }, signal),
      );
    }
    await Promise.all(lanes);
  }

  private async runLane(lane: Lane, signal: AbortSignal): Promise<void> {
    const onAbort = (): void => this.wakeResting();
    signal.addEventListener('abort', onAbort, { once: true });
    while (!signal.aborted) {
      try {
        if (!lane.first && this.dry) await this.rest(signal);
        else await this.fetchOnce(lane, signal);
      } catch (error) {
        // Only a bug gets here; the loop must outlive it.
        this.options.logger.error(
          { error: error instanceof Error ? error.message : String(error) },
          'the fetch loop failed unexpectedly; it goes on after a pause',
        );
        await sleep(this.options.clock, lane.backoff.next(), signal);
      }
    }
    signal.removeEventListener('abort', onAbort);
  }

  /** A lane other than the first waits while the queues are dry, until the first finds a full batch. */
  private rest(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.resting.add(resolve));
  }

  private wakeResting(): void {
    if (this.resting.size === 0) return;
    const resting = [...this.resting];
    this.resting.clear();
    for (const wake of resting) wake();
  }

  private async fetchOnce(lane: Lane, signal: AbortSignal): Promise<void> {
    const { broker, clock, leaseDuration, taskCheckInterval, logger } = this.options;
    const { backoff } = lane;
    this.lastFetchAt = clock.now();
    const free = Math.min(this.slots.free, this.batchLimit);
    if (free <= 0 || signal.aborted) {
      await this.slots.wait(taskCheckInterval, signal);
      return;
    }
    const queues = this.queueOrder();
    // When the queues ran dry last time, listen for a producer's wake-up before dequeuing, so that a task
    // enqueued between an empty dequeue and the wait is not missed until the next poll.
    const wait = lane.first && lane.queuesRanDry ? this.startWaiting(queues, signal) : undefined;
    // Reserved now, so that the other lane does not ask for them too; what the dequeue did not fill is
    // given back when it answers.
    this.slots.take(free);
    const dequeuing = broker.dequeue(queues, { count: free, leaseDuration });
    const result = await this.awaitDequeue(dequeuing, signal);
    if (result.status !== 'fulfilled') this.slots.release(free);
    if (result.status === 'aborted') {
      wait?.cancel();
      // Stopped while waiting: whatever the dequeue takes when it answers goes straight back.
      void dequeuing.then(
        (late) => this.handBack(late),
        () => undefined,
      );
      return;
    }
    if (result.status === 'rejected') {
      wait?.cancel();
      await this.pauseAfterError(result.reason, backoff, signal);
      return;
    }
    const { tasks, malformed } = result.value;
    const flowWait = this.readFlow(result.value);
    this.reachability.succeeded();
    backoff.reset();
    if (this.closing.aborted) {
      this.slots.release(free);
      wait?.cancel();
      await this.handBack(result.value);
      return;
    }
    for (const record of malformed) {
      logger.error(
        { queue: record.queue, taskId: record.taskId, reason: record.reason },
        'a malformed task record was found and archived by the broker; fix or delete it with the inspector',
      );
    }
    // Each task started keeps the slot reserved for it.
    if (tasks.length < free) this.slots.release(free - tasks.length);
    for (const leased of tasks) this.startTask(leased);
    lane.queuesRanDry = tasks.length + malformed.length < free;
    this.dry = lane.queuesRanDry;
    if (!this.dry) this.wakeResting();
    if (!lane.queuesRanDry || !wait || signal.aborted) {
      wait?.cancel();
      return;
    }
    // Every queue was empty, paused or at its limit: wait for a wake-up, for the moment a limit lets a
    // task be taken again, or poll again after the interval.
    try {
      if (flowWait !== undefined && this.allHeldForAWhile(queues, result.value)) {
        // Nothing to take before then whatever is enqueued: wake-ups would only cost dequeues.
        wait.cancel();
        await sleep(clock, Math.min(flowWait, taskCheckInterval), signal);
        return;
      }
      if (flowWait !== undefined && flowWait < taskCheckInterval) {
        const tokenFree = sleep(clock, flowWait, signal).then(() => 'token' as const);
        const outcome = await Promise.race([unlessAborted(wait.woken, signal), tokenFree]);
        wait.cancel();
        if (outcome === 'token') return;
      }
      const woken = await unlessAborted(wait.woken, signal);
      const elapsed = clock.now() - wait.startedAt;
      // A broker that cannot block returns at once; do not let it turn this loop into a busy loop.
      if (woken === false && elapsed < taskCheckInterval / 2) {
        await sleep(clock, taskCheckInterval - elapsed, signal);
      }
    } catch (error) {
      await this.pauseAfterError(error, backoff, signal);
    }
  }

  /**
   * Notes which queues have flow limits, and returns the shortest time until a held-back queue can give
   * a task again (undefined when none was held back, or when each waits on running tasks).
   */
  private readFlow(result: FlowDequeueResult): number | undefined {
    const { limited, held } = result;
    if (limited === undefined && this.limitedQueues.size === 0) return undefined;
    const limitedNow = new Set(limited);
    for (const queue of limitedNow) this.limitedQueues.add(queue);
    // A queue that gave tasks without being reported limited has no limits (any more).
    for (const leased of result.tasks) {
      if (!limitedNow.has(leased.message.queue)) this.limitedQueues.delete(leased.message.queue);
    }
    let wait: number | undefined;
    for (const hold of held ?? []) {
      if (hold.retryAfter !== undefined) wait = Math.min(wait ?? Infinity, hold.retryAfter);
    }
    return wait;
  }

  /**
   * Every queue was held back by a rate or a pause (not by running tasks, whose end wakes the loop, nor
   * by per-key limits: a task of another flow key enqueued meanwhile can be taken at once).
   */
  private allHeldForAWhile(queues: readonly string[], result: FlowDequeueResult): boolean {
    const timed = new Set(
      (result.held ?? [])
        .filter((hold) => hold.retryAfter !== undefined && hold.reason !== 'keys')
        .map((hold) => hold.queue),
    );
    return queues.every((queue) => timed.has(queue));
  }

  private startWaiting(
    queues: readonly string[],
    signal: AbortSignal,
  ): { woken: Promise<boolean>; cancel: () => void; startedAt: number } {
    const { broker, clock, taskCheckInterval } = this.options;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const woken = withTimeout(
      clock,
      broker.waitForTasks(queues, taskCheckInterval, controller.signal),
      taskCheckInterval + brokerCallTimeout,
      'waitForTasks',
    ).finally(() => signal.removeEventListener('abort', onAbort));
    // A wait that is cancelled, or fails while the dequeue fails too, must not become an unhandled rejection.
    woken.catch(() => undefined);
    return { woken, cancel: () => controller.abort(), startedAt: clock.now() };
  }

  /**
   * Waits for a dequeue for as long as it takes. When Redis is unreachable the call is queued by the
   * client and runs once Redis returns; abandoning it and dequeuing again would strand the tasks it then
   * takes. A slow answer only marks the broker unreachable (and keeps `lastFetchAt` fresh: the loop lives).
   */
  private async awaitDequeue(
    dequeuing: Promise<DequeueResult>,
    signal: AbortSignal,
  ): Promise<
    | { status: 'fulfilled'; value: DequeueResult }
    | { status: 'rejected'; reason: unknown }
    | { status: 'aborted' }
  > {
    for (let waited = 0; ; waited += slowAnswerThreshold) {
      const settlement = await settleWithin(this.options.clock, dequeuing, slowAnswerThreshold, signal);
      if (settlement.status !== 'timeout') return settlement;
      this.lastFetchAt = this.options.clock.now();
      this.reachability.failed(
        new BrokerUnavailableError(
          `The broker has not answered a dequeue for ${waited + slowAnswerThreshold} ms; check that it is reachable.`,
        ),
      );
    }
  }

  /** Puts tasks taken after the fetch loop stopped back at the head of pending. */
  private async handBack(result: DequeueResult): Promise<void> {
    const { broker, logger } = this.options;
    await Promise.all(
      result.tasks.map((leased) =>
        withTimeout(
          this.options.clock,
          broker.requeue(leased.message, leased.leaseToken === undefined ? {} : { token: leased.leaseToken }),
          1000,
          'requeue',
        ).catch((error: unknown) => {
          logger.warn(
            { taskId: leased.message.id, error: error instanceof Error ? error.message : String(error) },
            'could not hand back a task dequeued after the server stopped fetching; the recoverer will retry it',
          );
        }),
      ),
    );
  }

  private async pauseAfterError(error: unknown, backoff: Backoff, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.reachability.failed(error);
    const wait = backoff.next();
    const now = this.options.clock.now();
    if (now - this.lastErrorLog >= fetchErrorLogInterval) {
      this.lastErrorLog = now;
      this.options.logger.warn(
        { error: error instanceof Error ? error.message : String(error), retryInMs: wait },
        'could not fetch tasks from the broker; retrying with backoff',
      );
    }
    await sleep(this.options.clock, wait, signal);
  }
}
