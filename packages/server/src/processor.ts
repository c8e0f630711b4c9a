/**
 * The fetch loop and the tasks it runs: dequeues as many tasks as there are free slots, runs each
 * handler with an abort signal, records the outcome the way Go Asynq does, and keeps the leases of
 * running tasks alive. A slot is free only once its handler has settled, so concurrency is strict.
 */
import { setMaxListeners } from 'node:events';
import {
  BrokerUnavailableError,
  type DequeueResult,
  type LeaseFence,
  LeaseLostError,
  type LeasedTask,
  type TaskMessage,
  TaskNotFoundError,
  TaskStateError,
  taskDefaults,
} from '@q/core';
import { Backoff } from './backoff';
import type { BrokerReachability } from './broker-reachability';
import { errorMessageOf, toError } from './error-chain';
import type { Handler, Task, TaskContext } from './handler';
import { createQueueOrder, type QueueOrder } from './queue-order';
import { computeRetryDelay, retryAt } from './retry-delay';
import { RevokeTask } from './revoke-task';
import type { ResolvedServerOptions } from './server-options';
import { SkipRetry } from './skip-retry';
import { TaskAbortedError } from './task-aborted-error';
import { computeTaskDeadline, type TaskDeadline } from './task-deadline';
import { taskFromMessage, taskFromMessageLenient } from './task-from-message';
import { setLongTimeout, settleWithin, sleep, unlessAborted, withTimeout } from './timing';

/** One task taken from the broker, from dequeue until its handler settled and its outcome was written. */
export interface ActiveTask {
  readonly message: TaskMessage;
  readonly startedAt: number;
  /** When the handler's time runs out, and whether its timeout or its deadline ends it. */
  readonly deadline: TaskDeadline;
  readonly controller: AbortController;
  /** Every outcome write carries it, so that the broker refuses it once another worker holds the task. */
  readonly fence: LeaseFence;
  /** The lease end as last confirmed by the broker. */
  leaseExpiresAt: number;
  /** The handler returned or threw. */
  settled: boolean;
  /** What happens to the task is decided: an outcome is being written, it was requeued, or its lease was lost. */
  decided: boolean;
  /** Nothing more will be written for the task: its lease no longer needs extending. */
  released: boolean;
  leaseLost: boolean;
  /** When the handler's signal was aborted. */
  abortedAt: number | undefined;
}

export interface ProcessorOptions {
  options: ResolvedServerOptions;
  handler: Handler;
  reachability: BrokerReachability;
  /** A handler ignored its abort signal for longer than the grace period. */
  onOverdue: (task: ActiveTask) => void;
}

function fenceOf(leased: LeasedTask): LeaseFence {
  return leased.leaseToken === undefined ? {} : { token: leased.leaseToken };
}

/** How long a broker call in normal operation may take before it counts as failed. */
const brokerCallTimeout = 10_000;
/** A dequeue unanswered for this long means the broker is unreachable (it normally takes milliseconds). */
const slowAnswerThreshold = 2000;
/** How long an aborted handler may take to settle before it is reported as overdue. */
const overdueGracePeriod = 1000;
/** How often the fetch loop logs repeated failures. */
const fetchErrorLogInterval = 10_000;

export class Processor {
  /** Every task taken from the broker whose handler runs or whose outcome is being written. */
  readonly active = new Set<ActiveTask>();
  /** The last time the fetch loop went round (it goes round at least every `taskCheckInterval`). */
  lastFetchAt: number | undefined;

  private readonly options: ResolvedServerOptions;
  private readonly handler: Handler;
  private readonly reachability: BrokerReachability;
  private readonly onOverdue: (task: ActiveTask) => void;
  private readonly queueOrder: QueueOrder;
  private fetchController: AbortController | undefined;
  private fetchLoop: Promise<void> = Promise.resolve();
  private readonly slotListeners = new Set<() => void>();
  /** Tasks whose handler has not settled: each holds one of the `concurrency` slots. */
  private slotsTaken = 0;
  /** Aborted once the shutdown deadline passed: outcome writes stop retrying. */
  private readonly closing = new AbortController();
  private lastFetchErrorLog = 0;
  /** The last dequeue found fewer tasks than it asked for. */
  private queuesRanDry = true;

