/**
 * Records what became of an attempt (done, retried, archived, revoked) and writes it to the broker,
 * retrying while the broker is unreachable for as long as the task's lease lasts: after that the
 * recoverer owns the task, and a late write could undo another server's work.
 *
 * The first write of an outcome has no timer of its own (it is one per finished task): the lease keeper
 * interrupts it when the lease runs out, and the shutdown deadline interrupts it too. Writes that failed
 * once are retried with a timer bounded by the lease.
 */
import {
  BrokerUnavailableError,
  flowKeyHeader,
  hasFlowControl,
  LeaseLostError,
  TaskNotFoundError,
  TaskStateError,
} from '@q/core';
import type { ActiveTask } from './active-task';
import { Backoff } from './backoff';
import type { BrokerReachability } from './broker-reachability';
import { errorMessageOf } from './error-chain';
import type { Task } from './handler';
import { decideFailure } from './outcome-policy';
import { RateLimitedError } from './rate-limited-error';
import type { ResolvedServerOptions } from './server-options';
import { type Settlement, settleWithin, sleep } from './timing';

type WriteSettlement = Settlement<void>;
const fulfilled: WriteSettlement = { status: 'fulfilled', value: undefined };
const interrupted: WriteSettlement = { status: 'aborted' };

export class OutcomeWriter {
  constructor(
    private readonly options: ResolvedServerOptions,
    private readonly reachability: BrokerReachability,
    /** Aborted once the shutdown deadline passed: writes stop retrying. */
    private readonly closing: AbortSignal,
  ) {}

  async recordSuccess(entry: ActiveTask): Promise<void> {
    entry.decided = true;
    const { message, fence } = entry;
    const { broker, logger } = this.options;
    const written = await this.write(entry, 'done', () =>
      message.retentionSeconds > 0
        ? broker.markComplete(message, this.options.clock.now(), fence)
        : broker.done(message, fence),
    );
    if (written) logger.debug({ taskId: message.id, type: message.type, queue: message.queue }, 'task done');
  }

  async recordFailure(entry: ActiveTask, error: Error, task: Task): Promise<void> {
    entry.decided = true;
    const { message, fence } = entry;
    const { broker, logger, onError } = this.options;
    const fields = {
      taskId: message.id,
      type: message.type,
      queue: message.queue,
      attempt: message.retried + 1,
      error: errorMessageOf(error),
    };
    if (onError) this.callOnError(onError, error, task, fields);
    const rateLimited = RateLimitedError.find(error);
    if (rateLimited) {
      await this.recordRateLimited(entry, rateLimited, fields);
      return;
    }
    const outcome = decideFailure(
      { error, task, message, now: this.options.clock.now() },
      this.options,
      logger,
    );
    switch (outcome.kind) {
      case 'revoke':
        if (await this.write(entry, 'done', () => broker.done(message, fence))) {
          logger.info(fields, 'task revoked and deleted');
        }
        return;
      case 'archive':
        if (await this.write(entry, 'archive', () => broker.archive(message, outcome.errorMessage, fence))) {
          logger.warn({ ...fields, why: outcome.why }, 'task failed and was archived');
        }
        return;
      case 'retry': {
        const { processAt, errorMessage, isFailure, delay } = outcome;
        const retried = await this.write(entry, 'retry', () =>
          broker.retry(message, { processAt, errorMessage, isFailure, fence }),
        );
        if (retried) {
          logger.info(
            { ...fields, retryInMs: delay, retried: message.retried },
            'task failed and will be retried',
          );
        }
      }
    }
  }

