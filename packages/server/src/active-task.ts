/**
 * A task taken from the broker, from its dequeue until its handler settled and its outcome was written,
 * and the context its handler sees. Built to be cheap per task: the handler's `AbortSignal` and its
 * `deadline` Date are made only when the handler reads them.
 */
import type { LeaseFence, LeasedTask, TaskMessage } from '@q/core';
import type { Deadline } from './deadline-timer';
import type { TaskContext } from './handler';
import type { TaskAbortedError } from './task-aborted-error';
import type { TaskDeadline } from './task-deadline';

export interface ActiveTask {
  readonly message: TaskMessage;
  readonly startedAt: number;
  /** When the handler's time runs out, and whether its timeout or its deadline ends it. */
  readonly deadline: TaskDeadline;
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
  /** When the attempt was aborted, and why. */
  abortedAt: number | undefined;
  abortReason: TaskAbortedError | undefined;
  /** The handler's abort controller, made when the handler first reads `context.signal`. */
  controller: AbortController | undefined;
  /** The deadline's place in the server's deadline timer while the handler runs. */
  deadlineEntry: Deadline | undefined;
  /** Woken when the attempt is aborted (set while the runner waits for the handler). */
  onAbort: (() => void) | undefined;
  /** Woken when the handler settles (set while the runner waits for it after an abort). */
  onSettled: (() => void) | undefined;
  /** Wakes an outcome write waiting on the broker, so that it looks again at the lease and the shutdown. */
  interruptWrite: (() => void) | undefined;
}

function fenceOf(leased: LeasedTask): LeaseFence {
  return leased.leaseToken === undefined ? {} : { token: leased.leaseToken };
}

export function createActiveTask(leased: LeasedTask, deadline: TaskDeadline, now: number): ActiveTask {
  return {
    message: leased.message,
    startedAt: now,
    deadline,
    fence: fenceOf(leased),
    leaseExpiresAt: leased.leaseExpiresAt,
    settled: false,
    decided: false,
    released: false,
    leaseLost: false,
    abortedAt: undefined,
    abortReason: undefined,
    controller: undefined,
    deadlineEntry: undefined,
    onAbort: undefined,
    onSettled: undefined,
    interruptWrite: undefined,
  };
}

/** The task's abort signal, made on first use and already aborted when the attempt was. */
export function signalOf(entry: ActiveTask): AbortSignal {
  if (entry.controller === undefined) {
    entry.controller = new AbortController();
    if (entry.abortReason !== undefined) entry.controller.abort(entry.abortReason);
  }
  return entry.controller.signal;
}

/**
 * What a handler receives as its context. Its `signal`, `deadline` and `writeResult` live on the class
 * (getters made on first read), so a context costs one small object per attempt; pass it on as it is
 * rather than spreading it into a new object, which would leave those three behind.
 */
export class AttemptContext implements TaskContext {
  readonly taskId: string;
  readonly retryCount: number;
  readonly maxRetry: number;
  readonly queue: string;
  readonly #entry: ActiveTask;
  readonly #resultWriter: (entry: ActiveTask, result: Uint8Array) => Promise<void>;
  #deadline: Date | undefined;

  constructor(entry: ActiveTask, resultWriter: (entry: ActiveTask, result: Uint8Array) => Promise<void>) {
    this.#entry = entry;
    this.#resultWriter = resultWriter;
    const { message } = entry;
    this.taskId = message.id;
    this.retryCount = message.retried;
    this.maxRetry = message.maxRetry;
    this.queue = message.queue;
  }

  get signal(): AbortSignal {
    return signalOf(this.#entry);
  }

  get deadline(): Date {
    this.#deadline ??= new Date(this.#entry.deadline.at);
    return this.#deadline;
  }

  writeResult(result: Uint8Array): Promise<void> {
    return this.#resultWriter(this.#entry, result);
  }
}