  constructor({ options, handler, reachability, onOverdue }: ProcessorOptions) {
    this.options = options;
    this.handler = handler;
    this.reachability = reachability;
    this.onOverdue = onOverdue;
    this.queueOrder = createQueueOrder(options.queues, options.strictPriority);
    // Every outcome being written listens for the shutdown deadline: as many listeners as tasks in flight.
    setMaxListeners(0, this.closing.signal);
  }

  get fetching(): boolean {
    return this.fetchController !== undefined && !this.fetchController.signal.aborted;
  }

  /** Starts the fetch loop (after the previous one, if any, has ended: two loops would overfill the slots). */
  startFetching(): void {
    if (this.fetching) return;
    const controller = new AbortController();
    this.fetchController = controller;
    this.fetchLoop = this.fetchLoop.then(() => this.runFetchLoop(controller.signal));
  }

  /** Stops dequeuing; resolves once the loop ended or after `timeout` ms. Running tasks continue. */
  async stopFetching(timeout: number): Promise<void> {
    this.fetchController?.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.fetchLoop,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout))),
    ]);
    clearTimeout(timer);
  }

  /** Resolves when every task taken has settled and its outcome was written, or when `signal` aborts. */
  async waitUntilIdle(signal: AbortSignal): Promise<void> {
    while (this.active.size > 0 && !signal.aborted) await this.waitForSlot(60_000, signal);
  }

  /** Aborts the running attempt of `taskId` (a cancel request). Returns whether it runs here. */
  cancel(taskId: string): boolean {
    let found = false;
    for (const entry of this.active) {
      if (entry.message.id !== taskId || entry.settled || entry.abortedAt !== undefined) continue;
      found = true;
      this.abort(entry, new TaskAbortedError('cancel'));
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
   * for the server to requeue. Outcome writes still retrying give up.
   */
  abandonUndecided(): ActiveTask[] {
    this.closing.abort();
    const abandoned: ActiveTask[] = [];
    for (const entry of this.active) {
      if (entry.decided) continue;
      entry.decided = true;
      abandoned.push(entry);
      this.abort(entry, new TaskAbortedError('shutdown'));
    }
    return abandoned;
  }

  /**
   * Extends the lease of every task whose outcome is not written yet, one broker call per queue. A task
   * whose lease the broker no longer holds, or whose lease ran out because the broker could not be
   * reached, is stopped and nothing is written for it: the recoverer retries it.
   */
  async extendLeases(): Promise<void> {
    const now = Date.now();
    const byQueue = new Map<string, ActiveTask[]>();
    for (const entry of this.active) {
      if (entry.released || entry.leaseLost) continue;
      if (entry.leaseExpiresAt <= now) {
        this.loseLease(entry, 'it ran out before the broker could be reached to extend it');
        continue;
      }
      const entries = byQueue.get(entry.message.queue) ?? [];
      entries.push(entry);
      byQueue.set(entry.message.queue, entries);
    }
    const { broker, leaseDuration } = this.options;
    const failures: unknown[] = [];
    await Promise.all(
      [...byQueue].map(async ([queue, entries]) => {
        const ids = [...new Set(entries.map((entry) => entry.message.id))];
        const tokens = new Map<string, string>();
        for (const entry of entries) {
          if (entry.fence.token !== undefined) tokens.set(entry.message.id, entry.fence.token);
        }
        try {
          const extension = await withTimeout(
            broker.extendLeases(queue, ids, leaseDuration, tokens.size > 0 ? tokens : undefined),
            Math.min(brokerCallTimeout, leaseDuration / 2),
            'extendLeases',
          );
          this.reachability.succeeded();
          const lost = new Set(extension.lost);
          for (const entry of entries) {
            if (entry.released || entry.leaseLost) continue;
            if (lost.has(entry.message.id)) this.loseLease(entry, 'the broker no longer holds it');
            else entry.leaseExpiresAt = Math.max(entry.leaseExpiresAt, extension.leaseExpiresAt);
          }
        } catch (error) {
          this.reachability.failed(error);
          failures.push(error);
        }
      }),
    );
    if (failures.length > 0) throw failures[0];
  }

  // -------------------------------------------------------------------------------------------------
  // Fetching

  private async runFetchLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(100, 2000);
    while (!signal.aborted) {
      try {
        await this.fetchOnce(signal, backoff);
      } catch (error) {
        // Only a bug gets here; the loop must outlive it.
        this.options.logger.error(
          { error: error instanceof Error ? error.message : String(error) },
          'the fetch loop failed unexpectedly; it goes on after a pause',
        );
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async fetchOnce(signal: AbortSignal, backoff: Backoff): Promise<void> {
    this.lastFetchAt = Date.now();
    const { broker, concurrency, leaseDuration, taskCheckInterval, logger } = this.options;
    // Handlers that finish together settle over several microtasks: let them all free their slots, so
    // that one dequeue asks for all the free slots instead of one dequeue per slot.
    if (this.slotsTaken > 0) await new Promise((resolve) => setImmediate(resolve));
    const free = concurrency - this.slotsTaken;
    if (free <= 0) {
      await this.waitForSlot(taskCheckInterval, signal);
      return;
    }
    const queues = this.queueOrder();
    // When the queues ran dry last time, listen for a producer's wake-up before dequeuing, so that a task
    // enqueued between an empty dequeue and the wait is not missed until the next poll.
    const wait = this.queuesRanDry ? this.startWaiting(queues, signal) : undefined;
    const dequeuing = broker.dequeue(queues, { count: free, leaseDuration });
    const result = await this.awaitDequeue(dequeuing, signal);
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
      await this.pauseAfterFetchError(result.reason, backoff, signal);
      return;
    }
    const { tasks, malformed } = result.value;
    this.reachability.succeeded();
    backoff.reset();
    if (this.closing.signal.aborted) {
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
    for (const leased of tasks) this.startTask(leased);
    this.queuesRanDry = tasks.length + malformed.length < free;
    if (!this.queuesRanDry || !wait || signal.aborted) {
      wait?.cancel();
      return;
    }
    // Every queue was empty (or paused): wait for a wake-up, or poll again after the interval.
    try {
      const woken = await unlessAborted(wait.woken, signal);
      const elapsed = Date.now() - wait.startedAt;
      // A broker that cannot block returns at once; do not let it turn this loop into a busy loop.
      if (woken === false && elapsed < taskCheckInterval / 2) {
        await sleep(taskCheckInterval - elapsed, signal);
      }
    } catch (error) {
      await this.pauseAfterFetchError(error, backoff, signal);
    }
  }

  private startWaiting(
    queues: readonly string[],
    signal: AbortSignal,
  ): { woken: Promise<boolean>; cancel: () => void; startedAt: number } {
    const { broker, taskCheckInterval } = this.options;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const woken = withTimeout(
      broker.waitForTasks(queues, taskCheckInterval, controller.signal),
      taskCheckInterval + brokerCallTimeout,
      'waitForTasks',
    ).finally(() => signal.removeEventListener('abort', onAbort));
    // A wait that is cancelled, or fails while the dequeue fails too, must not become an unhandled rejection.
    woken.catch(() => undefined);
    return { woken, cancel: () => controller.abort(), startedAt: Date.now() };
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
      const settlement = await settleWithin(dequeuing, slowAnswerThreshold, signal);
      if (settlement.status !== 'timeout') return settlement;
      this.lastFetchAt = Date.now();
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
        withTimeout(broker.requeue(leased.message, fenceOf(leased)), 1000, 'requeue').catch(
          (error: unknown) => {
            logger.warn(
              { taskId: leased.message.id, error: error instanceof Error ? error.message : String(error) },
              'could not hand back a task dequeued after the server stopped fetching; the recoverer will retry it',
            );
          },
        ),
      ),
    );
  }

  private async pauseAfterFetchError(error: unknown, backoff: Backoff, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.reachability.failed(error);
    const wait = backoff.next();
    const now = Date.now();
    if (now - this.lastFetchErrorLog >= fetchErrorLogInterval) {
      this.lastFetchErrorLog = now;
      this.options.logger.warn(
        { error: error instanceof Error ? error.message : String(error), retryInMs: wait },
        'could not fetch tasks from the broker; retrying with backoff',
      );
    }
    await sleep(wait, signal);
  }

  private waitForSlot(timeout: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.slotListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeout);
      signal.addEventListener('abort', done, { once: true });
      this.slotListeners.add(done);
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Running

  private startTask(leased: LeasedTask): void {
    const now = Date.now();
    const entry: ActiveTask = {
      message: leased.message,
      startedAt: now,
      deadline: computeTaskDeadline(leased.message, now),
      controller: new AbortController(),
      fence: fenceOf(leased),
      leaseExpiresAt: leased.leaseExpiresAt,
      settled: false,
      decided: false,
      released: false,
      leaseLost: false,
      abortedAt: undefined,
    };
    this.active.add(entry);
    this.slotsTaken += 1;
    void this.execute(entry)
      .catch((error: unknown) => {
        this.options.logger.error(
          { taskId: entry.message.id, error: error instanceof Error ? error.message : String(error) },
          'unexpected error while running a task',
        );
      })
      .finally(() => {
        this.settle(entry);
        this.active.delete(entry);
        this.notifySlotListeners();
      });
  }

  /**
   * The handler settled (or will never run): its slot is free. The outcome may still be on its way to
   * the broker; that does not hold a slot, so that acknowledgements overlap with the next tasks.
   */
  private settle(entry: ActiveTask): void {
    if (entry.settled) return;
    entry.settled = true;
    this.slotsTaken -= 1;
    this.notifySlotListeners();
  }

  private notifySlotListeners(): void {
    for (const listener of [...this.slotListeners]) listener();
  }

  private async execute(entry: ActiveTask): Promise<void> {
    const { message, controller } = entry;
    const { codec, logger } = this.options;
    const signal = controller.signal;
    let task: Task;
    try {
      task = taskFromMessage(message, codec);
    } catch (error) {
      this.settle(entry);
      const reason = error instanceof Error ? error.message : String(error);
      await this.recordFailure(
        entry,
        new SkipRetry(`the payload could not be decoded by the server's codec: ${reason}`, { cause: error }),
        taskFromMessageLenient(message, codec),
      );
      return;
    }
    const deadlineError = (): TaskAbortedError =>
      entry.deadline.cause === 'timeout'
        ? new TaskAbortedError('timeout', {
            detail: `timeout ${message.timeoutSeconds > 0 ? message.timeoutSeconds : taskDefaults.timeoutMilliseconds / 1000}s`,
          })
        : new TaskAbortedError('deadline', {
            detail: `deadline ${new Date(entry.deadline.at).toISOString()}`,
          });
    if (entry.deadline.at <= Date.now()) {
      // Go Asynq does not start a handler whose context is already done.
      this.settle(entry);
      await this.recordFailure(entry, deadlineError(), task);
      return;
    }
    const cancelTimer = setLongTimeout(
      () => this.abort(entry, deadlineError()),
      entry.deadline.at - Date.now(),
    );

    const context: TaskContext = {
      signal,
      taskId: message.id,
      retryCount: message.retried,
      maxRetry: message.maxRetry,
      queue: message.queue,
      deadline: new Date(entry.deadline.at),
      writeResult: (result) => this.writeResult(entry, result),
    };
    logger.debug({ taskId: message.id, type: message.type, queue: message.queue }, 'task started');
    const handlerDone: Promise<Error | undefined> = (async () => {
      await this.handler.processTask(task, context);
    })().then(
      () => {
        this.settle(entry);
        return undefined;
      },
      (thrown: unknown) => {
        this.settle(entry);
        return toError(thrown);
      },
    );
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const first = await Promise.race([
      handlerDone.then((error) => ({ settled: true as const, error })),
      aborted.then(() => ({ settled: false as const, error: undefined })),
    ]);
    cancelTimer();

    if (first.settled) {
      if (entry.decided) return; // Its lease was lost or it was requeued at shutdown: nothing to record.
      if (first.error === undefined) await this.recordSuccess(entry);
      else await this.recordFailure(entry, first.error, task);
      return;
    }

    // The signal fired before the handler settled. Timeouts and cancellations fail the attempt now, as
    // in Go Asynq; the slot stays taken until the handler settles, whatever it does with the signal.
    const reason: unknown = signal.reason;
    const recording =
      !entry.decided && reason instanceof TaskAbortedError
        ? this.recordFailure(entry, reason, task)
        : Promise.resolve();
    const overdueTimer = setTimeout(() => {
      if (!entry.settled) this.onOverdue(entry);
    }, overdueGracePeriod);
    await Promise.all([recording, handlerDone]);
    clearTimeout(overdueTimer);
    const late = Date.now() - (entry.abortedAt ?? Date.now());
    if (late >= overdueGracePeriod) {
      logger.warn(
        { taskId: message.id, type: message.type, queue: message.queue, settledAfterAbortMs: late },
        'an overdue handler settled at last; its slot is free again and its result was discarded',
      );
    }
  }

  private abort(entry: ActiveTask, reason: TaskAbortedError): void {
    if (entry.settled || entry.abortedAt !== undefined) return;
    entry.abortedAt = Date.now();
    entry.controller.abort(reason);
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
    this.abort(
      entry,
      new TaskAbortedError('lease-lost', { cause: new LeaseLostError(queue, id), detail: why }),
    );
  }

  private async writeResult(entry: ActiveTask, result: Uint8Array): Promise<void> {
    const signal = entry.controller.signal;
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      throw new Error(
        `failed to write task result: ${reason instanceof Error ? reason.message : 'the attempt was aborted'}`,
      );
    }
    if (!(result instanceof Uint8Array)) {
      throw new TypeError(
        'context.writeResult(result): result must be a Uint8Array; encode text with new TextEncoder().encode(text).',
      );
    }
    const { queue, id } = entry.message;
    await withTimeout(this.options.broker.writeResult(queue, id, result), brokerCallTimeout, 'writeResult');
  }

  // -------------------------------------------------------------------------------------------------
  // Outcomes

  private async recordSuccess(entry: ActiveTask): Promise<void> {
    entry.decided = true;
    const { message } = entry;
    const { broker, logger } = this.options;
    const written = await this.write(entry, 'done', () =>
      message.retentionSeconds > 0
        ? broker.markComplete(message, Date.now(), entry.fence)
        : broker.done(message, entry.fence),
    );
    if (written) logger.debug({ taskId: message.id, type: message.type, queue: message.queue }, 'task done');
  }

  private async recordFailure(entry: ActiveTask, error: Error, task: Task): Promise<void> {
    entry.decided = true;
    const { message } = entry;
    const { broker, logger, onError, isFailure } = this.options;
    const fields = {
      taskId: message.id,
      type: message.type,
      queue: message.queue,
      error: errorMessageOf(error),
    };
    if (onError) {
      Promise.resolve()
        .then(() => onError(error, task))
        .catch((handlerError: unknown) => {
          logger.error(
            {
              ...fields,
              onErrorFailure: handlerError instanceof Error ? handlerError.message : String(handlerError),
            },
            'the onError callback threw',
          );
        });
    }
    if (RevokeTask.is(error)) {
      if (await this.write(entry, 'done', () => broker.done(message, entry.fence)))
        logger.info(fields, 'task revoked and deleted');
      return;
    }
    const errorMessage = errorMessageOf(error);
    if (message.retried >= message.maxRetry || SkipRetry.is(error)) {
      const why = SkipRetry.is(error)
        ? 'retry skipped'
        : `retries exhausted (${message.retried}/${message.maxRetry})`;
      if (await this.write(entry, 'archive', () => broker.archive(message, errorMessage, entry.fence))) {
        logger.warn({ ...fields, why }, 'task failed and was archived');
      }
      return;
    }
    let failure = true;
    try {
      failure = Boolean(isFailure(error));
    } catch (predicateError) {
      logger.error(
        {
          ...fields,
          isFailureError: predicateError instanceof Error ? predicateError.message : String(predicateError),
        },
        'the isFailure option threw; counting the error as a failure',
      );
    }
    const delay = computeRetryDelay({
      retryDelay: this.options.retryDelay,
      retried: message.retried,
      error,
      task,
      logger,
    });
    const processAt = retryAt(Date.now(), delay);
    if (
      await this.write(entry, 'retry', () =>
        broker.retry(message, { processAt, errorMessage, isFailure: failure, fence: entry.fence }),
      )
    ) {
      logger.info(
        { ...fields, retryInMs: delay, retried: message.retried },
        'task failed and will be retried',
      );
    }
  }

  /**
   * An outcome write given up on (the lease ended, or shutdown) may still reach the broker when it comes
   * back; the broker's lease fencing decides. Says what happened, since no one else waits for it.
   */
  private reportLateWrite(write: Promise<void>, fields: Record<string, string>): void {
    const { logger } = this.options;
    write.then(
      () =>
        logger.warn(
          fields,
          'a late outcome write reached the broker and was accepted (no other worker held the task)',
        ),
      (error: unknown) => {
        if (error instanceof LeaseLostError) {
          logger.warn(
            { ...fields, error: error.message },
            'a late outcome write was refused by the broker: the lease had passed on (fencing)',
          );
        }
      },
    );
  }

  /**
   * Writes an outcome, retrying while the broker is unreachable for as long as the task's lease lasts
   * (after that the recoverer owns the task, and a late write could undo another server's work).
   */
  private async write(entry: ActiveTask, operation: string, call: () => Promise<void>): Promise<boolean> {
    const { logger } = this.options;
    const fields = { taskId: entry.message.id, queue: entry.message.queue, operation };
    const backoff = new Backoff(100, 1000);
    try {
      for (let attempt = 0; ; attempt += 1) {
        if (entry.leaseLost) return false;
        const remaining = entry.leaseExpiresAt - Date.now();
        if (remaining <= 0) {
          logger.warn(
            fields,
            'the lease ended before the outcome could be written; the recoverer will retry the task',
          );
          return false;
        }
        if (this.closing.signal.aborted) {
          logger.warn(
            fields,
            'shut down before the outcome could be written; the recoverer will retry the task',
          );
          return false;
        }
        // One attempt at a time: an attempt queued while Redis is unreachable still runs when it returns.
        const attemptWrite = call();
        const settlement = await settleWithin(attemptWrite, remaining, this.closing.signal);
        if (settlement.status === 'timeout' || settlement.status === 'aborted') {
          this.reportLateWrite(attemptWrite, fields);
        }
        if (settlement.status === 'fulfilled') {
          this.reachability.succeeded();
          return true;
        }
        if (settlement.status === 'aborted') continue;
        if (settlement.status === 'timeout') {
          this.reachability.failed(
            new BrokerUnavailableError(
              `The broker did not answer ${operation} before the task's lease ended.`,
            ),
          );
          continue;
        }
        const error = settlement.reason;
        if (
          error instanceof LeaseLostError ||
          error instanceof TaskNotFoundError ||
          error instanceof TaskStateError
        ) {
          logger.warn(
            { ...fields, error: error.message },
            'the broker refused the outcome: another server owns the task now',
          );
          return false;
        }
        this.reachability.failed(error);
        if (attempt === 0) {
          logger.warn(
            { ...fields, error: error instanceof Error ? error.message : String(error) },
            'could not write the outcome; retrying while the lease lasts',
          );
        }
        await sleep(backoff.next(), this.closing.signal);
      }
    } finally {
      entry.released = true;
    }
  }
}