  /**
   * The handler said "come back in N": with flow control the queue pauses for every server and the task
   * goes back to the head of pending; without, the task alone is retried after N. No retry is spent.
   */
  private async recordRateLimited(
    entry: ActiveTask,
    rateLimited: { retryAfter: number; scope?: 'queue' | 'flowKey' },
    fields: Record<string, string | number>,
  ): Promise<void> {
    const { message, fence } = entry;
    const { broker, logger } = this.options;
    const { retryAfter } = rateLimited;
    if (hasFlowControl(broker)) {
      const flowKey = rateLimited.scope === 'flowKey' ? message.headers[flowKeyHeader] : undefined;
      // Paused before the task goes back, so that no server takes it again before the pause.
      const paused = await this.write(entry, 'pauseFlow', () =>
        broker.pauseFlow(message.queue, retryAfter, flowKey),
      );
      entry.released = false;
      if (!paused) return;
      if (await this.write(entry, 'requeue', () => broker.requeue(message, fence))) {
        logger.info(
          { ...fields, retryInMs: retryAfter, ...(flowKey === undefined ? {} : { flowKey }) },
          flowKey === undefined
            ? 'task rate limited by its handler; it went back to the queue, which waits on every server'
            : "task rate limited by its handler; it went back to the queue, and its flow key's tasks wait on every server",
        );
      }
      return;
    }
    const retried = await this.write(entry, 'retry', () =>
      broker.retry(message, {
        processAt: this.options.clock.now() + retryAfter,
        errorMessage: String(fields.error),
        isFailure: false,
        fence,
      }),
    );
    if (retried) {
      logger.info(
        { ...fields, retryInMs: retryAfter },
        'task rate limited by its handler; it is retried later without spending a retry',
      );
    }
  }

  private callOnError(
    onError: NonNullable<ResolvedServerOptions['onError']>,
    error: Error,
    task: Task,
    fields: Record<string, string | number>,
  ): void {
    Promise.resolve()
      .then(() => onError(error, task))
      .catch((handlerError: unknown) => {
        this.options.logger.error(
          {
            ...fields,
            onErrorFailure: handlerError instanceof Error ? handlerError.message : String(handlerError),
          },
          'the onError callback threw',
        );
      });
  }

  /**
   * Writes an outcome, retrying while the broker is unreachable for as long as the task's lease lasts.
   * Returns whether the broker took it.
   */
  private async write(entry: ActiveTask, operation: string, call: () => Promise<void>): Promise<boolean> {
    const { clock, logger } = this.options;
    let backoff: Backoff | undefined;
    try {
      for (let attempt = 0; ; attempt += 1) {
        if (entry.leaseLost) return false;
        const remaining = entry.leaseExpiresAt - clock.now();
        if (remaining <= 0) {
          logger.warn(
            this.fields(entry, operation),
            'the lease ended before the outcome could be written; the recoverer will retry the task',
          );
          return false;
        }
        if (this.closing.aborted) {
          logger.warn(
            this.fields(entry, operation),
            'shut down before the outcome could be written; the recoverer will retry the task',
          );
          return false;
        }
        // One attempt at a time: an attempt queued while Redis is unreachable still runs when it returns.
        const attemptWrite = call();
        const settlement =
          attempt === 0
            ? await this.settleOrInterrupt(entry, attemptWrite)
            : await settleWithin(clock, attemptWrite, remaining, this.closing);
        if (settlement.status === 'fulfilled') {
          this.reachability.succeeded();
          return true;
        }
        if (settlement.status === 'timeout' || settlement.status === 'aborted') {
          this.reportLateWrite(attemptWrite, this.fields(entry, operation));
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
            { ...this.fields(entry, operation), error: error.message },
            'the broker refused the outcome: another server owns the task now',
          );
          return false;
        }
        this.reachability.failed(error);
        if (attempt === 0) {
          logger.warn(
            {
              ...this.fields(entry, operation),
              error: error instanceof Error ? error.message : String(error),
            },
            'could not write the outcome; retrying while the lease lasts',
          );
        }
        backoff ??= new Backoff(100, 1000);
        await sleep(clock, backoff.next(), this.closing);
      }
    } finally {
      entry.released = true;
    }
  }

  /** How the write settles, or `aborted` when the lease keeper or the shutdown interrupts the wait. */
  private settleOrInterrupt(entry: ActiveTask, write: Promise<void>): Promise<WriteSettlement> {
    if (this.closing.aborted) return Promise.resolve(interrupted);
    return new Promise((resolve) => {
      const finish = (settlement: WriteSettlement): void => {
        if (entry.interruptWrite === interrupt) entry.interruptWrite = undefined;
        resolve(settlement);
      };
      const interrupt = (): void => finish(interrupted);
      entry.interruptWrite = interrupt;
      write.then(
        () => finish(fulfilled),
        (reason: unknown) => finish({ status: 'rejected', reason }),
      );
    });
  }

  private fields(entry: ActiveTask, operation: string): Record<string, string> {
    return { taskId: entry.message.id, queue: entry.message.queue, operation };
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
}
