/**
 * Runs one attempt: decodes the task, starts its handler with a context, keeps its deadline on the
 * server's deadline timer, and hands what happened to the outcome writer. The slot is given back when
 * the handler settles; an attempt aborted first (timeout, deadline, cancel) is failed at once, as in Go
 * Asynq, while its slot stays taken until the handler settles, whatever it does with its signal.
 */
import { LeaseLostError } from '@q/core';
import { taskDefaults } from '@q/core/internal';
import { type ActiveTask, AttemptContext } from './active-task';
import type { DeadlineTimer } from './deadline-timer';
import { toError } from './error-chain';
import type { Handler, Task } from './handler';
import type { OutcomeWriter } from './outcome-writer';
import type { ResolvedServerOptions } from './server-options';
import { SkipRetry } from './skip-retry';
import type { Slots } from './slots';
import { TaskAbortedError } from './task-aborted-error';
import { taskFromMessage, taskFromMessageLenient } from './task-from-message';
import { withTimeout } from './timing';

/** How long an aborted handler may take to settle before it is reported as overdue. */
const overdueGracePeriod = 1000;
/** How long a result write may take before it counts as failed. */
const writeResultTimeout = 10_000;

/** The handler was aborted before it settled. */
const abortedFirst = Symbol('aborted');

export interface TaskRunnerOptions {
  options: ResolvedServerOptions;
  handler: Handler;
  slots: Slots;
  deadlines: DeadlineTimer;
  writer: OutcomeWriter;
  /** A handler ignored its abort signal for longer than the grace period. */
  onOverdue: (task: ActiveTask) => void;
}

export class TaskRunner {
  private readonly options: ResolvedServerOptions;
  private readonly handler: Handler;
  private readonly slots: Slots;
  private readonly deadlines: DeadlineTimer;
  private readonly writer: OutcomeWriter;
  private readonly onOverdue: (task: ActiveTask) => void;
  private readonly writeResultBound = (entry: ActiveTask, result: Uint8Array): Promise<void> =>
    this.writeResult(entry, result);

  constructor({ options, handler, slots, deadlines, writer, onOverdue }: TaskRunnerOptions) {
    this.options = options;
    this.handler = handler;
    this.slots = slots;
    this.deadlines = deadlines;
    this.writer = writer;
    this.onOverdue = onOverdue;
  }

  /** Resolves once the handler settled and the outcome was written (or given up on). */
  async run(entry: ActiveTask): Promise<void> {
    const { message } = entry;
    const { codec, logger } = this.options;
    let task: Task;
    try {
      task = taskFromMessage(message, codec);
    } catch (error) {
      this.settle(entry);
      const reason = error instanceof Error ? error.message : String(error);
      await this.writer.recordFailure(
        entry,
        new SkipRetry(`the payload could not be decoded by the server's codec: ${reason}`, { cause: error }),
        taskFromMessageLenient(message, codec),
      );
      return;
    }
    if (entry.deadline.at <= this.options.clock.now()) {
      // Go Asynq does not start a handler whose context is already done.
      this.settle(entry);
      await this.writer.recordFailure(entry, deadlineError(entry), task);
      return;
    }
    entry.deadlineEntry = this.deadlines.schedule(entry.deadline.at, () =>
      this.abort(entry, deadlineError(entry)),
    );
    logger.debug({ taskId: message.id, type: message.type, queue: message.queue }, 'task started');
    const first = await this.handlerOrAbort(entry, task);
    if (entry.deadlineEntry) this.deadlines.cancel(entry.deadlineEntry);
    entry.deadlineEntry = undefined;

    if (first !== abortedFirst) {
      if (entry.decided) return; // Its lease was lost or it was requeued at shutdown: nothing to record.
      if (first === undefined) await this.writer.recordSuccess(entry);
      else await this.writer.recordFailure(entry, first, task);
      return;
    }

    // Aborted before the handler settled. Timeouts and cancellations fail the attempt now, as in Go
    // Asynq; the slot stays taken until the handler settles, whatever it does with the signal.
    const reason = entry.abortReason;
    const recording =
      !entry.decided && reason instanceof TaskAbortedError
        ? this.writer.recordFailure(entry, reason, task)
        : Promise.resolve();
    const { clock } = this.options;
    const overdueTimer = clock.setTimeout(() => {
      if (!entry.settled) this.onOverdue(entry);
    }, overdueGracePeriod);
    await Promise.all([recording, this.handlerSettled(entry)]);
    clock.clearTimeout(overdueTimer);
    const now = clock.now();
    const late = now - (entry.abortedAt ?? now);
    if (late >= overdueGracePeriod) {
      logger.warn(
        { taskId: message.id, type: message.type, queue: message.queue, settledAfterAbortMs: late },
        'an overdue handler settled at last; its slot is free again and its result was discarded',
      );
    }
  }

