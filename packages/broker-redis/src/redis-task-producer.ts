/** `TaskProducer` on Redis: single and batch enqueue. */
import {
  BatchAbortedError,
  BrokerError,
  type QError,
  ValidationError,
  type EnqueueManyOptions,
  type EnqueueManyResult,
  type EnqueueRequest,
  type EnqueueResult,
  type TaskProducer,
} from '@q/core';
import { enqueueBatchCall, enqueueCall, planEnqueue, refusal, type EnqueuePlan } from './enqueue-plan';
import type { RedisBrokerContext } from './redis-broker-context';
import { toBrokerError } from './redis-errors';
import { replyArray, replyNumber } from './redis-reply';
import { queueScript, runScript, type ScriptCall } from './redis-scripts';

type Planned = { plan: EnqueuePlan; call: ScriptCall } | { error: QError };

export class RedisTaskProducer implements TaskProducer {
  constructor(private readonly context: RedisBrokerContext) {}

  async enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    const now = this.context.now();
    const plan = planEnqueue(this.context.keys, request, now);
    const [code] = await Promise.all([
      runScript(this.context.connection, enqueueCall(plan, now)),
      this.registerQueues([plan.message.queue], now),
    ]);
    const error = refusal(plan, replyNumber(code));
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

  /**
   * Asynq registers the queue name outside the enqueue script (P:queues lives in another cluster slot);
   * the registry keeps that to about one SADD per queue per second instead of one per task.
   */
  private async registerQueues(queues: readonly string[], now: number): Promise<void> {
    const due = this.context.queueRegistry.due(queues, now);
    if (due.length === 0) return;
    await this.context.connection.sadd(this.context.keys.queues, ...due);
    this.context.queueRegistry.registered(due, now);
  }

  /** Every task independently, all in one round trip (one pipeline per queue in a cluster). */
  private async enqueueEach(requests: readonly EnqueueRequest[]): Promise<EnqueueManyResult[]> {
    const now = this.context.now();
    const planned: Planned[] = requests.map((request) => {
      try {
        const plan = planEnqueue(this.context.keys, request, now);
        return { plan, call: enqueueCall(plan, now) };
      } catch (error) {
        return { error: toBrokerError(error, 'enqueue') };
      }
    });
    const valid = planned.filter(
      (entry): entry is { plan: EnqueuePlan; call: ScriptCall } => 'plan' in entry,
    );
    const queues = this.context.queueRegistry.due(
      new Set(valid.map((entry) => entry.plan.message.queue)),
      now,
    );
    const replies = new Map<EnqueuePlan, { error: unknown; reply: unknown }>();
    if (valid.length > 0) {
      // A cluster pipeline must stay within one node: one per queue (one slot each), and P:queues apart.
      const cluster = this.context.connection.isCluster;
      const batches = cluster ? groupByQueue(valid) : [valid];
      await Promise.all([
        cluster ? this.registerQueues(queues, now) : undefined,
        ...batches.map(async (batch) => {
          const pipeline = this.context.connection.pipeline();
          for (const entry of batch) queueScript(pipeline, entry.call);
          if (!cluster && queues.length > 0) pipeline.sadd(this.context.keys.queues, ...queues);
          const results = (await pipeline.exec()) ?? [];
          const registration = results[batch.length];
          if (!cluster && queues.length > 0 && registration && !registration[0]) {
            this.context.queueRegistry.registered(queues, now);
          }
          batch.forEach((entry, index) => {
            const [error, reply] = results[index] ?? [new BrokerError('Redis sent no reply.'), undefined];
            replies.set(entry.plan, { error, reply });
          });
        }),
      ]);
    }
    return planned.map((entry): EnqueueManyResult => {
      if ('error' in entry) return { ok: false, error: entry.error };
      const outcome = replies.get(entry.plan);
      if (!outcome || outcome.error) {
        return { ok: false, error: toBrokerError(outcome?.error ?? 'no reply', 'enqueue') };
      }
      const error = refusal(entry.plan, replyNumber(outcome.reply));
      return error ? { ok: false, error } : { ok: true, result: entry.plan.result };
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
    const [reply] = await Promise.all([
      runScript(this.context.connection, enqueueBatchCall(plans, now)),
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

function groupByQueue<Entry extends { plan: EnqueuePlan }>(entries: readonly Entry[]): Entry[][] {
  const groups = new Map<string, Entry[]>();
  for (const entry of entries) {
    const group = groups.get(entry.plan.message.queue);
    if (group) group.push(entry);
    else groups.set(entry.plan.message.queue, [entry]);
  }
  return [...groups.values()];
}
