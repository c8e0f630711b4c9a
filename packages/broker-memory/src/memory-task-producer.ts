/** `TaskProducer` in memory: single and batch enqueue, decided in full before anything is written. */
import { createHash } from 'node:crypto';
import {
  BatchAbortedError,
  DuplicateTaskError,
  QError,
  TaskIdConflictError,
  ValidationError,
  type EnqueueManyOptions,
  type EnqueueManyResult,
  type EnqueueRequest,
  type EnqueueResult,
  type TaskProducer,
} from '@q/core';
import { assertEnqueueRequest } from '@q/core/internal';
import { copyMessage, type TaskRecord } from './memory-queue';
import { invalid, type MemoryStore } from './memory-store';

export class MemoryTaskProducer implements TaskProducer {
  constructor(private readonly store: MemoryStore) {}

  enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    return this.store.run('enqueue', () => {
      const now = this.store.clock.now();
      const plan = this.#plan(request, now);
      const refusal = this.#refusal(plan, now);
      if (refusal) throw refusal;
      this.#write(plan, now);
      return plan.result;
    });
  }

  enqueueMany(
    requests: readonly EnqueueRequest[],
    options: EnqueueManyOptions = {},
  ): Promise<EnqueueManyResult[]> {
    return this.store.run('enqueueMany', () => {
      const given: unknown = requests;
      if (!Array.isArray(given)) {
        throw invalid('requests', 'enqueueMany takes an array of enqueue requests.');
      }
      const now = this.store.clock.now();
      if (options.atomic === true) return this.#enqueueAtomically(requests, now);
      return requests.map((request): EnqueueManyResult => {
        try {
          const plan = this.#plan(request, now);
          const refusal = this.#refusal(plan, now);
          if (refusal) return { ok: false, error: refusal };
          this.#write(plan, now);
          return { ok: true, result: plan.result };
        } catch (error) {
          if (QError.is(error)) return { ok: false, error };
          throw error;
        }
      });
    });
  }

  #enqueueAtomically(requests: readonly EnqueueRequest[], now: number): EnqueueManyResult[] {
    const plans = requests.map((request, index) => {
      try {
        return this.#plan(request, now);
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new ValidationError(`requests[${index}]: ${error.message}`, error.issues, { cause: error });
        }
        throw error;
      }
    });
    const queues = new Set(plans.map((plan) => plan.record.message.queue));
    if (queues.size > 1) {
      throw invalid(
        'requests',
        `An atomic enqueueMany must target one queue, got ${[...queues].map((queue) => `"${queue}"`).join(', ')}; split the batch by queue or drop "atomic".`,
      );
    }
    // Check the whole batch as if it were written in order (ids and locks it takes itself count too).
    const takenIds = new Set<string>();
    const takenLocks = new Set<string>();
    const refusals = plans.map((plan) => {
      const { message } = plan.record;
      const refusal =
        this.#refusal(plan, now) ??
        (takenIds.has(message.id)
          ? new TaskIdConflictError(message.queue, message.id)
          : message.uniqueKey && takenLocks.has(message.uniqueKey)
            ? new DuplicateTaskError(message.queue, message.type)
            : undefined);
      takenIds.add(message.id);
      if (message.uniqueKey) takenLocks.add(message.uniqueKey);
      return refusal;
    });
    const firstRefused = refusals.findIndex((refusal) => refusal !== undefined);
    if (firstRefused < 0) {
      for (const plan of plans) this.#write(plan, now);
      return plans.map((plan) => ({ ok: true, result: plan.result }));
    }
    return refusals.map((refusal): EnqueueManyResult => ({
      ok: false,
      error: refusal ?? new BatchAbortedError(firstRefused, 'requests', { cause: refusals[firstRefused] }),
    }));
  }

  /** Validates a request and decides where it goes; changes nothing. */
  #plan(request: EnqueueRequest, now: number): PlannedEnqueue {
    assertEnqueueRequest(request);
    const { processAt, uniqueTtl } = request;
    const scheduled = processAt !== undefined && processAt > now;
    const message = copyMessage(request.message);
    message.uniqueKey =
      uniqueTtl === undefined
        ? ''
        : `${message.queue}:unique:${message.type}:${createHash('md5').update(message.payload).digest('hex')}`;
    const record: TaskRecord = {
      message,
      state: scheduled ? 'scheduled' : message.groupKey ? 'aggregating' : 'pending',
    };
    const result: EnqueueResult = { message: copyMessage(message), state: record.state };
    if (record.state === 'pending') result.nextProcessAt = now;
    if (scheduled) {
      record.processAt = processAt;
      result.nextProcessAt = processAt;
    }
    // A scheduled task's lock covers its wait too, as in Asynq.
    const uniqueLockUntil =
      uniqueTtl === undefined ? undefined : (scheduled ? processAt : now) + Math.ceil(uniqueTtl);
    return { record, result, uniqueLockUntil };
  }

  #refusal(plan: PlannedEnqueue, now: number): QError | undefined {
    const { message } = plan.record;
    if (this.store.queues.get(message.queue)?.tasks.has(message.id)) {
      return new TaskIdConflictError(message.queue, message.id);
    }
    if (message.uniqueKey) {
      const lock = this.store.uniqueLocks.get(message.uniqueKey);
      if (lock && lock.expiresAt > now) return new DuplicateTaskError(message.queue, message.type);
      // An expired lock is gone, as a key whose time to live ran out.
      if (lock) this.store.uniqueLocks.delete(message.uniqueKey);
    }
    return undefined;
  }

  #write(plan: PlannedEnqueue, now: number): void {
    const { record } = plan;
    const { message } = record;
    const queue = this.store.queue(message.queue);
    this.store.registered.add(message.queue);
    if (plan.uniqueLockUntil !== undefined) {
      this.store.uniqueLocks.set(message.uniqueKey, { taskId: message.id, expiresAt: plan.uniqueLockUntil });
    }
    queue.tasks.set(message.id, record);
    if (record.state === 'aggregating') {
      queue.addToGroup(record, now);
    } else if (record.state === 'pending') {
      record.pendingSince = now;
      queue.pending.push(message.id);
      this.store.wake(queue.name);
    }
  }
}

interface PlannedEnqueue {
  record: TaskRecord;
  result: EnqueueResult;
  uniqueLockUntil: number | undefined;
}
