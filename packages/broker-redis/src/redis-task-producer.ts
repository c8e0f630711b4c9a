/** `TaskProducer` on Redis: single and batch enqueue. */
import {
  BatchAbortedError,
  QError,
  ValidationError,
  type EnqueueManyOptions,
  type EnqueueManyResult,
  type EnqueueRequest,
  type EnqueueResult,
  type TaskProducer,
} from '@q/core';
import { CallCoalescer, type CallOutcome } from './call-coalescer';
import { sendPlans } from './enqueue-batcher';
import { enqueueBatchCall, planEnqueue, refusal, type EnqueuePlan } from './enqueue-plan';
import type { RedisBrokerContext } from './redis-broker-context';
import { toBrokerError } from './redis-errors';
import { replyArray, replyNumber } from './redis-reply';
import { holdWrites, runScript } from './redis-scripts';

/** Tasks of an `enqueueMany` planned and sent together (see `enqueueEach`). */
const bulkSlice = 50;
/**
 * Coalesced enqueues leave as soon as this many wait, without waiting for the turn to end: with many
 * enqueues in flight, their answers start the next ones all in one turn, and one call for all of them
 * would leave Redis idle while Node prepares them, then Node idle while Redis writes them. Measured with
 * `pnpm bench --scenario enqueue` (100 in flight): one call per turn 52-58k tasks/s, 25 a call 57-66k,
 * 50 a call 58-66k, 64 a call 56-63k.
 */
const eagerBatch = 50;

export class RedisTaskProducer implements TaskProducer {
  private readonly coalescer: CallCoalescer<EnqueuePlan, number>;

  constructor(private readonly context: RedisBrokerContext) {
    this.coalescer = new CallCoalescer((plans, eager) => this.send(plans, eager), eagerBatch);
  }

  /** Coalesced with the other enqueues started at the same time: one script call per queue. */
  async enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    const plan = planEnqueue(this.context.keys, request, this.context.now());
    const error = refusal(plan, await this.coalescer.submit(plan));
    if (error) throw error;
    return plan.result;
  }

  async enqueueMany(
    requests: readonly EnqueueRequest[],
    options: EnqueueManyOptions = {},
  ): Promise<EnqueueManyResult[]> {
    if (!Array.isArray(requests)) {
      throw new ValidationError('enqueueMany takes an array of enqueue requests.', [
        { path: 'requests', message: 'not an array' },
      ]);
    }
    if (requests.length === 0) return [];
    return options.atomic ? this.enqueueAtomically(requests) : this.enqueueEach(requests);
  }

  /** Writes plans (one script call per queue and chunk) and registers their queues, all at once. */
  private async send(plans: readonly EnqueuePlan[], eager: boolean): Promise<CallOutcome<number>[]> {
    const now = this.context.now();
    // A batch that left early goes at once: Redis writes it while Node prepares the next.
    if (!eager) holdWrites(this.context.connection);
    const [outcomes] = await Promise.all([
      sendPlans(this.context.connection, plans, now),
      this.registerQueues(
        plans.map((plan) => plan.message.queue),
        now,
      ),
    ]);
    return outcomes;
  }

  /**
   * Asynq registers the queue name outside the enqueue script (P:queues lives in another cluster slot);
   * the registry keeps that to about one SADD per queue per second instead of one per task.
   */
  private async registerQueues(queues: Iterable<string>, now: number): Promise<void> {
    const due = this.context.queueRegistry.due(new Set(queues), now);
    if (due.length === 0) return;
    try {
      await this.context.connection.sadd(this.context.keys.queues, ...due);
      this.context.queueRegistry.registered(due, now);
    } catch (error) {
      // Sent beside the tasks, not before them: each task's own answer says whether it was stored (a
      // full Redis can take a batch and then refuse this SADD). The next enqueue registers again.
      this.context.logger.warn(
        { queues: due, error: (error as Error).message },
        'Could not add the queue names to the queue list (Asynq tools list queues from it); the next enqueue tries again',
      );
    }
  }

  /**
   * Every task independently. Planned and sent a slice at a time (`bulkSlice` tasks, one script call per
   * queue in the slice): Redis writes one slice while Node plans and encodes the next, instead of
   * waiting for the whole batch to be encoded first.
   */
  private async enqueueEach(requests: readonly EnqueueRequest[]): Promise<EnqueueManyResult[]> {
    const now = this.context.now();
    const planned = new Array<EnqueuePlan | QError>(requests.length);
    const outcomes = new Map<EnqueuePlan, CallOutcome<number>>();
    const slices: Promise<void>[] = [];
    const queues = new Set<string>();
    for (let start = 0; start < requests.length; start += bulkSlice) {
      const plans: EnqueuePlan[] = [];
      for (let index = start; index < Math.min(requests.length, start + bulkSlice); index += 1) {
        try {
          const plan = planEnqueue(this.context.keys, requests[index]!, now);
          planned[index] = plan;
          plans.push(plan);
          queues.add(plan.message.queue);
        } catch (error) {
          planned[index] = toBrokerError(error, 'enqueue');
        }
      }
      if (plans.length === 0) continue;
      slices.push(
        sendPlans(this.context.connection, plans, now).then((answers) => {
          plans.forEach((plan, index) => outcomes.set(plan, answers[index]!));
        }),
      );
    }
    await Promise.all([...slices, this.registerQueues(queues, now)]);
    return planned.map((entry): EnqueueManyResult => {
      if (QError.is(entry)) return { ok: false, error: entry };
      const outcome = outcomes.get(entry);
      if (!outcome?.ok) {
        return { ok: false, error: toBrokerError(outcome ? outcome.error : 'no reply', 'enqueue') };
      }
      const error = refusal(entry, outcome.value);
      return error ? { ok: false, error } : { ok: true, result: entry.result };
    });
  }

  /** All tasks or none, in one script; every task must be in the same queue. */
  private async enqueueAtomically(requests: readonly EnqueueRequest[]): Promise<EnqueueManyResult[]> {
    const now = this.context.now();
    const plans = requests.map((request, index) => {
      try {
        return planEnqueue(this.context.keys, request, now);
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new ValidationError(`requests[${index}]: ${error.message}`, error.issues, { cause: error });
        }
        throw error;
      }
    });
    const queues = new Set(plans.map((plan) => plan.message.queue));
    if (queues.size > 1) {
      throw new ValidationError(
        `An atomic enqueueMany must target one queue, got ${[...queues].map((queue) => `"${queue}"`).join(', ')}; split the batch by queue or drop "atomic".`,
        [{ path: 'requests', message: 'several queues' }],
      );
    }
    holdWrites(this.context.connection);
    const [reply] = await Promise.all([
      runScript(this.context.connection, enqueueBatchCall(plans, now, 'atomic')),
      this.registerQueues([...queues], now),
    ]);
    const [written, ...codes] = replyArray(reply).map(replyNumber);
    const errors = plans.map((plan, index) => refusal(plan, codes[index] ?? 0));
    if (written === 1) {
      return plans.map((plan) => ({ ok: true, result: plan.result }));
    }
    const firstRefused = errors.findIndex((error) => error !== undefined);
    return plans.map((plan, index): EnqueueManyResult => {
      const error = errors[index];
      if (error) return { ok: false, error };
      return {
        ok: false,
        error: new BatchAbortedError(firstRefused, 'requests', { cause: errors[firstRefused] }),
      };
    });
  }
}
