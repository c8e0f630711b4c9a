/**
 * Interceptors run around every `enqueue` and `enqueueMany` of a client, after the tasks were validated
 * and before they reach the broker: to add headers (trace context, tenant, request id), time the write or
 * count what was refused. `@q/otel` is built on them; nothing here knows about any one use.
 */
import { ValidationError, type EnqueueRequest, type TaskInfo } from '@q/core';
import type { EnqueueOutcome } from './client';

/** A task about to be written, as an interceptor sees it. */
export interface OutgoingTask {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
  /** The payload as the codec encoded it. */
  readonly payload: Uint8Array;
  /** The headers stored with the task. An interceptor may add, change or delete entries before `next()`. */
  readonly headers: Record<string, string>;
  /** When the task is due, Unix milliseconds; `undefined` when it is pending at once. */
  readonly processAt: number | undefined;
  /** The aggregation group; empty when none. */
  readonly group: string;
}

/**
 * Wraps the writes of a client. Each method is optional; call `next()` once to write the task(s) and
 * return what it resolves to (or throw). Interceptors run in the order given, the first outermost.
 */
export interface EnqueueInterceptor {
  /** Around `client.enqueue`: `next()` writes the task and resolves with what was stored. */
  enqueue?(task: OutgoingTask, next: () => Promise<TaskInfo>): Promise<TaskInfo>;
  /**
   * Around `client.enqueueMany`, with the tasks that passed validation, in order (tasks refused by
   * validation never reach interceptors). `next()` writes them in one round trip and resolves with one
   * outcome per task, in the same order.
   */
  enqueueMany?(
    tasks: readonly OutgoingTask[],
    next: () => Promise<EnqueueOutcome[]>,
  ): Promise<EnqueueOutcome[]>;
}

type Step<Input, Output> = (input: Input, next: () => Promise<Output>) => Promise<Output>;

/** The interceptors' steps of one kind, outermost first, checked once at construction. */
export interface InterceptorChains {
  enqueue: Step<OutgoingTask, TaskInfo>[];
  enqueueMany: Step<readonly OutgoingTask[], EnqueueOutcome[]>[];
}

export function interceptorChains(interceptors: unknown): InterceptorChains {
  const chains: InterceptorChains = { enqueue: [], enqueueMany: [] };
  if (interceptors === undefined) return chains;
  if (!Array.isArray(interceptors)) {
    throw new ValidationError('interceptors must be an array of { enqueue?, enqueueMany? } objects.', [
      { path: 'interceptors', message: 'not an array' },
    ]);
  }
  interceptors.forEach((interceptor: unknown, index) => {
    const { enqueue, enqueueMany } = (interceptor ?? {}) as Record<string, unknown>;
    const valid =
      typeof interceptor === 'object' &&
      interceptor !== null &&
      (enqueue === undefined || typeof enqueue === 'function') &&
      (enqueueMany === undefined || typeof enqueueMany === 'function') &&
      (enqueue !== undefined || enqueueMany !== undefined);
    if (!valid) {
      throw new ValidationError(
        `interceptors[${index}] must be an object with an enqueue(task, next) and/or enqueueMany(tasks, next) method.`,
        [{ path: `interceptors[${index}]`, message: 'not an interceptor' }],
      );
    }
    const typed = interceptor as EnqueueInterceptor;
    if (typed.enqueue) chains.enqueue.push((task, next) => typed.enqueue!(task, next));
    if (typed.enqueueMany) chains.enqueueMany.push((tasks, next) => typed.enqueueMany!(tasks, next));
  });
  return chains;
}

/** Runs `steps` around `last`, the first step outermost. */
export function intercept<Input, Output>(
  steps: readonly Step<Input, Output>[],
  input: Input,
  last: () => Promise<Output>,
): Promise<Output> {
  const run = (index: number): Promise<Output> => {
    const step = steps[index];
    if (!step) return last();
    let called = false;
    try {
      return Promise.resolve(
        step(input, () => {
          if (called) return Promise.reject(new Error('an enqueue interceptor called next() more than once'));
          called = true;
          return run(index + 1);
        }),
      );
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return run(0);
}

/** The interceptor's view of a request: its headers are the message's own, so changes are written. */
export function outgoingTask({ message, processAt }: EnqueueRequest): OutgoingTask {
  return {
    id: message.id,
    type: message.type,
    queue: message.queue,
    payload: message.payload,
    headers: message.headers,
    processAt,
    group: message.groupKey,
  };
}