  /** Stops the attempt (once): its signal aborts with `reason`, and the runner stops waiting for it. */
  abort(entry: ActiveTask, reason: TaskAbortedError): void {
    if (entry.settled || entry.abortedAt !== undefined) return;
    entry.abortedAt = this.options.clock.now();
    entry.abortReason = reason;
    entry.controller?.abort(reason);
    entry.onAbort?.();
  }

  /** The handler settled (or will never run): its slot is free. */
  settle(entry: ActiveTask): void {
    if (entry.settled) return;
    entry.settled = true;
    this.slots.release();
    const onSettled = entry.onSettled;
    entry.onSettled = undefined;
    onSettled?.();
  }

  /** Starts the handler; resolves with its error (undefined on success), or `abortedFirst`. */
  private handlerOrAbort(entry: ActiveTask, task: Task): Promise<Error | undefined | typeof abortedFirst> {
    return new Promise((resolve) => {
      entry.onAbort = () => {
        entry.onAbort = undefined;
        resolve(abortedFirst);
      };
      let handled: Promise<void>;
      try {
        handled = Promise.resolve(
          this.handler.processTask(task, new AttemptContext(entry, this.writeResultBound)),
        );
      } catch (thrown) {
        handled = Promise.reject(toError(thrown));
      }
      handled.then(
        () => {
          entry.onAbort = undefined;
          this.settle(entry);
          resolve(undefined);
        },
        (thrown: unknown) => {
          entry.onAbort = undefined;
          this.settle(entry);
          resolve(toError(thrown));
        },
      );
      // Aborted before its handler could start (a cancel that came first): it still runs, as in Go.
      if (entry.abortReason !== undefined) entry.onAbort?.();
    });
  }

  private handlerSettled(entry: ActiveTask): Promise<void> {
    if (entry.settled) return Promise.resolve();
    return new Promise((resolve) => {
      entry.onSettled = resolve;
    });
  }

  private async writeResult(entry: ActiveTask, result: Uint8Array): Promise<void> {
    const reason = entry.abortReason;
    if (reason !== undefined) {
      throw new Error(`failed to write task result: ${reason.message}`);
    }
    if (!(result instanceof Uint8Array)) {
      throw new TypeError(
        'context.writeResult(result): result must be a Uint8Array; encode text with new TextEncoder().encode(text).',
      );
    }
    const { queue, id } = entry.message;
    await withTimeout(
      this.options.clock,
      this.options.broker.writeResult(queue, id, result),
      writeResultTimeout,
      'writeResult',
    );
  }
}

/** Why the attempt ran out of time: its timeout or its deadline. */
function deadlineError(entry: ActiveTask): TaskAbortedError {
  const { message } = entry;
  return entry.deadline.cause === 'timeout'
    ? new TaskAbortedError('timeout', {
        detail: `timeout ${message.timeoutSeconds > 0 ? message.timeoutSeconds : taskDefaults.timeoutMilliseconds / 1000}s`,
      })
    : new TaskAbortedError('deadline', { detail: `deadline ${new Date(entry.deadline.at).toISOString()}` });
}

/** The abort reason for a task whose lease the broker no longer holds. */
export function leaseLostError(queue: string, taskId: string, why: string): TaskAbortedError {
  return new TaskAbortedError('lease-lost', { cause: new LeaseLostError(queue, taskId), detail: why });
}
