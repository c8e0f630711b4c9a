/**
 * Sends enqueue plans in as few script calls as possible. Plans of one queue travel together in one
 * `enqueue-batch` call ("each" mode: a refused task does not stop the others) of at most
 * `maxEnqueueBatch` tasks; a plan alone in its queue goes as the single-task script.
 *
 * `EnqueueCoalescer` gathers the single enqueues that callers start close together (in the same run of
 * promise jobs, e.g. the callers woken by one batch of replies) into one such send. A lone enqueue waits
 * for nothing: it leaves as soon as the code that started it yields, as ioredis' own auto-pipelining does.
 */
import type { EnqueuePlan } from './enqueue-plan';
import { enqueueBatchCall, enqueueCall } from './enqueue-plan';
import { replyArray, replyNumber } from './redis-reply';
import { runScript, type RedisConnection } from './redis-scripts';

/** The most tasks one script call writes (bounds the script's run time and its argument list). */
export const maxEnqueueBatch = 500;

/** Per plan: the script's code for it (1 written, -1 duplicate, 0 id taken), or why its call failed. */
export type SendOutcome = { code: number } | { error: unknown };

function byQueueInChunks(plans: readonly EnqueuePlan[]): number[][] {
  const groups = new Map<string, number[]>();
  plans.forEach((plan, index) => {
    const group = groups.get(plan.message.queue);
    if (group) group.push(index);
    else groups.set(plan.message.queue, [index]);
  });
  const chunks: number[][] = [];
  for (const indexes of groups.values()) {
    for (let start = 0; start < indexes.length; start += maxEnqueueBatch) {
      chunks.push(indexes.slice(start, start + maxEnqueueBatch));
    }
  }
  return chunks;
}

/** Writes `plans` (any queues), one call per queue and chunk, all sent at once. */
export async function sendPlans(
  connection: RedisConnection,
  plans: readonly EnqueuePlan[],
  now: number,
): Promise<SendOutcome[]> {
  const outcomes = new Array<SendOutcome>(plans.length);
  await Promise.all(
    byQueueInChunks(plans).map(async (indexes) => {
      try {
        if (indexes.length === 1) {
          const index = indexes[0]!;
          outcomes[index] = {
            code: replyNumber(await runScript(connection, enqueueCall(plans[index]!, now))),
          };
          return;
        }
        const call = enqueueBatchCall(
          indexes.map((index) => plans[index]!),
          now,
          'each',
        );
        const [, ...codes] = replyArray(await runScript(connection, call)).map(replyNumber);
        indexes.forEach((planIndex, position) => {
          outcomes[planIndex] = { code: codes[position] ?? 0 };
        });
      } catch (error) {
        for (const index of indexes) outcomes[index] = { error };
      }
    }),
  );
  return outcomes;
}

interface Waiter {
  plan: EnqueuePlan;
  resolve: (code: number) => void;
  reject: (error: unknown) => void;
}

/** Gathers single enqueues started in the same run of promise jobs into one `sendPlans`. */
export class EnqueueCoalescer {
  private waiting: Waiter[] = [];
  private scheduled = false;

  constructor(private readonly send: (plans: readonly EnqueuePlan[]) => Promise<SendOutcome[]>) {}

  /** Resolves with the script's code for `plan`; rejects with its call's error. */
  submit(plan: EnqueuePlan): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ plan, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Runs once the promise jobs queued so far have run: every enqueue they start is in the batch.
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const waiters = this.waiting;
    this.waiting = [];
    this.send(waiters.map((waiter) => waiter.plan)).then(
      (outcomes) => {
        waiters.forEach((waiter, index) => {
          const outcome = outcomes[index];
          if (outcome && 'code' in outcome) waiter.resolve(outcome.code);
          else waiter.reject(outcome?.error ?? new Error('Redis sent no reply for this enqueue.'));
        });
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}
